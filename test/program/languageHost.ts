/**
 * Runs this project the way `pulumi up` does: the nodejs language host's own entry
 * (`@pulumi/pulumi/cmd/run`, which loads run.js), with `PULUMI_NODEJS_TYPESCRIPT=true` (from
 * Pulumi.yaml's `typescript: true`) so the host registers ts-node itself, the project directory as
 * the program (`.`, resolved through package.json's `main`), and the config as the engine hands it
 * over (PULUMI_CONFIG, PULUMI_CONFIG_SECRET_KEYS). Only the resource monitor is Pulumi's mock.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT } from "../helpers";

export interface HostRun {
  /** Exit status of the language host process. */
  readonly status: number | null;
  readonly stderr: string;
  readonly stdout: string;
  /** Every resource the program registered, the root Stack included. */
  readonly resources: readonly { type: string; name: string; parent?: string; inputs?: Record<string, unknown> }[];
  /** The outputs the host registered on the root Stack: what `pulumi stack output` would show. */
  readonly stackOutputs: Record<string, unknown> | undefined;
}

/**
 * @param config engine config: `runbook:<key>` to its value (objects are given as JSON, as the engine does)
 * @param secretKeys config keys the engine marks secret
 * @param options.inputs record each resource's inputs as the engine receives them (secrets keep their marker)
 */
export function runLanguageHost(stack: string, config: Record<string, unknown>, secretKeys: readonly string[] = [], projectDir = ROOT, options: { readonly inputs?: boolean } = {}): HostRun {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "langhost-"));
  const out = path.join(dir, "out.json");
  const engineConfig = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
  const res = spawnSync(
    process.execPath,
    [
      "--require",
      path.join(__dirname, "languageHostPreload.cjs"),
      path.join(projectDir, "node_modules", "@pulumi", "pulumi", "cmd", "run"),
      "--monitor=mock",
      "--project=runbook",
      `--stack=${stack}`,
      `--pwd=${projectDir}`,
      ".",
    ],
    {
      cwd: projectDir,
      encoding: "utf8",
      timeout: 170_000,
      env: {
        PATH: process.env["PATH"] ?? "",
        HOME: process.env["HOME"] ?? os.tmpdir(),
        // What the host's entry sets from its flags; the preload needs them before the entry runs.
        PULUMI_NODEJS_PROJECT: "runbook",
        PULUMI_NODEJS_STACK: stack,
        PULUMI_NODEJS_TYPESCRIPT: "true",
        PULUMI_CONFIG: JSON.stringify(engineConfig),
        PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(secretKeys),
        LH_ROOT: projectDir,
        LH_OUT: out,
        ...(options.inputs && { LH_INPUTS: "1" }),
      },
    },
  );
  const recorded = fs.existsSync(out) ? (JSON.parse(fs.readFileSync(out, "utf8")) as Pick<HostRun, "resources" | "stackOutputs">) : { resources: [], stackOutputs: undefined };
  fs.rmSync(dir, { recursive: true, force: true });
  return { status: res.status, stderr: res.stderr, stdout: res.stdout, resources: recorded.resources, stackOutputs: recorded.stackOutputs };
}
