/**
 * npm run diagnose -- --stack <name> --app <id> [--evidence] [--ssh-host <address> --host-key '<key>']
 *
 * Runs the runbooks' troubleshooting steps for one app on its Docker host and prints one report
 * (components/diagnostics/diagnoseScript.ts); exit status 1 when it found a problem. With --evidence
 * it also takes the "preserve evidence" bundle of a security incident (components/firewall/evidence.ts)
 * into incident-evidence/ and prints its sha256. Reaches the host as the deploy steps do.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { renderDiagnoseScript } from "../components/diagnostics/diagnoseScript";
import { hostEnvironment, renderHostRunScript } from "../components/diagnostics/hostRun";
import { renderEvidenceCollectScript, renderEvidenceFetchScript } from "../components/firewall/evidence";
import { PROJECT } from "../config/defaults";
import { ConfigError } from "../config/errors";
import { parseStackConfig } from "../config/resolve";
import { readStackFile } from "../config/sources";

const USAGE = "usage: npm run diagnose -- --stack <name> --app <id> [--evidence] [--ssh-host <address> --host-key '<type> <base64>']";

export interface DiagnoseArgs {
  readonly stack: string;
  readonly app: string;
  readonly evidence: boolean;
  readonly sshHost?: string;
  readonly hostKey?: string;
}

export function parseDiagnoseArgs(argv: readonly string[]): DiagnoseArgs {
  const values: Record<string, string> = {};
  let evidence = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--evidence") evidence = true;
    else if (["--stack", "--app", "--ssh-host", "--host-key"].includes(arg) && argv[i + 1] !== undefined) values[arg.slice(2)] = argv[++i]!;
    else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  if (!values["stack"] || !values["app"]) throw new Error(USAGE);
  return { stack: values["stack"], app: values["app"], evidence, ...(values["ssh-host"] && { sshHost: values["ssh-host"] }), ...(values["host-key"] && { hostKey: values["host-key"] }) };
}

export interface DiagnoseResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the report (and the evidence bundle) for one app; what the host printed comes back. */
export function diagnose(argv: readonly string[], cwd: string = process.cwd(), environment: NodeJS.ProcessEnv = process.env): DiagnoseResult {
  try {
    const args = parseDiagnoseArgs(argv);
    const spec = parseStackConfig(readStackFile(path.join(cwd, `Pulumi.${args.stack}.yaml`), PROJECT), PROJECT);
    const app = spec.apps.find((a) => a.id === args.app);
    if (!app) throw new Error(`stack ${args.stack} has no app ${args.app}; it deploys ${spec.apps.map((a) => a.id).join(", ")}`);
    const env = { ...environment, ...hostEnvironment(app.id, app.host, { ...(args.sshHost && { sshHost: args.sshHost }), ...(args.hostKey && { hostKey: args.hostKey }) }) };
    const options = { env, cwd, encoding: "utf8" as const, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 };
    const run = spawnSync("/bin/sh", ["-c", renderHostRunScript()], { ...options, input: renderDiagnoseScript(app) });
    let { stdout, stderr } = run;
    let status = run.status ?? 1;
    if (args.evidence) {
      const bundle = spawnSync("/bin/sh", ["-c", renderEvidenceFetchScript()], { ...options, input: renderEvidenceCollectScript(app.id) });
      stdout += `\n== evidence bundle ==\n${bundle.stdout}`;
      stderr += bundle.stderr;
      if (bundle.status !== 0) status = bundle.status ?? 1;
    }
    return { status, stdout, stderr };
  } catch (err) {
    return { status: 2, stdout: "", stderr: `${err instanceof ConfigError ? err.message : (err as Error).message}\n` };
  }
}

if (require.main === module) {
  const result = diagnose(process.argv.slice(2));
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  process.exit(result.status);
}
