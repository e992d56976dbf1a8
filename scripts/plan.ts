// The argument parser alone: --help and bad arguments answer without loading Pulumi and the program.
import { EXIT, USAGE, parsePlanArgs } from "../plan/args";

/** Exits only once stdout and stderr have drained: a piped JSON document is never cut short. */
function finish(code: number, stdout = "", stderr = ""): void {
  let pending = 2;
  const done = () => {
    pending -= 1;
    if (pending === 0) process.exit(code);
  };
  process.stdout.write(stdout, done);
  process.stderr.write(stderr, done);
}

const fail = (err: unknown) => finish(EXIT.invalid, "", `program error: ${err instanceof Error ? err.message : String(err)}\n`);

// Pulumi captures a stack trace for every resource it registers; source maps (turned on by tsx)
// make that twice as slow, and the plan never prints a stack trace.
process.setSourceMapsEnabled(false);

// An error raised inside an `apply` surfaces as an unhandled rejection: report it, exit 2.
process.on("unhandledRejection", fail);

const args = parsePlanArgs(process.argv.slice(2), process.cwd());
if (args.kind === "help") {
  finish(EXIT.ok, USAGE);
} else if (args.kind === "error") {
  finish(EXIT.invalid, "", `plan: ${args.message}\n${USAGE}`);
} else {
  import("../plan/cli")
    .then(({ runPlan }) => runPlan(args.options))
    .then((outcome) => finish(outcome.exitCode, outcome.stdout, outcome.stderr), fail);
}
