// `npm run maintenance-window -- --stack <name> [--app <id>] (--open | --close | --auto) [--yes] [--now <ISO time>]`
import * as path from "node:path";
import * as readline from "node:readline/promises";
import { MAINTENANCE_WINDOW_USAGE, parseMaintenanceWindowArgs } from "../ops/maintenanceWindowArgs";

const parsed = parseMaintenanceWindowArgs(process.argv.slice(2));
if (parsed.kind === "help") {
  process.stdout.write(MAINTENANCE_WINDOW_USAGE);
} else if (parsed.kind === "error") {
  process.stderr.write(`maintenance-window: ${parsed.message}\n${MAINTENANCE_WINDOW_USAGE}`);
  process.exitCode = 2;
} else {
  const confirm = async (question: string) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
    try {
      return /^y(es)?$/i.test((await rl.question(question)).trim());
    } finally {
      rl.close();
    }
  };
  const { now, ...args } = parsed.args;
  import("../ops/maintenanceWindow")
    .then(({ runMaintenanceWindow }) =>
      runMaintenanceWindow({ ...args, now: now ?? Date.now(), workDir: path.resolve(__dirname, ".."), confirm, log: (text) => process.stdout.write(text) }),
    )
    .then(
      (code) => (process.exitCode = code),
      (err: unknown) => {
        process.stderr.write(`maintenance-window: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = 1;
      },
    );
}
