/**
 * The app's five-field cron schedules (UTC, as the Docker hosts' timers read them) in the six-field form
 * AWS Backup's plans and restore testing plans take: `cron(minute hour day-of-month month day-of-week year)`,
 * with `?` for whichever day field is not set and days of the week numbered 1-7 from Sunday.
 */

/** Cron's day-of-week numbers (0-7, Sunday 0 or 7) as AWS's (1-7 from Sunday); names pass through. */
function awsDayOfWeek(field: string, expr: string, key: string): string {
  if (field.includes("/")) throw new Error(`\`${key}\` ${JSON.stringify(expr)}: AWS Backup takes no step (/) in the day of the week; list the days (1,3,5)`);
  const day = (n: string) => (Number(n) % 7) + 1;
  return field
    .split(",")
    .flatMap((item) => {
      const range = /^(\d+)-(\d+)$/.exec(item);
      if (!range) return [/^\d+$/.test(item) ? String(day(item)) : item];
      const [from, to] = [Number(range[1]), Number(range[2])];
      // Cron's 7 is Sunday again: `5-7` is Friday to Sunday, AWS's `6-7` (Friday, Saturday) and `1`.
      if (to === 7 && from > 0) return [`${from + 1}-7`, "1"];
      return [`${day(range[1]!)}-${to === 7 ? 7 : day(range[2]!)}`];
    })
    .join(",");
}

/** A five-field cron (`0 2 * * *`, UTC) as AWS Backup's six-field form, which takes `?` for whichever day field is not set. */
export function awsBackupCron(expr: string, key = "backups.schedule"): string {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5) throw new Error(`\`${key}\` ${JSON.stringify(expr)} must have five cron fields`);
  const [minute, hour, dom, month, dow] = fields as [string, string, string, string, string];
  if (dow === "*") return `cron(${minute} ${hour} ${dom} ${month} ? *)`;
  if (dom !== "*") throw new Error(`\`${key}\` ${JSON.stringify(expr)} sets both the day of the month and the day of the week; AWS Backup takes one of them`);
  return `cron(${minute} ${hour} ? ${month} ${awsDayOfWeek(dow, expr, key)} *)`;
}
