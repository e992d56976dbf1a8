/**
 * Secret rotation settings: `apps.<id>.rotation` in a stack file, their defaults, and the rotation
 * clock. (The stack's top-level `secrets` key holds external secret values; these are not values.)
 *
 *   apps:
 *     fdts:
 *       rotation:
 *         periodDays: 90          # scheduled rotation of every generated secret
 *         generation: 1           # bump in an incident: every secret of the app rotates at once
 *         recoveryWindowDays: 30  # Secrets Manager's wait before a deleted secret is gone
 *
 * The clock (config/rotationClock.ts) is when the program runs, unless a preview or a test sets it: the
 * window each secret is in is counted from it, so the first `pulumi up` after a window ends rotates and
 * no other run does.
 */
import { z } from "zod";
import type { AppDefinition } from "../apps/types";

/**
 * The defaults of this area, pinned by test/config/rotation.test.ts.
 * - periodDays 90: FairLens "**Quarterly**: Review and rotate secrets/keys" (000 line 174), the only
 *   period any of the five runbooks gives; the others name none (requirements extract FL-A7, LMS-A10,
 *   FD-A12), so the same quarter is the default for every app rather than never rotating.
 * - generation 0: no incident yet.
 * - recoveryWindowDays 30: Secrets Manager's own default and longest window (7 to 30 days), so a
 *   secret deleted by mistake can be restored for a month.
 */
export const ROTATION_DEFAULTS = { periodDays: 90, generation: 0, recoveryWindowDays: 30 } as const;

const whole = (what: string) => z.number({ error: `must be a whole number of ${what}` }).int({ error: `must be a whole number of ${what}` });

export const rotationConfig = z
  .strictObject({
    periodDays: whole("days").min(1, { error: "must be at least 1 (day)" }).max(365, { error: "must be at most 365 (days)" }).optional(),
    generation: whole("rotations").min(0, { error: "must be at least 0" }).max(1_000_000, { error: "must be at most 1000000" }).optional(),
    recoveryWindowDays: whole("days").min(7, { error: "must be from 7 to 30 (Secrets Manager's recovery window)" }).max(30, { error: "must be from 7 to 30 (Secrets Manager's recovery window)" }).optional(),
  })
  .optional();

export type RotationConfig = z.infer<typeof rotationConfig>;

/** An app's rotation settings, resolved (AppSpec.rotation). */
export interface RotationSpec {
  /** The rotation clock: when this run happens, in ms since the Unix epoch (config/secrets.ts `rotationClock`). */
  readonly now: number;
  /** The incident generation: raising it makes every generated secret of the app new at once. */
  readonly generation: number;
  /** Days between scheduled rotations of a generated secret without a period of its own. */
  readonly periodDays: number;
  /** Periods the runbook sets for named secrets, in days. */
  readonly periods: Readonly<Record<string, number>>;
  /** Days Secrets Manager keeps a deleted secret recoverable. */
  readonly recoveryWindowDays: number;
}

/** An app's rotation, resolved: the stack's settings over the runbook's periods over ROTATION_DEFAULTS. */
export function resolveRotation(def: AppDefinition, config: RotationConfig, now: number): RotationSpec {
  const rules = def.requirements.rotation ?? {};
  const named = Object.entries(rules).filter(([name]) => name !== "*");
  return {
    now,
    generation: config?.generation ?? ROTATION_DEFAULTS.generation,
    periodDays: config?.periodDays ?? rules["*"]?.value ?? ROTATION_DEFAULTS.periodDays,
    periods: Object.fromEntries(named.map(([name, rule]) => [name, config?.periodDays ?? rule.value])),
    recoveryWindowDays: config?.recoveryWindowDays ?? ROTATION_DEFAULTS.recoveryWindowDays,
  };
}
