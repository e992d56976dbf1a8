/**
 * Job schedules: a five-field cron expression in UTC (parsed and validated by cron-parser), turned
 * into the systemd timer calendar the host runs, and measured (the longest gap between two runs, which
 * the policies compare with the runbook's interval and the "no backup in N hours" alert).
 */
import { CronExpressionParser } from "cron-parser";

const DAY_NAMES = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;

export interface ParsedSchedule {
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  /** Undefined: every day of the month. */
  readonly daysOfMonth?: readonly number[];
  readonly months?: readonly number[];
  /** 0 = Sunday; undefined: every day of the week. */
  readonly daysOfWeek?: readonly number[];
}

/** Why `expr` is not a schedule the jobs can run on, or undefined when it is. */
export function scheduleProblem(expr: string): string | undefined {
  try {
    parseSchedule(expr);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** A five-field cron expression (minute hour day-of-month month day-of-week), UTC. */
export function parseSchedule(expr: string): ParsedSchedule {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5 || expr.trim().startsWith("@")) {
    throw new Error(`must be a cron expression of five fields (minute hour day-of-month month day-of-week), such as "0 2 * * *"; got "${expr}"`);
  }
  let parsed;
  try {
    parsed = CronExpressionParser.parse(expr, { tz: "UTC" }).fields;
  } catch (err) {
    throw new Error(`is not a valid cron expression ("${expr}"): ${(err as Error).message}`, { cause: err });
  }
  const numbers = (values: readonly unknown[], what: string): number[] => {
    if (!values.every((v) => typeof v === "number")) throw new Error(`uses a ${what} form (L, W or #) that a systemd timer cannot express ("${expr}")`);
    return [...new Set(values as number[])].sort((a, b) => a - b);
  };
  const dom = parsed.dayOfMonth.isWildcard ? undefined : numbers(parsed.dayOfMonth.values, "day-of-month");
  const dow = parsed.dayOfWeek.isWildcard ? undefined : [...new Set(numbers(parsed.dayOfWeek.values, "day-of-week").map((d) => d % 7))].sort((a, b) => a - b);
  if (dom && dow) {
    throw new Error(`restricts both the day of the month and the day of the week, which cron joins with OR and a systemd timer with AND; set one of them ("${expr}")`);
  }
  return {
    minutes: numbers(parsed.minute.values, "minute"),
    hours: numbers(parsed.hour.values, "hour"),
    ...(dom && { daysOfMonth: dom }),
    ...(!parsed.month.isWildcard && { months: numbers(parsed.month.values, "month") }),
    ...(dow && { daysOfWeek: dow }),
  };
}

const two = (n: number) => String(n).padStart(2, "0");
const list = (values: readonly number[] | undefined, full: number) => (values === undefined || values.length === full ? "*" : values.map(two).join(","));

/** The systemd `OnCalendar=` value that fires when the cron expression does, in UTC. */
export function toOnCalendar(expr: string): string {
  const s = parseSchedule(expr);
  const days = s.daysOfWeek ? `${s.daysOfWeek.map((d) => DAY_NAMES[d]).join(",")} ` : "";
  return `${days}*-${list(s.months, 12)}-${list(s.daysOfMonth, 31)} ${list(s.hours, 24)}:${list(s.minutes, 60)}:00 UTC`;
}

/**
 * The longest time between two consecutive runs, in hours, worked out from the parsed fields over
 * the eight years from 2028-01-01 (two leap days, so a schedule on the 29th of February is measured
 * too): the largest gap between two run times of a day, or between the last run of a day and the
 * first run of the next day the schedule runs on. Arithmetic on at most 2,922 days, however fine the
 * schedule; `test/backups/schedule.test.ts` checks it against cron-parser's own iteration.
 */
export function maxGapHours(expr: string): number {
  const s = parseSchedule(expr);
  const times = s.hours.flatMap((h) => s.minutes.map((m) => h * 60 + m)).sort((a, b) => a - b);
  let longest = times.length > 1 ? Math.max(...times.slice(1).map((t, i) => t - times[i]!)) : 0;
  const first = Date.UTC(2028, 0, 1) / 86_400_000;
  let previousLast: number | undefined;
  for (let day = first; day < Date.UTC(2036, 0, 1) / 86_400_000; day++) {
    const date = new Date(day * 86_400_000);
    const runs =
      (!s.months || s.months.includes(date.getUTCMonth() + 1)) &&
      (!s.daysOfMonth || s.daysOfMonth.includes(date.getUTCDate())) &&
      (!s.daysOfWeek || s.daysOfWeek.includes(date.getUTCDay()));
    if (!runs) continue;
    if (previousLast !== undefined) longest = Math.max(longest, day * 1440 + times[0]! - previousLast);
    previousLast = day * 1440 + times[times.length - 1]!;
  }
  return longest / 60;
}
