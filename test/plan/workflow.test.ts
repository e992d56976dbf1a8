import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ROOT } from "../helpers";
import { requireTool, tempDir } from "../tools/realTools";

interface Step { name?: string; uses?: string; run?: string; if?: string; with?: Record<string, unknown>; env?: Record<string, string> }
interface Job { if?: string; needs?: string[]; steps: Step[]; strategy?: { matrix: { stack: string[] } }; permissions?: Record<string, string> }

const workflowText = fs.readFileSync(path.join(ROOT, ".github/workflows/pull-request.yml"), "utf8");
const workflow = parse(workflowText) as { on: Record<string, unknown>; jobs: Record<string, Job> };
const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
const knownHostsStep = () => workflow.jobs["preview"]!.steps.find((s) => s.env?.["KNOWN_HOSTS"] !== undefined)!;

describe("the pull-request workflow", () => {
  it("runs on every pull request", () => expect(Object.keys(workflow.on)).toContain("pull_request"));

  it("runs the README's test command and the offline plan of each stack, uploading its SARIF", () => {
    const plan = workflow.jobs["plan"]!;
    expect(plan.strategy!.matrix.stack).toEqual(["prod", "staging"]);
    const runs = plan.steps.map((s) => s.run ?? "");
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const testCommand = "bash scripts/install-test-tools.sh && npm ci && npm test";
    expect(readme).toContain(testCommand);
    expect(runs).toContain(testCommand);
    expect(runs).toContain("npm run plan -- --stack ${{ matrix.stack }} --sarif plan-${{ matrix.stack }}.sarif");
    const upload = plan.steps.find((s) => s.uses?.startsWith("github/codeql-action/upload-sarif"))!;
    expect(upload.with!["sarif_file"]).toBe("plan-${{ matrix.stack }}.sarif");
    expect(plan.permissions!["security-events"]).toBe("write");
  });

  it("runs the real preview with the policy pack only when Pulumi credentials exist", () => {
    const preview = workflow.jobs["preview"]!;
    expect(preview.if).toBe("needs.credentials.outputs.pulumi == 'true'");
    const action = preview.steps.find((s) => s.uses?.startsWith("pulumi/actions@"))!;
    expect(action.with).toMatchObject({ command: "preview", policyPacks: "policies", policyPackConfigs: "policies/config/${{ matrix.stack }}.json" });
  });

  it("uploads SARIF with security-events: write and actions: read, and skips the upload on pull requests from forks", () => {
    const plan = workflow.jobs["plan"]!;
    expect(plan.permissions).toMatchObject({ "security-events": "write", actions: "read" });
    const upload = plan.steps.find((s) => s.uses?.startsWith("github/codeql-action/upload-sarif"))!;
    const condition = upload.if!.replace(/\s+/g, " ");
    expect(condition).toContain("always()");
    expect(condition).toContain("(github.event_name != 'pull_request' || github.event.pull_request.head.repo.full_name == github.repository)");
  });

  it("writes a pinned known_hosts from the DEPLOY_SSH_KNOWN_HOSTS secret before the preview dials the Docker hosts", () => {
    const steps = workflow.jobs["preview"]!.steps;
    const step = knownHostsStep();
    expect(step.env!["KNOWN_HOSTS"]).toBe("${{ secrets.DEPLOY_SSH_KNOWN_HOSTS }}");
    expect(step.run).toContain('> "$HOME/.ssh/known_hosts"');
    expect(step.run).toContain("StrictHostKeyChecking yes");
    expect(steps.indexOf(step)).toBeLessThan(steps.findIndex((s) => s.uses?.startsWith("pulumi/actions@")));
  });

  it("never disables or weakens host-key checking, and never trusts a key scanned at run time", () => {
    for (const banned of [/StrictHostKeyChecking[ =]+(no|off|accept-new)/i, /UserKnownHostsFile[ =]+\/dev\/null/i, /ssh-keyscan/]) {
      expect(workflowText).not.toMatch(banned);
    }
  });

  it("documents in the README every secret the workflow reads", () => {
    const secrets = [...new Set([...workflowText.matchAll(/secrets\.([A-Z_]+)/g)].map((m) => m[1]!))].filter((n) => n !== "GITHUB_TOKEN");
    expect(secrets.sort()).toEqual(["DEPLOY_SSH_KNOWN_HOSTS", "DEPLOY_SSH_PRIVATE_KEY", "PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE"]);
    for (const name of secrets) expect(readme, name).toContain(`\`${name}\``);
  });

  it("has shell steps shellcheck passes", () => {
    const shellcheck = requireTool("shellcheck");
    const runs = Object.values(workflow.jobs).flatMap((j) => j.steps).map((s) => s.run).filter((r): r is string => r !== undefined);
    for (const run of runs) {
      // GitHub expands ${{ ... }} before bash sees the script.
      const script = `#!/usr/bin/env bash\n${run.replace(/\$\{\{[^}]*\}\}/g, "EXPR")}`;
      const res = spawnSync(shellcheck, ["-s", "bash", "-"], { input: script, encoding: "utf8" });
      expect(res.status, `${res.stdout}\n${script}`).toBe(0);
    }
  });

  it("the known_hosts step, run, leaves ssh with strict checking against exactly the pinned keys", () => {
    const ssh = requireTool("ssh");
    const keygen = requireTool("ssh-keygen");
    const home = tempDir("known-hosts");
    try {
      // A throwaway host key stands in for a Docker host's.
      spawnSync(keygen, ["-q", "-t", "ed25519", "-N", "", "-f", path.join(home, "hostkey")], { encoding: "utf8" });
      const line = `fdts-prod.example.com ${fs.readFileSync(path.join(home, "hostkey.pub"), "utf8").split(" ").slice(0, 2).join(" ")}`;
      const run = (knownHosts: string) =>
        spawnSync("bash", ["-e", "-c", knownHostsStep().run!], {
          cwd: ROOT,
          encoding: "utf8",
          env: { PATH: process.env["PATH"] ?? "", HOME: home, KNOWN_HOSTS: knownHosts, STACK_FILE: "Pulumi.prod.yaml" },
        });
      const missing = run("");
      expect(missing.status).toBe(1);
      expect(missing.stdout).toContain("set the DEPLOY_SSH_KNOWN_HOSTS secret");
      const ok = run(line);
      expect(ok.status, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/SHA256:\S+ fdts-prod\.example\.com \(ED25519\)/);
      expect(fs.statSync(path.join(home, ".ssh/known_hosts")).mode & 0o777).toBe(0o600);
      const effective = spawnSync(ssh, ["-G", "-F", path.join(home, ".ssh/config"), "deploy@fdts-prod.example.com"], { encoding: "utf8" }).stdout;
      expect(effective).toMatch(/^stricthostkeychecking (true|yes)$/m);
      expect(effective).toContain(`userknownhostsfile ${path.join(home, ".ssh/known_hosts")}`);
      const found = spawnSync(keygen, ["-F", "fdts-prod.example.com", "-f", path.join(home, ".ssh/known_hosts")], { encoding: "utf8" });
      expect(found.status).toBe(0);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
