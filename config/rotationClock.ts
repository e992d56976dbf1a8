/**
 * The rotation clock: the time the rotation windows are counted from. The real time when the program
 * runs; a preview (RUNBOOK_ROTATION_NOW) or the offline plan (`--now`) may set another one, to show
 * which secrets a deploy at that time would rotate. Pure apart from reading the environment it is given.
 */
import { ConfigError } from "./errors";

/** The environment variable that sets the rotation clock for a preview (an ISO 8601 time). */
export const ROTATION_CLOCK_ENV = "RUNBOOK_ROTATION_NOW";

/**
 * The rotation clock, in ms since the Unix epoch: the real time, or RUNBOOK_ROTATION_NOW during a
 * preview. A real update refuses it: a clock set by hand on `pulumi up` would rotate early (or, set
 * back, make values of a window that has passed), so only previews and tests may move it.
 */
export function rotationClock(env: Readonly<Record<string, string | undefined>>, dryRun: boolean, realNow: number = Date.now()): number {
  const text = env[ROTATION_CLOCK_ENV];
  if (text === undefined || text === "") return realNow;
  const problem = (message: string) => new ConfigError([{ path: ROTATION_CLOCK_ENV, message }]);
  if (!dryRun) throw problem("sets the rotation clock for `pulumi preview` only; unset it for `pulumi up` (rotation follows the real time)");
  const at = parseClock(text);
  if (at === undefined) throw problem("must be an ISO 8601 time with a zone, such as 2026-04-01T00:00:00Z");
  return at;
}

/** An ISO 8601 time with a zone (`Z` or `+hh:mm`) in ms, or undefined. */
export function parseClock(text: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:\d{2})$/.test(text) && !/^\d{4}-\d{2}-\d{2}$/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isFinite(at) ? at : undefined;
}
