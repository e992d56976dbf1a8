/**
 * The app's five-field cron schedules (UTC, as the Docker hosts' timers read them) in the six-field form
 * AWS Backup's plans and restore testing plans take: `cron(minute hour day-of-month month day-of-week year)`,
 * with `?` for whichever day field is not set and days of the week numbered 1-7 from Sunday.
 */

const DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/** A schedule AWS's cron cannot say: `reason` alone for a config problem on the key, the message names both. */
export class AwsCronError extends Error {
  constructor(
    readonly reason: string,
    key: string,
    expr: string,
  ) {
    super(`\`${key}\` ${JSON.stringify(expr)}: ${reason}`);
  }
}

/** Cron's day-of-week numbers (0-7, Sunday 0 or 7) and names as AWS's numbers (1-7 from Sunday). */
function awsDayOfWeek(field: string, fail: (reason: string) => never): string {
  if (field.includes("/")) fail("AWS Backup takes no step (/) in the day of the week; list the days (1,3,5)");
  // Names first (`MON-5` mixes both), then every number: a name passed through would be right, a number beside it not.
  const numbered = field.toUpperCase().replace(/[A-Z]{3}/g, (name) => {
    const i = DAY_NAMES.indexOf(name);
    if (i < 0) fail(`${name} is not a day of the week`);
    return String(i);
  });
  const day = (n: number) => (n % 7) + 1;
  return numbered
    .split(",")
    .flatMap((item) => {
      const range = /^(\d+)-(\d+)$/.exec(item);
      if (range) {
        const [from, to] = [Number(range[1]), Number(range[2])];
        // Cron's 7 is Sunday again: `5-7` is Friday to Sunday, AWS's `6-7` (Friday, Saturday) and `1`.
        if (to === 7 && from > 0) return [from === 6 ? "7" : `${from + 1}-7`, "1"];
        return [`${day(from)}-${to === 7 ? 7 : day(to)}`];
      }
      // A day, or a day with its `L` (the last in the month) or `#n` (the n-th).
      const single = /^(\d+)(L|#\d)?$/.exec(item);
      if (!single) fail(`cannot write the day of the week ${JSON.stringify(item)} in AWS's cron`);
      return [`${day(Number(single[1]))}${single[2] ?? ""}`];
    })
    .join(",");
}

/** A five-field cron (`0 2 * * *`, UTC) as AWS Backup's six-field form, which takes `?` for whichever day field is not set. */
export function awsBackupCron(expr: string, key = "backups.schedule"): string {
  const fail = (reason: string): never => {
    throw new AwsCronError(reason, key, expr);
  };
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5) fail("must have five cron fields");
  const [minute, hour, dom, month, dow] = fields as [string, string, string, string, string];
  if (dow === "*") return `cron(${minute} ${hour} ${dom} ${month} ? *)`;
  if (dom !== "*") fail("sets both the day of the month and the day of the week; AWS Backup takes one of them");
  return `cron(${minute} ${hour} ? ${month} ${awsDayOfWeek(dow, fail)} *)`;
}
