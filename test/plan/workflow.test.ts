import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ROOT } from "../helpers";

interface Step { uses?: string; run?: string; if?: string; with?: Record<string, unknown> }
interface Job { if?: string; needs?: string[]; steps: Step[]; strategy?: { matrix: { stack: string[] } }; permissions?: Record<string, string> }

const workflow = parse(fs.readFileSync(path.join(ROOT, ".github/workflows/pull-request.yml"), "utf8")) as { on: Record<string, unknown>; jobs: Record<string, Job> };

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
});
