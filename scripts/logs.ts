/**
 * npm run logs -- --stack <name> --app <id> [--service <dir>] [--since YYYY-MM-DD] [--until YYYY-MM-DD]
 *                  [--grep <extended regex>] [--ignore-case] [--max <lines>] [--ssh-host <address> --host-key '<key>']
 *
 * Searches the app's log store on its Docker host (components/logging/logSearch.ts): every container's
 * lines the log collector kept, by day (UTC; today by default), reached as the deploy steps reach the
 * host. Exit status 0 when a line matched, 1 when none did, 2 when the search could not run.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { hostEnvironment, renderHostRunScript } from "../components/diagnostics/hostRun";
import { logSearchProblems, renderLogSearchScript, type LogSearchSpec } from "../components/logging/logSearch";
import { PROJECT } from "../config/defaults";
import { ConfigError } from "../config/errors";
import { parseStackConfig } from "../config/resolve";
import { readStackFile } from "../config/sources";

const USAGE =
  "usage: npm run logs -- --stack <name> --app <id> [--service <dir>] [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--grep <regex>] [--ignore-case] [--max <lines>] [--ssh-host <address> --host-key '<type> <base64>']";
const FLAGS = ["--ignore-case"];
const OPTIONS = ["--stack", "--app", "--service", "--since", "--until", "--grep", "--max", "--ssh-host", "--host-key"];

export interface LogsResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function logs(argv: readonly string[], cwd: string = process.cwd(), environment: NodeJS.ProcessEnv = process.env, today: string = new Date().toISOString().slice(0, 10)): LogsResult {
  try {
    const values: Record<string, string> = {};
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i]!;
      if (FLAGS.includes(arg)) values[arg.slice(2)] = "true";
      else if (OPTIONS.includes(arg) && argv[i + 1] !== undefined) values[arg.slice(2)] = argv[++i]!;
      else throw new Error(`unknown argument ${arg}\n${USAGE}`);
    }
    if (!values["stack"] || !values["app"]) throw new Error(USAGE);
    const spec = parseStackConfig(readStackFile(path.join(cwd, `Pulumi.${values["stack"]}.yaml`), PROJECT), PROJECT);
    const app = spec.apps.find((a) => a.id === values["app"]);
    if (!app) throw new Error(`stack ${values["stack"]} has no app ${values["app"]}; it deploys ${spec.apps.map((a) => a.id).join(", ")}`);
    if (!app.logging) throw new Error(`${app.id} keeps no log store: apps.${app.id}.logging.enabled is false in stack ${values["stack"]}`);
    const search: LogSearchSpec = {
      appId: app.id,
      since: values["since"] ?? today,
      until: values["until"] ?? today,
      max: values["max"] === undefined ? 1000 : Number(values["max"]),
      ...(values["service"] !== undefined && { service: values["service"] }),
      ...(values["grep"] !== undefined && { pattern: values["grep"] }),
      ...(values["ignore-case"] && { ignoreCase: true }),
    };
    const problems = logSearchProblems(search);
    if (problems.length) throw new Error(problems.join("\n"));
    const env = { ...environment, ...hostEnvironment(app.id, app.host, { ...(values["ssh-host"] && { sshHost: values["ssh-host"] }), ...(values["host-key"] && { hostKey: values["host-key"] }) }) };
    const run = spawnSync("/bin/sh", ["-c", renderHostRunScript()], { env, cwd, encoding: "utf8", input: renderLogSearchScript(search), maxBuffer: 256 * 1024 * 1024, timeout: 600_000 });
    return { status: run.status ?? 2, stdout: run.stdout, stderr: run.stderr };
  } catch (err) {
    return { status: 2, stdout: "", stderr: `${err instanceof ConfigError ? err.message : (err as Error).message}\n` };
  }
}

if (require.main === module) {
  const result = logs(process.argv.slice(2));
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  process.exit(result.status);
}
