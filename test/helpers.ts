/** Shared test fixtures: the repo's stack files as specs, and ways to look into a planned run. */
import { spawnSync } from "node:child_process";
import { randomInt } from "node:crypto";
import * as path from "node:path";
import { PROJECT } from "../config/defaults";
import { ConfigError } from "../config/errors";
import { parseStackConfig, type RawConfig } from "../config/resolve";
import { readStackFile } from "../config/sources";
import type { StackSpec } from "../config/spec";
import type * as pulumi from "@pulumi/pulumi";
import { mocks, type PlannedResource } from "../plan/mockRuntime";
import { SECRET_SIG, SPECIAL_SIG_KEY } from "../plan/pulumiInternals";
import { redactInputs } from "../plan/report";

export const ROOT = path.resolve(__dirname, "..");

export function stackSpec(stack: string): StackSpec {
  return parseStackConfig(readStackFile(path.join(ROOT, `Pulumi.${stack}.yaml`), PROJECT), PROJECT);
}

export function rawStackConfig(stack: string): RawConfig {
  return readStackFile(path.join(ROOT, `Pulumi.${stack}.yaml`), PROJECT);
}

export const CONTAINER = "docker:index/container:Container";

export function byType(resources: readonly PlannedResource[], type: string): PlannedResource[] {
  return resources.filter((r) => r.type === type);
}

export function named(resources: readonly PlannedResource[], name: string): PlannedResource {
  const found = resources.find((r) => r.name === name);
  if (!found) throw new Error(`no resource named ${name}; have ${resources.map((r) => r.name).join(", ")}`);
  return found;
}

/** Inputs as plain JSON, secrets as "[secret]". */
export function inputs(r: PlannedResource): Record<string, unknown> {
  return redactInputs(r.wireInputs) as Record<string, unknown>;
}

export function isSecretWire(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SPECIAL_SIG_KEY] === SECRET_SIG;
}

/** Runs the plan CLI as a user would (node + tsx), in the repo root. */
export function runPlanCli(args: readonly string[], input?: string) {
  const res = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts/plan.ts"), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    input,
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** The problems a raw stack config has, as `<key path>: <message>` lines; none when it is valid. */
export function problemsOf(raw: unknown): string[] {
  try {
    parseStackConfig(raw as RawConfig);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  return [];
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/**
 * The plan's mocks, with @pulumi/random's RandomPassword as the provider behaves: one value per
 * name, keepers and length, made once and kept (a new keeper, such as a rotation window, makes a new
 * one). `made` holds every value made, for tests that look for a password where it must not be.
 */
export function keptRandomPasswords(): { mocks: pulumi.runtime.Mocks; made: ReadonlyMap<string, string> } {
  const made = new Map<string, string>();
  return {
    made,
    mocks: {
      newResource: async (args) => {
        const base = await mocks.newResource(args);
        if (args.type !== "random:index/randomPassword:RandomPassword") return base;
        const key = JSON.stringify([args.name, args.inputs["keepers"], args.inputs["length"]]);
        if (!made.has(key)) made.set(key, Array.from({ length: Number(args.inputs["length"]) }, () => ALNUM[randomInt(ALNUM.length)]).join(""));
        return { ...base, state: { ...base.state, result: made.get(key) } };
      },
      call: mocks.call,
    },
  };
}
