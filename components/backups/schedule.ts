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
 * The longest time between two consecutive runs, in hours, over a leap-year cycle of runs from
 * 2028-01-01 (bounded: at most 60,000 runs are looked at, enough for any schedule of at least one run
 * every ten minutes to cover a year, and finer schedules never have long gaps).
 */
export function maxGapHours(expr: string): number {
  parseSchedule(expr);
  const from = new Date("2028-01-01T00:00:00Z");
  const until = new Date("2029-01-01T00:00:00Z").getTime();
  const it = CronExpressionParser.parse(expr, { tz: "UTC", currentDate: from });
  let previous = it.next().getTime();
  let longest = 0;
  for (let i = 0; i < 60_000; i++) {
    const next = it.next().getTime();
    longest = Math.max(longest, next - previous);
    previous = next;
    if (next > until) break;
  }
  return longest / 3_600_000;
}
