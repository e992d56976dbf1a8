// `npm run rollback -- --stack <name> [--app <id>] [--to <release>] [--yes] [--restore-data]`
import * as path from "node:path";
import * as readline from "node:readline/promises";
import { ROLLBACK_USAGE, parseRollbackArgs } from "../ops/rollbackArgs";

const parsed = parseRollbackArgs(process.argv.slice(2));
if (parsed.kind === "help") {
  process.stdout.write(ROLLBACK_USAGE);
} else if (parsed.kind === "error") {
  process.stderr.write(`rollback: ${parsed.message}\n${ROLLBACK_USAGE}`);
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
  import("../ops/rollback")
    .then(({ runRollback }) =>
      runRollback({ ...parsed.args, workDir: path.resolve(__dirname, ".."), confirm, log: (text) => process.stdout.write(text) }),
    )
    .then(
      (code) => (process.exitCode = code),
      (err: unknown) => {
        process.stderr.write(`rollback: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = 1;
      },
    );
}
