// `npm run rollback -- --stack <name> [--app <id>] [--to <release>] [--yes] [--restore-data]`
import * as path from "node:path";
import { runCommandLine } from "../ops/commandLine";
import { ROLLBACK_USAGE, parseRollbackArgs } from "../ops/rollbackArgs";

runCommandLine("rollback", ROLLBACK_USAGE, parseRollbackArgs(process.argv.slice(2)), async (args, io) => {
  const { runRollback } = await import("../ops/rollback");
  return runRollback({ ...args, workDir: path.resolve(__dirname, ".."), ...io });
});
