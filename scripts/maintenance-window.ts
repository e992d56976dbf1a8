// `npm run maintenance-window -- --stack <name> [--app <id>] (--open | --close | --auto) [--yes] [--now <ISO time>]`
import * as path from "node:path";
import { runCommandLine } from "../ops/commandLine";
import { MAINTENANCE_WINDOW_USAGE, parseMaintenanceWindowArgs } from "../ops/maintenanceWindowArgs";

runCommandLine("maintenance-window", MAINTENANCE_WINDOW_USAGE, parseMaintenanceWindowArgs(process.argv.slice(2)), async ({ now, ...args }, io) => {
  const { runMaintenanceWindow } = await import("../ops/maintenanceWindow");
  return runMaintenanceWindow({ ...args, now: now ?? Date.now(), workDir: path.resolve(__dirname, ".."), ...io });
});
