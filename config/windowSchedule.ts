/**
 * Maintenance windows at a set time (`apps.<id>.maintenance.schedule`): a cron expression for when a
 * window opens, how long it stays open, and the time zone the expression is read in (LMS runbook
 * "Scheduled Maintenance": monthly, first Sunday 2-4 AM UTC, 2 hours maximum, 48 hours' notice;
 * FDTS "Planned Maintenance Window": monthly, first Sunday 2-4 AM). Pure: cron-parser reads the
 * expression and walks its times; nothing here reads a clock, the caller passes `now`.
 */
import { CronExpressionParser } from "cron-parser";

export interface WindowSchedule {
  /** Five-field cron expression (minute hour day-of-month month day-of-week) of the window's start. */
  readonly cron: string;
  /** How long the window stays open, in minutes; it must end before the next one opens. */
  readonly durationMinutes: number;
  /** IANA time zone the expression is read in. Default UTC. */
  readonly timezone: string;
}

export const WINDOW_TIMEZONE_DEFAULT = "UTC";
/** The runbook's notice period (LMS "Scheduled Maintenance": 48 hours advance notice). */
export const WINDOW_NOTICE_MS = 48 * 3_600_000;

const MINUTE_MS = 60_000;
/** The duration check walks the starts of a year from here (a fixed point: validation is repeatable). */
const GAP_SCAN_FROM = Date.UTC(2026, 0, 1);
const GAP_SCAN_MS = 400 * 86_400_000;
/** Enough for a year of daily windows; a schedule that opens more often is scanned over fewer days. */
const GAP_SCAN_MAX_STARTS = 800;

/** Why `cron` is not a window start cron-parser reads the same way every time, or undefined. */
export function cronProblem(cron: string): string | undefined {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5 || cron.trim().startsWith("@")) {
    return `must be a cron expression of five fields (minute hour day-of-month month day-of-week), such as "0 2 * * 0#1" (first Sunday, 02:00); got "${cron}"`;
  }
  if (/(^|[\s,])H/i.test(cron.trim())) return `must not use H (cron-parser picks a random time for it, and a window must open when the notice says); got "${cron}"`;
  try {
    CronExpressionParser.parse(cron, { tz: "UTC", currentDate: new Date(GAP_SCAN_FROM) }).next();
    return undefined;
  } catch (err) {
    return `is not a valid cron expression ("${cron}"): ${(err as Error).message}`;
  }
}

/** Why `zone` is not an IANA time zone this Node knows, or undefined. */
export function timezoneProblem(zone: string): string | undefined {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return undefined;
  } catch {
    return `is not a time zone Node knows (an IANA name such as "UTC" or "Europe/Berlin"); got "${zone}"`;
  }
}

/** The shortest time between two starts, over a year of starts (DST makes a day 23 hours once). */
export function shortestGapMs(cron: string, timezone: string): number | undefined {
  const it = CronExpressionParser.parse(cron, { tz: timezone, currentDate: new Date(GAP_SCAN_FROM) });
  let previous: number | undefined;
  let shortest: number | undefined;
  for (let n = 0; n < GAP_SCAN_MAX_STARTS; n++) {
    let at: number;
    try {
      at = it.next().getTime();
    } catch {
      break;
    }
    if (previous !== undefined) shortest = Math.min(shortest ?? Infinity, at - previous);
    if (at > GAP_SCAN_FROM + GAP_SCAN_MS && n >= 1) break;
    previous = at;
  }
  return shortest;
}

/** Why the duration does not fit the schedule, or undefined (cron and zone already valid). */
export function durationProblem(schedule: WindowSchedule): string | undefined {
  const gap = shortestGapMs(schedule.cron, schedule.timezone);
  if (gap !== undefined && schedule.durationMinutes * MINUTE_MS >= gap) {
    return `is ${schedule.durationMinutes} minutes, but "${schedule.cron}" (${schedule.timezone}) opens a window every ${Math.round(gap / MINUTE_MS)} minutes at the shortest: a window must end before the next one opens`;
  }
  return undefined;
}

/** The window at `now`: open or not, the start and end of the one open, and the next start after now. */
export interface WindowState {
  readonly open: boolean;
  /** The latest start at or before now (ms), and when that window ends. */
  readonly lastStart?: number;
  readonly lastEnd?: number;
  /** The first start after now (ms). */
  readonly nextStart?: number;
}

/** Open when `now` is in [start, start + duration) of the latest start at or before it. */
export function windowAt(schedule: WindowSchedule, now: number): WindowState {
  const read = (at: number) => CronExpressionParser.parse(schedule.cron, { tz: schedule.timezone, currentDate: new Date(at) });
  const attempt = (f: () => number) => {
    try {
      return f();
    } catch {
      return undefined;
    }
  };
  // cron-parser's prev() is strictly before its current date, next() strictly after.
  const lastStart = attempt(() => read(now + 1).prev().getTime());
  const nextStart = attempt(() => read(now).next().getTime());
  const lastEnd = lastStart === undefined ? undefined : lastStart + schedule.durationMinutes * MINUTE_MS;
  return {
    open: lastEnd !== undefined && now < lastEnd,
    ...(lastStart !== undefined && { lastStart, lastEnd }),
    ...(nextStart !== undefined && { nextStart }),
  };
}
