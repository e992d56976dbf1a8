/**
 * Maintenance windows at a set time: `apps.<id>.maintenance.schedule` is validated with errors on
 * the key that is wrong, and the decision "is the window open now" matches an oracle that knows
 * nothing of cron-parser (the nth weekday of a month worked out with Date arithmetic).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PROJECT } from "../../config/defaults";
import { parseStackConfig, type RawConfig } from "../../config/resolve";
import { windowAt, type WindowSchedule } from "../../config/windowSchedule";
import { problemsOf, rawStackConfig } from "../helpers";

/** The prod stack with `schedule` (or any value) under apps.lms.maintenance. */
function withSchedule(schedule: unknown, app = "lms"): RawConfig {
  const raw = structuredClone(rawStackConfig("prod")) as { apps: Record<string, Record<string, unknown>> };
  raw.apps[app]!["maintenance"] = { schedule };
  return raw as unknown as RawConfig;
}
const KEY = "runbook:apps.lms.maintenance.schedule";

describe("apps.<id>.maintenance.schedule", () => {
  it("takes the runbook's window (first Sunday 02:00 UTC, 120 minutes) and defaults the zone to UTC", () => {
    const raw = withSchedule({ cron: "0 2 * * 0#1", durationMinutes: 120 });
    expect(problemsOf(raw)).toEqual([]);
    const lms = parseStackConfig(raw, PROJECT).apps.find((a) => a.id === "lms")!;
    expect(lms.maintenance.schedule).toEqual({ cron: "0 2 * * 0#1", durationMinutes: 120, timezone: "UTC" });
    expect(lms.maintenance.window, "a schedule opens nothing by itself").toBe(false);
  });

  it.each([
    ["a field out of range", { cron: "0 25 * * *", durationMinutes: 60 }, `${KEY}.cron: is not a valid cron expression ("0 25 * * *"): Constraint error, got value 25 expected range 0-23`],
    ["four fields", { cron: "0 2 * *", durationMinutes: 60 }, `${KEY}.cron: must be a cron expression of five fields (minute hour day-of-month month day-of-week), such as "0 2 * * 0#1" (first Sunday, 02:00); got "0 2 * *"`],
    ["a random (H) time", { cron: "H 2 * * 0#1", durationMinutes: 60 }, `${KEY}.cron: must not use H (cron-parser picks a random time for it, and a window must open when the notice says); got "H 2 * * 0#1"`],
    ["a sixth Sunday", { cron: "0 2 * * 0#6", durationMinutes: 60 }, `${KEY}.cron: is not a valid cron expression ("0 2 * * 0#6"): Constraint error, invalid dayOfWeek occurrence number (#)`],
    ["a duration of 0", { cron: "0 2 * * 0#1", durationMinutes: 0 }, `${KEY}.durationMinutes: must be at least 1 (minutes)`],
    ["a duration in fractions", { cron: "0 2 * * 0#1", durationMinutes: 1.5 }, `${KEY}.durationMinutes: must be a whole number of minutes`],
    ["a daily window a whole day long", { cron: "0 2 * * *", durationMinutes: 1440 }, `${KEY}.durationMinutes: is 1440 minutes, but "0 2 * * *" (UTC) opens a window every 1440 minutes at the shortest: a window must end before the next one opens`],
    ["a monthly window past the next", { cron: "0 2 * * 0#1", durationMinutes: 40_321 }, `${KEY}.durationMinutes: is 40321 minutes, but "0 2 * * 0#1" (UTC) opens a window every 40320 minutes at the shortest: a window must end before the next one opens`],
    ["a day that is 23 hours once a year (spring forward in Berlin)", { cron: "30 2 * * *", durationMinutes: 1400, timezone: "Europe/Berlin" }, `${KEY}.durationMinutes: is 1400 minutes, but "30 2 * * *" (Europe/Berlin) opens a window every 1380 minutes at the shortest: a window must end before the next one opens`],
    ["an unknown zone", { cron: "0 2 * * 0#1", durationMinutes: 60, timezone: "Mars/Olympus" }, `${KEY}.timezone: is not a time zone Node knows (an IANA name such as "UTC" or "Europe/Berlin"); got "Mars/Olympus"`],
    ["no cron", { durationMinutes: 60 }, `${KEY}.cron: is required (must be a cron expression such as "0 2 * * 0#1")`],
    ["an unknown key", { cron: "0 2 * * 0#1", durationMinutes: 60, notice: "48h" }, `${KEY}.notice: unknown key`],
  ])("refuses %s, naming the key", (_what, schedule, problem) => {
    expect(problemsOf(withSchedule(schedule))).toEqual([problem]);
  });

  it("takes a daily window of 1400 minutes in UTC, where every day has 24 hours", () => {
    expect(problemsOf(withSchedule({ cron: "30 2 * * *", durationMinutes: 1400 }))).toEqual([]);
  });
});

const at = (iso: string) => Date.parse(iso);
const LMS: WindowSchedule = { cron: "0 2 * * 0#1", durationMinutes: 120, timezone: "UTC" };

describe("windowAt", () => {
  it.each([
    ["just before it opens", "2026-12-06T01:59:59.999Z", false],
    ["the minute it opens", "2026-12-06T02:00:00.000Z", true],
    ["the last millisecond", "2026-12-06T03:59:59.999Z", true],
    ["the minute it ends", "2026-12-06T04:00:00.000Z", false],
    ["the second Sunday", "2026-12-13T02:30:00.000Z", false],
  ])("the LMS window (first Sunday 02:00-04:00 UTC), %s: open %s", (_what, now, open) => {
    expect(windowAt(LMS, at(now)).open).toBe(open);
  });

  it("names the next start after now, and the end of the window open", () => {
    expect(windowAt(LMS, at("2026-12-06T02:30:00Z"))).toEqual({ open: true, lastStart: at("2026-12-06T02:00:00Z"), lastEnd: at("2026-12-06T04:00:00Z"), nextStart: at("2027-01-03T02:00:00Z") });
  });

  it("reads the cron in the schedule's zone, across a change of daylight saving time", () => {
    const berlin: WindowSchedule = { cron: "0 2 * * 0#1", durationMinutes: 120, timezone: "Europe/Berlin" };
    // First Sunday of July 2026: 02:00 CEST is 00:00 UTC; of December: 02:00 CET is 01:00 UTC.
    expect(windowAt(berlin, at("2026-07-05T00:30:00Z"))).toMatchObject({ open: true, lastStart: at("2026-07-05T00:00:00Z") });
    expect(windowAt(berlin, at("2026-12-06T00:30:00Z"))).toMatchObject({ open: false, nextStart: at("2026-12-06T01:00:00Z") });
  });
});

/** The `n`th `weekday` (0 = Sunday) of a UTC month at hh:mm, by Date arithmetic alone. */
function nthWeekday(year: number, month: number, weekday: number, n: number, hour: number, minute: number): number {
  const first = new Date(Date.UTC(year, month, 1)).getUTCDay();
  return Date.UTC(year, month, 1 + ((weekday - first + 7) % 7) + 7 * (n - 1), hour, minute);
}

describe("windowAt, for random times and monthly schedules", () => {
  it("is open exactly when now is in [start, start + duration) of a start worked out without cron-parser, and names the next start", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 11, 1) }),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 59 }),
        // Up to a week: shorter than the 28 days between two nth weekdays, as validation requires.
        fc.integer({ min: 1, max: 7 * 24 * 60 }),
        fc.integer({ min: 0, max: 5 }),
        (t, weekday, n, hour, minute, duration, where) => {
          const d = new Date(t);
          const starts = [-1, 0, 1].map((k) => nthWeekday(d.getUTCFullYear(), d.getUTCMonth() + k, weekday, n, hour, minute));
          // Most cases land on or near a window's edges: its start, its last millisecond, its end.
          const end = starts[1]! + duration * 60_000;
          const now = [starts[1]!, starts[1]! - 1, end - 1, end, starts[1]! + (t % (duration * 60_000)), t][where]!;
          const all = [-1, 0, 1, 2].map((k) => nthWeekday(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth() + k, weekday, n, hour, minute));
          const open = all.some((s) => s <= now && now < s + duration * 60_000);
          const next = Math.min(...all.filter((s) => s > now));
          const state = windowAt({ cron: `${minute} ${hour} * * ${weekday}#${n}`, durationMinutes: duration, timezone: "UTC" }, now);
          expect(state.open).toBe(open);
          expect(state.nextStart).toBe(next);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("the committed prod stack", () => {
  it("schedules the LMS's and FDTS's windows as their runbooks say (first Sunday 02:00-04:00 UTC), and no other app's", () => {
    const spec = parseStackConfig(rawStackConfig("prod"), PROJECT);
    const scheduled = Object.fromEntries(spec.apps.filter((a) => a.maintenance.schedule).map((a) => [a.id, a.maintenance.schedule]));
    expect(scheduled).toEqual({ fdts: LMS, lms: LMS });
    expect(spec.apps.every((a) => !a.maintenance.window), "no window is open in the committed file").toBe(true);
  });
});
