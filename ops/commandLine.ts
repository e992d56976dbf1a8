/**
 * What `npm run rollback` and `npm run maintenance-window` share as command lines: usage on --help,
 * exit status 2 with the usage on a bad argument, a yes/no question on the terminal, and exit status 1
 * naming the command when the run throws. The run is loaded lazily so --help never loads the Automation API.
 */
import * as readline from "node:readline/promises";

export type ParsedArgs<A> = { kind: "help" } | { kind: "error"; message: string } | { kind: "run"; args: A };

export interface CommandIo {
  readonly confirm: (question: string) => Promise<boolean>;
  readonly log: (text: string) => void;
}

async function confirm(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export function runCommandLine<A>(name: string, usage: string, parsed: ParsedArgs<A>, run: (args: A, io: CommandIo) => Promise<number>): void {
  if (parsed.kind === "help") {
    process.stdout.write(usage);
    return;
  }
  if (parsed.kind === "error") {
    process.stderr.write(`${name}: ${parsed.message}\n${usage}`);
    process.exitCode = 2;
    return;
  }
  run(parsed.args, { confirm, log: (text) => process.stdout.write(text) }).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      process.stderr.write(`${name}: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
