/**
 * What `npm run maintenance-window` changes, worked out from what it read: the stack's `apps` config
 * (`pulumi config get <project>:apps --json`), the deployed stack's outputs (`apps.<id>.maintenance
 * .window`: what the last update turned on) and the time. Pure: the Automation API calls are in
 * maintenanceWindow.ts.
 *
 * An app's window is updated (config set + `pulumi up`) when the deployed stack disagrees with what
 * it should be, or, for a stack never deployed by this program, when the config does. The deployed
 * state decides because a stack file in a fresh checkout (a scheduled CI run) says what was
 * committed, not what the last run deployed: by config alone a window opened by an earlier run would
 * never be closed. Where only the config disagrees, it is set and no update runs.
 */
import { keyPath } from "../config/errors";
import { resolveWindowSchedule, windowScheduleProblems } from "../config/maintenance";
import { WINDOW_NOTICE_MS, windowAt } from "../config/windowSchedule";
import type { WindowAction } from "./maintenanceWindowArgs";

export interface WindowChange {
  readonly app: string;
  readonly open: boolean;
  /** The config key `config set --path` sets, e.g. `runbook:apps.lms.maintenance.window`. */
  readonly key: string;
  /** The deployed stack differs too: `pulumi up` must run (else only the config is set). */
  readonly deploy: boolean;
}

export type WindowPlan =
  | { readonly ok: true; readonly changes: readonly WindowChange[]; readonly lines: readonly string[] }
  | { readonly ok: false; readonly message: string };

export interface WindowRequest {
  readonly stack: string;
  readonly app?: string;
  readonly action: WindowAction;
  readonly now: number;
}

type Raw = Record<string, unknown>;
const isObject = (v: unknown): v is Raw => v !== null && typeof v === "object" && !Array.isArray(v);
const iso = (ms: number) => new Date(ms).toISOString();

/** `27 d 23 h`, `5 h 10 min`, `12 min`. */
export function durationText(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  const [d, h, m] = [Math.floor(minutes / 1440), Math.floor((minutes % 1440) / 60), minutes % 60];
  if (d > 0) return `${d} d ${h} h`;
  return h > 0 ? `${h} h ${m} min` : `${m} min`;
}

export function planWindows(project: string, appsConfig: unknown, deployedApps: unknown, req: WindowRequest): WindowPlan {
  const apps = isObject(appsConfig) ? appsConfig : {};
  const ids = Object.keys(apps);
  if (req.app !== undefined && !ids.includes(req.app)) {
    return { ok: false, message: `stack ${req.stack} has no app ${req.app} (its apps: ${ids.join(", ") || "none"})` };
  }
  const maintenanceOf = (id: string) => (isObject(apps[id]) && isObject(apps[id]["maintenance"]) ? apps[id]["maintenance"] : {});
  const scheduled = ids.filter((id) => maintenanceOf(id)["schedule"] !== undefined);
  let targets = req.app !== undefined ? [req.app] : ids;
  if (req.action === "auto") {
    if (req.app !== undefined && !scheduled.includes(req.app)) {
      return { ok: false, message: `--auto: ${req.app} has no maintenance schedule on stack ${req.stack} (set ${keyPath(project, ["apps", req.app, "maintenance", "schedule"])}, e.g. {cron: "0 2 * * 0#1", durationMinutes: 120}), or use --open / --close` };
    }
    if (scheduled.length === 0) {
      return { ok: false, message: `--auto: no app of stack ${req.stack} has a maintenance schedule (${keyPath(project, ["apps", "<id>", "maintenance", "schedule"])}); nothing to decide from` };
    }
    targets = targets.filter((id) => scheduled.includes(id));
  }
  const problems = targets.flatMap((id) => windowScheduleProblems(id, maintenanceOf(id)["schedule"]));
  if (problems.length > 0) {
    return { ok: false, message: `the stack's maintenance schedule is invalid:\n${problems.map((p) => `  ${keyPath(project, p.path)}: ${p.message}`).join("\n")}` };
  }

  const deployed = isObject(deployedApps) ? deployedApps : {};
  const lines: string[] = [];
  const changes: WindowChange[] = [];
  const skipped = ids.filter((id) => !targets.includes(id) && req.app === undefined);
  for (const id of targets) {
    const schedule = resolveWindowSchedule(maintenanceOf(id));
    const state = schedule ? windowAt(schedule, req.now) : undefined;
    const want = req.action === "auto" ? state!.open : req.action === "open";
    const configured = maintenanceOf(id)["window"] === true;
    const d = isObject(deployed[id]) && isObject(deployed[id]["maintenance"]) ? deployed[id]["maintenance"]["window"] : undefined;
    const live = typeof d === "boolean" ? d : undefined;
    const why =
      req.action !== "auto" ? `--${req.action}` : state!.open ? `its schedule's window is open (${iso(state!.lastStart!)} to ${iso(state!.lastEnd!)})` : "its schedule has no window open now";
    const now = `config ${configured ? "open" : "closed"}, deployed ${live === undefined ? "unknown" : live ? "open" : "closed"}`;
    const deploy = live !== undefined ? live !== want : configured !== want;
    if (deploy || configured !== want) {
      changes.push({ app: id, open: want, key: keyPath(project, ["apps", id, "maintenance", "window"]), deploy });
      lines.push(
        deploy
          ? `${id}: ${want ? "opening" : "closing"} the window: ${why} (${now})`
          : `${id}: window ${want ? "open" : "closed"} on the deployed stack, as it should be: ${why}; the stack's config said ${configured ? "open" : "closed"}: set to ${want ? "open" : "closed"}, no update needed`,
      );
    } else {
      lines.push(`${id}: window ${want ? "open" : "closed"}, as it should be: ${why}; nothing to change`);
    }
    if (schedule && state?.nextStart !== undefined) {
      const until = state.nextStart - req.now;
      lines.push(`${id}: next window opens ${iso(state.nextStart)} (in ${durationText(until)}), for ${schedule.durationMinutes} minutes ("${schedule.cron}", ${schedule.timezone})`);
      if (until <= WINDOW_NOTICE_MS) {
        lines.push(`${id}: NOTICE DUE: the window opening ${iso(state.nextStart)} is within 48 h; tell the app's users now (the runbook's 48 h notice is a person's job: this command sends nothing)`);
      }
    }
  }
  if (skipped.length > 0) lines.push(`without a schedule, left as they are: ${skipped.join(", ")}`);
  return { ok: true, changes, lines };
}
