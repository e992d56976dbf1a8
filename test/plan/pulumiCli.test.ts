/**
 * The minimum Pulumi CLI is one constant (plan/pulumiCli.ts). The README states it, the
 * pull-request workflow installs exactly it for the real preview, Pulumi.yaml requires it, and the
 * plan prints it in its text header and its JSON: this file fails when any of them drifts.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { PlanDocument } from "../../plan/report";
import { MIN_PULUMI_CLI_VERSION, compareVersions } from "../../plan/pulumiCli";
import { runPlan } from "../../plan/cli";
import { ROOT } from "../helpers";
import { projectProblems } from "../program/projectConfigRules";

interface Step { uses?: string; with?: Record<string, unknown> }
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");

describe(`the minimum Pulumi CLI (${MIN_PULUMI_CLI_VERSION})`, () => {
  it("is the first CLI that accepts this project's Pulumi.yaml", () => {
    const project = parse(read("Pulumi.yaml")) as Record<string, unknown>;
    expect(projectProblems(project, MIN_PULUMI_CLI_VERSION)).toEqual([]);
    expect(projectProblems(project, "3.186.9")).not.toEqual([]);
  });

  it("is what the README states", () => {
    expect(read("README.md")).toContain(`**Pulumi CLI ${MIN_PULUMI_CLI_VERSION} or later**`);
  });

  it("is the version the workflow's Pulumi action installs (pulumi-version)", () => {
    const workflow = parse(read(".github/workflows/pull-request.yml")) as { jobs: Record<string, { steps: Step[] }> };
    const actions = Object.values(workflow.jobs).flatMap((j) => j.steps).filter((s) => s.uses?.startsWith("pulumi/actions@"));
    expect(actions.length).toBeGreaterThan(0);
    for (const a of actions) expect(String(a.with?.["pulumi-version"])).toBe(MIN_PULUMI_CLI_VERSION);
  });

  it("is the range Pulumi.yaml requires (requiredPulumiVersion)", () => {
    expect((parse(read("Pulumi.yaml")) as { requiredPulumiVersion: string }).requiredPulumiVersion).toBe(`>=${MIN_PULUMI_CLI_VERSION}`);
  });

  it("is printed by the plan: the text header and the JSON's minPulumiCliVersion", async () => {
    const outcome = await runPlan({ stack: "staging", json: false, cwd: ROOT });
    expect(outcome.exitCode, outcome.stderr).toBe(0);
    expect(outcome.stdout.split("\n")[1]).toBe(
      `Deploying it needs Pulumi CLI ${MIN_PULUMI_CLI_VERSION} or later (Pulumi.yaml declares config of type object); this offline plan needs no CLI.`,
    );
    const document = JSON.parse(JSON.stringify(outcome.document)) as PlanDocument;
    expect(document.minPulumiCliVersion).toBe(MIN_PULUMI_CLI_VERSION);
  });

  it.each([
    ["3.187.0", "3.187.0", 0],
    ["3.188.0", "3.187.0", 1],
    ["3.186.12", "3.187.0", -1],
    ["v3.200.1", "3.187.0", 1],
    ["3.187.0-alpha.1", "3.187.0", 0],
  ])("compares versions: %s vs %s", (a, b, sign) => expect(Math.sign(compareVersions(a, b))).toBe(sign));
});
