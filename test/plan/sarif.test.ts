import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import Ajv from "ajv-draft-04";
import addFormats from "ajv-formats";
import { afterAll, describe, expect, it } from "vitest";
import { runPlan } from "../../plan/cli";
import { policies } from "../../policies/pack";
import { deployStack } from "../../program";
import { ROOT, runPlanCli } from "../helpers";

const schema = JSON.parse(fs.readFileSync(path.join(ROOT, "test/schemas/sarif-2.1.0-rtm.5.json"), "utf8")) as Record<string, unknown>;
// The published schema has a pattern (language) that is not valid with the "u" flag.
const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats(ajv);
const validateSarif = ajv.compile(schema);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sarif-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/**
 * Breaks two requirements of prod: the reference app's database publishes 5432, its frontend has no
 * health check (neither has a runbook requirement of its own, so the general policies alone refuse them).
 */
const breakTwo: pulumi.ResourceTransformation = (args) => {
  if (args.name === "reference-db") return { props: { ...args.props, ports: [{ internal: 5432, external: 5432 }] }, opts: args.opts };
  if (args.name === "reference-frontend-0") return { props: { ...args.props, healthcheck: undefined }, opts: args.opts };
  return undefined;
};

interface SarifLog {
  version: string;
  runs: {
    tool: { driver: { name: string; rules: { id: string; fullDescription: { text: string } }[] } };
    results: { ruleId: string; level: string; message: { text: string }; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } }; logicalLocations?: { fullyQualifiedName: string }[] }[] }[];
  }[];
}

describe("--sarif", () => {
  it("writes SARIF 2.1.0 that validates against the schema: one rule per policy, one error per mandatory violation at its URN", async () => {
    const file = path.join(dir, "prod.sarif");
    const outcome = await runPlan({ stack: "prod", json: true, sarif: file, cwd: ROOT }, (spec) => deployStack(spec, { transformations: [breakTwo] }));
    expect(outcome.exitCode).toBe(1);
    const log = JSON.parse(fs.readFileSync(file, "utf8")) as SarifLog;
    expect(validateSarif(log), JSON.stringify(validateSarif.errors, null, 1)).toBe(true);
    expect(log.version).toBe("2.1.0");
    const run = log.runs[0]!;
    expect(run.tool.driver.rules.map((r) => r.id)).toEqual(policies.map((p) => p.name));
    expect(run.tool.driver.rules[0]!.fullDescription.text).toBe(policies[0]!.description);
    const byRule = Object.fromEntries(run.results.map((r) => [r.ruleId, r]));
    expect(Object.keys(byRule).sort()).toEqual(["app-container-healthcheck-required", "app-database-port-not-published"]);
    const db = byRule["app-database-port-not-published"]!;
    expect(db.level).toBe("error");
    expect(db.message.text).toBe("Database or cache container reference-db publishes 5432->5432 on the host; remove its ports.");
    expect(db.locations[0]!.logicalLocations![0]!.fullyQualifiedName).toMatch(/::reference-db$/);
    // Located at the line of the stack file that declares the app.
    expect(db.locations[0]!.physicalLocation.artifactLocation.uri).toBe("Pulumi.prod.yaml");
    const lines = fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8").split("\n");
    expect(lines[db.locations[0]!.physicalLocation.region.startLine - 1]!.trim()).toBe("reference:");
  });

  it("marks advisory violations as warnings", async () => {
    const file = path.join(dir, "staging.sarif");
    const noRestart: pulumi.ResourceTransformation = (args) => (args.name === "lms-redis" ? { props: { ...args.props, restart: "no" }, opts: args.opts } : undefined);
    const outcome = await runPlan({ stack: "staging", json: true, sarif: file, cwd: ROOT }, (spec) => deployStack(spec, { transformations: [noRestart] }));
    expect(outcome.exitCode).toBe(0);
    const log = JSON.parse(fs.readFileSync(file, "utf8")) as SarifLog;
    expect(validateSarif(log)).toBe(true);
    const levels = log.runs[0]!.results.map((r) => [r.ruleId, r.level]);
    expect(levels).toContainEqual(["app-container-restart-policy-required", "warning"]);
    // Everything else is production's runbook numbers held up to staging, as advice: warnings too.
    expect(levels.filter(([rule]) => rule !== "app-container-restart-policy-required").every(([rule, level]) => rule === "runbook-staging-parity" && level === "warning")).toBe(true);
  });

  it("writes a clean report for the committed stack through the CLI, and the validator can fail", () => {
    const file = path.join(dir, "clean.sarif");
    const res = runPlanCli(["--stack", "prod", "--sarif", file]);
    expect(res.status).toBe(0);
    const log = JSON.parse(fs.readFileSync(file, "utf8")) as SarifLog;
    expect(validateSarif(log)).toBe(true);
    expect(log.runs[0]!.results).toEqual([]);
    expect(validateSarif({ ...log, version: "2.0.0" })).toBe(false);
  });

  it("exits 2 naming the policy and key when the policy config is invalid", () => {
    const file = path.join(dir, "bad-policy-config.json");
    fs.writeFileSync(file, JSON.stringify({ "app-container-log-rotation-required": { maxFiles: 0 }, "no-such-policy": "mandatory" }));
    const res = runPlanCli(["--stack", "prod", "--policy-config", file]);
    expect(res.status).toBe(2);
    expect(res.stderr).toContain("app-container-log-rotation-required.maxFiles: must be >= 1");
    expect(res.stderr).toContain("no-such-policy: unknown policy");
  });
});
