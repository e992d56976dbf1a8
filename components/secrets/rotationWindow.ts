/**
 * Rotation windows: pure arithmetic from a clock to the keepers of every generated value. No Pulumi
 * resources here; AppSecrets gives these keepers to @pulumi/random, which makes a new value exactly
 * when its keepers change (terraform-provider-random resource_bytes.go: `keepers` RequiresReplace,
 * and `Read` does nothing, so a refresh never changes a value).
 *
 * Time is cut into windows of `periodDays` counted from ROTATION_EPOCH: window
 * w = floor((now - epoch) / period). A single-slot secret's keepers name w, so it changes at every
 * boundary. A two-slot secret keeps slots `a` and `b`: slot `a` is written in even windows, `b` in odd
 * ones, and each slot's keepers name the last window it was written in. Crossing a boundary changes
 * exactly one slot (the one written in the new window, which becomes current); the other keeps the
 * value of the window before (previous). The incident generation is in every keeper, so bumping it
 * changes every value at once.
 */
import { KEEPER, type SecretKind } from "../../policies/secrets/kinds";

/** Windows start at midnight UTC on Monday 1 January 2024, then every period. */
export const ROTATION_EPOCH_MS = Date.UTC(2024, 0, 1);
export const DAY_MS = 86_400_000;

export type Slot = "a" | "b";
export const SLOTS: readonly Slot[] = ["a", "b"];

/** The clock and settings one secret rotates by. */
export interface RotationClock {
  /** When this run happens, in ms since the Unix epoch. */
  readonly now: number;
  readonly periodDays: number;
  readonly generation: number;
}

/** What a secret is: its app, its name (the variable), and its kind. */
export interface SecretIdentity {
  readonly app: string;
  readonly name: string;
  readonly kind: SecretKind;
}

/** Why a clock or period cannot be used, or undefined. */
export function clockProblem(clock: RotationClock): string | undefined {
  if (!Number.isFinite(clock.now)) return `the clock must be a time (got ${clock.now})`;
  if (!Number.isInteger(clock.periodDays) || clock.periodDays < 1) return `the period must be a whole number of days, at least 1 (got ${clock.periodDays})`;
  if (!Number.isInteger(clock.generation) || clock.generation < 0) return `the generation must be a whole number, at least 0 (got ${clock.generation})`;
  return undefined;
}

/** The window a time falls in: floor((now - epoch) / period). Negative before the epoch. */
export function windowIndex(now: number, periodDays: number): number {
  return Math.floor((now - ROTATION_EPOCH_MS) / (periodDays * DAY_MS));
}

/** When a window starts, in ms since the Unix epoch. */
export const windowStart = (window: number, periodDays: number): number => ROTATION_EPOCH_MS + window * periodDays * DAY_MS;

const mod2 = (n: number): 0 | 1 => (((n % 2) + 2) % 2) as 0 | 1;

/** The slot a window writes (and makes current): `a` in even windows, `b` in odd ones. */
export const writtenSlot = (window: number): Slot => SLOTS[mod2(window)]!;
export const otherSlot = (slot: Slot): Slot => (slot === "a" ? "b" : "a");

/** The last window, at or before `window`, in which `slot` was written. */
export function slotWindow(window: number, slot: Slot): number {
  return window - mod2(window - SLOTS.indexOf(slot));
}

/**
 * The keepers of one generated value. `slot` for a two-slot secret (JWT keys, database roles);
 * without it the value is single-slot and changes every window.
 */
export function rotationKeepers(secret: SecretIdentity, clock: RotationClock, slot?: Slot): Record<string, string> {
  const window = windowIndex(clock.now, clock.periodDays);
  return {
    [KEEPER.app]: secret.app,
    [KEEPER.secret]: secret.name,
    [KEEPER.kind]: secret.kind,
    [KEEPER.periodDays]: String(clock.periodDays),
    [KEEPER.window]: String(slot === undefined ? window : slotWindow(window, slot)),
    [KEEPER.generation]: String(clock.generation),
    ...(slot !== undefined && { [KEEPER.slot]: slot }),
  };
}

/** Where a secret stands at a clock: what the stack reports as rotation state (no values). */
export interface SecretRotationState {
  readonly periodDays: number;
  readonly window: number;
  /** When the current window started and the next one starts (the next scheduled rotation), ISO 8601. */
  readonly windowStart: string;
  readonly nextRotation: string;
  /** For a two-slot secret: which slot holds the current value (the other holds the previous one). */
  readonly currentSlot?: Slot;
}

export function rotationState(clock: RotationClock, twoSlots: boolean): SecretRotationState {
  const window = windowIndex(clock.now, clock.periodDays);
  return {
    periodDays: clock.periodDays,
    window,
    windowStart: new Date(windowStart(window, clock.periodDays)).toISOString(),
    nextRotation: new Date(windowStart(window + 1, clock.periodDays)).toISOString(),
    ...(twoSlots && { currentSlot: writtenSlot(window) }),
  };
}
