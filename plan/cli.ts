/**
 * `npm run plan -- --stack <name> | --config-file <path> [--json [file]] [--sarif <file>] [--policy-config <file>]`
 * The offline plan: runs the program under Pulumi's mock runtime with a stack's config and prints
 * what `pulumi up` would create. Exit codes: 0 clean; 1 a mandatory policy violation; 2 invalid
 * config or a program error (one line per problem, no stack trace).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT } from "../config/defaults";
import { ConfigError } from "../config/errors";
import { parseStackConfig } from "../config/resolve";
import { readStackFile } from "../config/sources";
import type { StackSpec } from "../config/spec";
import { PACK_ENFORCEMENT_LEVEL, policies } from "../policies/pack";
import { EXIT, type PlanOptions } from "./args";
import { runUnderMocks } from "./mockRuntime";
import { PolicyConfigError, resolvePolicyConfig, runPolicies, type PolicyConfigFile } from "./policyRunner";
import { MIN_PULUMI_CLI_VERSION } from "./pulumiCli";
import { renderSarif } from "./sarif";
import { describeHosting } from "../components/hosts/describe";
import { countByType, planDocument, renderTree, renderViolations, type PlanDocument, type Violation } from "./report";

export { EXIT, parsePlanArgs, USAGE, type PlanOptions } from "./args";

const PACKAGE_VERSION = (JSON.parse(fs.readFileSync(path.join(__dirname, "..", "policies", "package.json"), "utf8")) as { version: string }).version;

export interface PlanOutcome {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly document?: PlanDocument;
}

/** The stack name a config file stands for: Pulumi.<stack>.yaml, else the file's base name. */
function stackNameOf(file: string): string {
  const base = path.basename(file);
  return /^Pulumi\.(.+)\.ya?ml$/.exec(base)?.[1] ?? base.replace(/\.ya?ml$/, "");
}

/** Reads and validates the policy pack config for a stack. */
function loadPolicyLevels(options: PlanOptions, environment: string) {
  const file = options.policyConfig
    ? path.resolve(options.cwd, options.policyConfig)
    : path.join(options.cwd, "policies", "config", `${environment}.json`);
  let content: PolicyConfigFile;
  try {
    content = JSON.parse(fs.readFileSync(file, "utf8")) as PolicyConfigFile;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new PolicyConfigError([`${file}: ${code ? `cannot read the policy config (${code})` : `is not valid JSON: ${(err as Error).message}`}`]);
  }
  if (content === null || typeof content !== "object" || Array.isArray(content)) throw new PolicyConfigError([`${file}: must be a JSON object of policy settings`]);
  return { file, levels: resolvePolicyConfig(policies, PACK_ENFORCEMENT_LEVEL, content) };
}

const PREVIEW_NOTE =
  "Provider outputs (ids, image digests, generated names and passwords) are unknown, as in a first `pulumi preview`; a policy that reads one cannot run then (advisory).";

function renderCannotRun(names: readonly string[]): string {
  if (names.length === 0) return "Every policy can run during a first preview.";
  return ["Policies that cannot run during a first preview (advisory, not enforced until `pulumi up`):", ...names.map((n) => `  - ${n}`)].join("\n");
}

/** The plan's second line: what a real deploy of this program needs. */
export const cliRequirement = () =>
  `Deploying it needs Pulumi CLI ${MIN_PULUMI_CLI_VERSION} or later (Pulumi.yaml declares config of type object); this offline plan needs no CLI.`;

export async function runPlan(options: PlanOptions, program?: (spec: StackSpec) => unknown): Promise<PlanOutcome> {
  const file = options.configFile ? path.resolve(options.cwd, options.configFile) : path.join(options.cwd, `Pulumi.${options.stack}.yaml`);
  const stack = options.stack ?? stackNameOf(file);
  let spec;
  try {
    spec = parseStackConfig(readStackFile(file, PROJECT), PROJECT, { ...(options.now !== undefined && { now: options.now }) });
  } catch (err) {
    if (err instanceof ConfigError) return { exitCode: EXIT.invalid, stdout: "", stderr: `${err.message}\n` };
    throw err;
  }
  let levels;
  try {
    levels = loadPolicyLevels(options, spec.environment).levels;
  } catch (err) {
    if (err instanceof PolicyConfigError) return { exitCode: EXIT.invalid, stdout: "", stderr: `${err.message}\n` };
    throw err;
  }
  let run;
  let violations: Violation[];
  try {
    run = await runUnderMocks(spec, stack, program, { preview: options.preview ?? false });
    violations = (await runPolicies(run.resources, policies, levels)).violations;
  } catch (err) {
    return { exitCode: EXIT.invalid, stdout: "", stderr: `program error: ${(err as Error).message}\n` };
  }
  const warnings = spec.apps.flatMap((app) =>
    app.unsetExternalSecrets.map(
      (name) => `${app.id}: external secret ${name} is not set; the backend starts without it (pulumi config set --secret --path 'secrets.${app.id}.${name}')`,
    ),
  );
  const document = planDocument(stack, spec.environment, run.resources, violations, warnings, options.preview ?? false);
  const exitCode = violations.some((v) => v.enforcementLevel === "mandatory") ? EXIT.violation : EXIT.ok;
  if (options.sarif) {
    const sarif = renderSarif({
      policies,
      violations,
      stackFile: path.relative(options.cwd, file).split(path.sep).join("/"),
      stackFileText: fs.readFileSync(file, "utf8"),
      appIds: spec.apps.map((a) => a.id),
      toolVersion: PACKAGE_VERSION,
    });
    fs.writeFileSync(path.resolve(options.cwd, options.sarif), `${JSON.stringify(sarif, null, 2)}\n`);
  }
  const json = `${JSON.stringify(document, null, 2)}\n`;
  if (options.jsonFile) fs.writeFileSync(path.resolve(options.cwd, options.jsonFile), json);
  else if (options.json) return { exitCode, stdout: json, stderr: "", document };
  const counts = countByType(run.resources);
  const mode = options.preview ? ", as a first preview" : "";
  const text = [
    `Offline plan of stack ${stack} (${spec.environment})${mode}: ${run.resources.length} resources, apps ${spec.apps.map((a) => a.id).join(", ")}`,
    cliRequirement(),
    `Rotation clock: ${new Date(spec.apps[0]?.rotation.now ?? Date.now()).toISOString()}${options.now !== undefined ? " (--now)" : ""}; each generated secret is in the window of that time.`,
    ...(options.preview ? [PREVIEW_NOTE] : []),
    "",
    renderTree(run.resources),
    "",
    "Resources by type:",
    ...counts.map(([type, n]) => `  ${String(n).padStart(4)}  ${type}`),
    "",
    "Hosts and firewall:",
    ...describeHosting(spec.apps),
    "",
    ...(warnings.length ? ["Warnings:", ...warnings.map((w) => `  - ${w}`), ""] : []),
    renderViolations(violations),
    ...(options.preview ? ["", renderCannotRun(document.cannotRunDuringPreview)] : []),
    "",
  ].join("\n");
  return { exitCode, stdout: text, stderr: "", document };
}
