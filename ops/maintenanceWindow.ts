/**
 * `npm run maintenance-window`: opens or closes apps' maintenance windows, now (`--open`, `--close`)
 * or as their schedules say (`--auto`), by driving the Pulumi CLI through the Automation API:
 * `LocalWorkspace.selectStack` (`pulumi stack select`), `stack.getConfig("<project>:apps")`
 * (`pulumi config get <project>:apps --json`: no secrets are asked for), `stack.outputs()` (`pulumi
 * stack output --json`, for the window the last update deployed), `stack.setConfig(key, value,
 * path=true)` (`pulumi config set --path`) and `stack.up()`. Nothing parses the CLI's text: the
 * config and outputs come back as JSON.
 *
 * Kept out of components/index.ts so the Pulumi program never loads the Automation API.
 */
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { PROJECT } from "../config/defaults";
import type { WindowAction } from "./maintenanceWindowArgs";
import { planWindows, type WindowChange } from "./maintenanceWindowPlan";

export interface MaintenanceWindowOptions {
  readonly stack: string;
  readonly app?: string;
  readonly action: WindowAction;
  /** The project directory (Pulumi.yaml and the stack files). */
  readonly workDir: string;
  /** The current time (ms); `--now` in tests. */
  readonly now: number;
  /** Skip the question. */
  readonly yes?: boolean;
  /** Asks the operator; true to go ahead. */
  readonly confirm: (question: string) => Promise<boolean>;
  /** Where the decisions and `pulumi up`'s output go. Never given a secret. */
  readonly log: (text: string) => void;
}

/** The exit code: 0 nothing to change or changed, 1 refused, declined or failed. */
export async function runMaintenanceWindow(opts: MaintenanceWindowOptions): Promise<number> {
  const stack = await LocalWorkspace.selectStack({ stackName: opts.stack, workDir: opts.workDir });
  // `config get --json` of an object: `value` holds it as JSON (pkg/cmd/pulumi/config, configValueJSON).
  const apps = JSON.parse((await stack.getConfig(`${PROJECT}:apps`)).value) as unknown;
  const deployed = (await stack.outputs())["apps"]?.value;
  const plan = planWindows(PROJECT, apps, deployed, { stack: opts.stack, action: opts.action, now: opts.now, ...(opts.app !== undefined && { app: opts.app }) });
  if (!plan.ok) {
    opts.log(`${plan.message}\n`);
    return 1;
  }
  opts.log(`Maintenance windows on stack ${opts.stack} at ${new Date(opts.now).toISOString()}:\n${plan.lines.map((l) => `  ${l}`).join("\n")}\n`);
  if (plan.changes.length === 0) {
    opts.log("Nothing to change.\n");
    return 0;
  }
  const updates = plan.changes.filter((c) => c.deploy);
  if (updates.length === 0) {
    for (const change of plan.changes) await stack.setConfig(change.key, { value: String(change.open) }, true);
    opts.log("The deployed stack is as it should be: config set, no update.\n");
    return 0;
  }
  const summary = changeText(updates);
  if (!opts.yes && !(await opts.confirm(`${summary} on stack ${opts.stack} (opening takes a backup first, then turns the maintenance page on)? [y/N] `))) {
    opts.log("Nothing changed.\n");
    return 1;
  }
  for (const change of plan.changes) await stack.setConfig(change.key, { value: String(change.open) }, true);
  try {
    await stack.up({ onOutput: opts.log, message: `maintenance window: ${summary}` });
  } catch (err) {
    const lines = (err instanceof Error ? err.message : String(err)).split("\n").map((l) => l.trim());
    const first = /error: .*/.exec(lines.find((l) => /(^|\s)error: /.test(l)) ?? "")?.[0] ?? "unknown error";
    opts.log(`\n${summary}: the update did not complete: ${first}\nThe deployed stack keeps its last state; the next run (or \`pulumi up --stack ${opts.stack}\`) tries again.\n`);
    return 1;
  }
  opts.log(`\n${summary}: done.\n`);
  return 0;
}

/** `Open the window of lms, close the window of fdts`. */
export function changeText(changes: readonly WindowChange[]): string {
  const text = changes.map((c) => `${c.open ? "open" : "close"} the window of ${c.app}`).join(", ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}
