/** The command line of `npm run maintenance-window`, parsed by a pure function (nothing loads before it answers). */
import type { ParsedArgs } from "./commandLine";
import { parseClock } from "../config/rotationClock";

export const MAINTENANCE_WINDOW_USAGE = `Usage: npm run maintenance-window -- --stack <name> [--app <id>] (--open | --close | --auto) [--yes] [--now <ISO time>]

Opens or closes apps' maintenance windows (apps.<id>.maintenance.window: a backup first, then the
maintenance page) with \`pulumi config set --path\` and \`pulumi up\` (Automation API).
  --stack <name>    the stack (prod, staging)
  --app <id>        one app (default: every app of the stack; with --auto, every app with a schedule)
  --open, --close   open or close the window now
  --auto            open or close each app's window as its schedule (apps.<id>.maintenance.schedule)
                    says for the current time; changes only the apps whose state differs, and says
                    when the next window opens (and that the users' notice is due within 48 h)
  --yes             do not ask for confirmation
  --now <time>      take this ISO 8601 time (with a zone) as the current time, for --auto
`;

export type WindowAction = "open" | "close" | "auto";

export interface MaintenanceWindowArgs {
  readonly stack: string;
  readonly app?: string;
  readonly action: WindowAction;
  readonly yes: boolean;
  /** ms since the epoch; absent: the real time. */
  readonly now?: number;
}

export type ParsedMaintenanceWindowArgs = ParsedArgs<MaintenanceWindowArgs>;

export function parseMaintenanceWindowArgs(argv: readonly string[]): ParsedMaintenanceWindowArgs {
  let stack: string | undefined;
  let app: string | undefined;
  let now: number | undefined;
  let yes = false;
  const actions: WindowAction[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw new Error(`${arg} needs a value`);
      return v;
    };
    try {
      if (arg === "--help" || arg === "-h") return { kind: "help" };
      else if (arg === "--stack") stack = value();
      else if (arg === "--app") app = value();
      else if (arg === "--open" || arg === "--close" || arg === "--auto") actions.push(arg.slice(2) as WindowAction);
      else if (arg === "--yes" || arg === "-y") yes = true;
      else if (arg === "--now") {
        const text = value();
        now = parseClock(text);
        if (now === undefined) return { kind: "error", message: `--now must be an ISO 8601 time with a zone, such as 2026-12-06T02:00:00Z (got ${text})` };
      } else return { kind: "error", message: `unknown option ${arg}` };
    } catch (err) {
      return { kind: "error", message: (err as Error).message };
    }
  }
  if (!stack) return { kind: "error", message: "--stack is required" };
  if (new Set(actions).size > 1) return { kind: "error", message: `${[...new Set(actions)].map((a) => `--${a}`).join(" and ")} exclude each other: give one of --open, --close, --auto` };
  const action = actions[0];
  if (!action) return { kind: "error", message: "one of --open, --close or --auto is required" };
  return { kind: "run", args: { stack, ...(app !== undefined && { app }), action, yes, ...(now !== undefined && { now }) } };
}
