/**
 * The scheduled maintenance-window workflow, read structurally (it has not run on GitHub): when it
 * runs, that it never overlaps itself or a deploy of prod, its permissions, the command, how the
 * Pulumi CLI gets there, and where its secrets go.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { CronExpressionParser } from "cron-parser";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseMaintenanceWindowArgs } from "../../ops/maintenanceWindowArgs";
import { ROOT } from "../helpers";
import { requireTool } from "../tools/realTools";

interface Step { name?: string; uses?: string; run?: string; if?: string; with?: Record<string, unknown>; env?: Record<string, string> }
interface Job { if?: string; needs?: string[]; steps: Step[]; permissions?: Record<string, string>; env?: Record<string, string> }
interface Workflow { on: { schedule?: { cron: string }[] } & Record<string, unknown>; permissions: Record<string, string>; concurrency: { group: string; "cancel-in-progress": boolean }; jobs: Record<string, Job> }

const text = fs.readFileSync(path.join(ROOT, ".github/workflows/maintenance-window.yml"), "utf8");
const workflow = parse(text) as Workflow;
const job = workflow.jobs["window"]!;
const COMMAND = "npm run maintenance-window -- --stack prod --auto --yes";

describe("the maintenance-window workflow", () => {
  it("runs every 15 minutes (GitHub's cron is UTC)", () => {
    expect(workflow.on.schedule).toEqual([{ cron: "*/15 * * * *" }]);
    const it = CronExpressionParser.parse(workflow.on.schedule![0]!.cron, { tz: "UTC", currentDate: new Date("2026-12-06T01:52:00Z") });
    expect([0, 1, 2].map(() => it.next().toISOString())).toEqual(["2026-12-06T02:00:00.000Z", "2026-12-06T02:15:00.000Z", "2026-12-06T02:30:00.000Z"]);
  });

  it("never runs two at once, nor beside a deploy of prod: one concurrency group for the stack, never cancelled mid-update", () => {
    expect(workflow.concurrency).toEqual({ group: "pulumi-prod", "cancel-in-progress": false });
  });

  it("reads the repository and may ask for an OIDC token for the AWS role, nothing more", () => {
    expect(workflow.permissions).toEqual({ contents: "read" });
    expect(job.permissions).toEqual({ contents: "read", "id-token": "write" });
    expect(workflow.jobs["credentials"]!.permissions).toBeUndefined();
  });

  it("installs the dependencies and the pinned Pulumi CLI, then runs the command, which the script parses as --auto on prod", () => {
    const steps = job.steps;
    const at = (f: (s: Step) => boolean) => steps.findIndex(f);
    const command = at((s) => s.run === COMMAND);
    expect(command).toBeGreaterThan(-1);
    expect(at((s) => s.run === "npm ci")).toBeLessThan(command);
    const cli = steps[at((s) => s.uses?.startsWith("pulumi/actions@") === true)]!;
    expect(cli.with, "installs the CLI only: no command of the action's own").toEqual({ "pulumi-version": "3.187.0" });
    expect(steps.indexOf(cli)).toBeLessThan(command);
    expect(at((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@") === true)).toBeLessThan(command);
    expect(parseMaintenanceWindowArgs(COMMAND.split(" ").slice(4))).toEqual({ kind: "run", args: { stack: "prod", action: "auto", yes: true } });
    const scripts = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    expect(scripts["maintenance-window"]).toBe("tsx scripts/maintenance-window.ts");
  });

  it("runs only where Pulumi credentials exist (skipped, not failed, elsewhere)", () => {
    expect(job.needs).toEqual(["credentials"]);
    expect(job.if).toBe("needs.credentials.outputs.pulumi == 'true'");
  });

  it("pins every action to a release and passes secrets only through env and with, never in a script", () => {
    for (const s of [...job.steps, ...workflow.jobs["credentials"]!.steps]) {
      if (s.uses) expect(s.uses).toMatch(/^[\w-]+\/[\w-]+(\/[\w-]+)*@v\d+(\.\d+)*$/);
      expect(s.run ?? "", s.name ?? s.run).not.toContain("secrets.");
    }
    expect(job.steps.find((s) => s.run === COMMAND)!.env).toEqual({ PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}", PULUMI_CONFIG_PASSPHRASE: "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}" });
  });

  it("documents in the README every secret it reads, and says it has not run on GitHub", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("### Maintenance window"), readme.indexOf("### Scaling and capacity"));
    const secrets = [...new Set([...text.matchAll(/secrets\.([A-Z_]+)/g)].map((m) => m[1]!))].sort();
    expect(secrets).toEqual(["AWS_DEPLOY_ROLE_ARN", "DEPLOY_SSH_KNOWN_HOSTS", "DEPLOY_SSH_PRIVATE_KEY", "PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE"]);
    for (const name of secrets) expect(section, name).toContain(`\`${name}\``);
    expect(section).toContain("has not run on GitHub");
  });

  it("has shell steps shellcheck passes", () => {
    const shellcheck = requireTool("shellcheck");
    for (const run of Object.values(workflow.jobs).flatMap((j) => j.steps).map((s) => s.run).filter((r): r is string => r !== undefined)) {
      const script = `#!/usr/bin/env bash\n${run.replace(/\$\{\{[^}]*\}\}/g, "EXPR")}`;
      const res = spawnSync(shellcheck, ["-s", "bash", "-"], { input: script, encoding: "utf8" });
      expect(res.status, `${res.stdout}\n${script}`).toBe(0);
    }
  });
});
