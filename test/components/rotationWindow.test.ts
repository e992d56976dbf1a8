/**
 * Rotation windows as properties (fast-check): the keepers AppSecrets gives @pulumi/random, over
 * random clocks, periods, generations and sets of secrets. A value changes exactly when its keepers
 * do, so these are statements about which secrets a `pulumi up` at a given time rotates.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DAY_MS,
  ROTATION_EPOCH_MS,
  SLOTS,
  otherSlot,
  rotationKeepers,
  rotationState,
  slotWindow,
  windowIndex,
  windowStart,
  writtenSlot,
  type RotationClock,
  type SecretIdentity,
  type Slot,
} from "../../components/secrets/rotationWindow";
import { SECRET_KINDS } from "../../policies/secrets/kinds";

const RUNS = { numRuns: 300, seed: 20261125 };

/** Clocks from 2020 to 2040: before and after the epoch. */
const time = fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2040, 0, 1) });
const period = fc.integer({ min: 1, max: 365 });
const generation = fc.integer({ min: 0, max: 1000 });

interface Secret extends SecretIdentity {
  readonly twoSlots: boolean;
}
const secrets: fc.Arbitrary<Secret[]> = fc.uniqueArray(
  fc.record({
    app: fc.constantFrom("fairlens", "fdts", "lms"),
    name: fc.stringMatching(/^[A-Z][A-Z_]{2,12}$/),
    kind: fc.constantFrom(...SECRET_KINDS),
    twoSlots: fc.boolean(),
  }),
  { minLength: 1, maxLength: 6, selector: (s) => `${s.app}/${s.name}` },
);

/** Every value of every secret at a clock, keyed `app/name/slot`. */
function values(list: readonly Secret[], clock: RotationClock): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of list) {
    for (const slot of s.twoSlots ? SLOTS : [undefined]) out.set(`${s.app}/${s.name}/${slot ?? "-"}`, JSON.stringify(rotationKeepers(s, clock, slot)));
  }
  return out;
}
const changed = (a: Map<string, string>, b: Map<string, string>) => [...a.keys()].filter((k) => a.get(k) !== b.get(k)).sort();

/** A time inside window `w` of `periodDays`, at `fraction` of the way through it. */
const inWindow = (w: number, periodDays: number, fraction: number) => windowStart(w, periodDays) + Math.floor(fraction * (periodDays * DAY_MS - 1));

describe("rotation windows", () => {
  it("count whole periods from the epoch: a window starts at its boundary and ends just before the next", () => {
    fc.assert(
      fc.property(time, period, (now, days) => {
        const w = windowIndex(now, days);
        expect(windowStart(w, days)).toBeLessThanOrEqual(now);
        expect(windowStart(w + 1, days)).toBeGreaterThan(now);
        expect(windowIndex(windowStart(w + 1, days), days)).toBe(w + 1);
        expect(windowIndex(windowStart(w + 1, days) - 1, days)).toBe(w);
      }),
      RUNS,
    );
    expect(windowIndex(ROTATION_EPOCH_MS, 90)).toBe(0);
    expect(windowIndex(ROTATION_EPOCH_MS - 1, 90)).toBe(-1);
  });

  it("keep every keeper stable inside a window, whatever the time in it and with or without a refresh", () => {
    fc.assert(
      fc.property(secrets, fc.integer({ min: -20, max: 80 }), period, generation, fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (list, w, days, g, f1, f2) => {
        const a = values(list, { now: inWindow(w, days, f1), periodDays: days, generation: g });
        const b = values(list, { now: inWindow(w, days, f2), periodDays: days, generation: g });
        expect(changed(a, b)).toEqual([]);
      }),
      RUNS,
    );
  });

  it("change, across one boundary, exactly one slot of each two-slot secret (the one that becomes current) and every single-slot secret", () => {
    fc.assert(
      fc.property(secrets, fc.integer({ min: -20, max: 80 }), period, generation, fc.double({ min: 0, max: 1, noNaN: true }), (list, w, days, g, f) => {
        const before = values(list, { now: inWindow(w, days, f), periodDays: days, generation: g });
        const after = values(list, { now: inWindow(w + 1, days, f), periodDays: days, generation: g });
        const expected = list.map((s) => `${s.app}/${s.name}/${s.twoSlots ? writtenSlot(w + 1) : "-"}`).sort();
        expect(changed(before, after)).toEqual(expected);
        for (const s of list.filter((x) => x.twoSlots)) {
          // The slot that was current is the previous one now, with the same value (the same keepers).
          expect(after.get(`${s.app}/${s.name}/${writtenSlot(w)}`)).toBe(before.get(`${s.app}/${s.name}/${writtenSlot(w)}`));
          expect(otherSlot(writtenSlot(w + 1))).toBe(writtenSlot(w));
        }
      }),
      RUNS,
    );
  });

  it("change both slots after two boundaries: a value two windows old is accepted no longer", () => {
    fc.assert(
      fc.property(secrets, fc.integer({ min: -20, max: 80 }), fc.integer({ min: 2, max: 10 }), period, generation, (list, w, skip, days, g) => {
        const before = values(list, { now: inWindow(w, days, 0.5), periodDays: days, generation: g });
        const after = values(list, { now: inWindow(w + skip, days, 0.5), periodDays: days, generation: g });
        expect(changed(before, after)).toEqual([...before.keys()].sort());
      }),
      RUNS,
    );
  });

  it("change every value at once, both slots included, when the incident generation is raised", () => {
    fc.assert(
      fc.property(secrets, time, period, generation, fc.integer({ min: 1, max: 50 }), (list, now, days, g, bump) => {
        const before = values(list, { now, periodDays: days, generation: g });
        const after = values(list, { now, periodDays: days, generation: g + bump });
        expect(changed(before, after)).toEqual([...before.keys()].sort());
      }),
      RUNS,
    );
  });

  it("alternate the written slot every window, each slot naming the last window it was written in", () => {
    fc.assert(
      fc.property(fc.integer({ min: -1000, max: 1000 }), (w) => {
        expect(writtenSlot(w + 1)).not.toBe(writtenSlot(w));
        for (const slot of SLOTS as Slot[]) {
          const last = slotWindow(w, slot);
          expect(w - last === 0 || w - last === 1).toBe(true);
          expect(writtenSlot(last)).toBe(slot);
        }
        expect(slotWindow(w, writtenSlot(w))).toBe(w);
      }),
      RUNS,
    );
  });

  it("report the window, its start, the next rotation and the current slot, and never a value", () => {
    const clock = { now: Date.UTC(2026, 3, 15), periodDays: 90, generation: 2 };
    const w = windowIndex(clock.now, 90);
    expect(rotationState(clock, true)).toEqual({
      periodDays: 90,
      window: w,
      windowStart: new Date(windowStart(w, 90)).toISOString(),
      nextRotation: new Date(windowStart(w + 1, 90)).toISOString(),
      currentSlot: writtenSlot(w),
    });
    expect(rotationState(clock, false)).not.toHaveProperty("currentSlot");
  });
});
