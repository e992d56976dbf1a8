/**
 * `--preview`: the plan as a first `pulumi preview` sees the stack. Nothing exists yet, so what the
 * providers compute (ids, image digests, random passwords) is unknown, and a policy
 * that reads such a value reports "can't run policy ... during preview" (advisory) instead of
 * deciding. The plan must still finish: `apply` never runs on an unknown output.
 */
import * as docker from "@pulumi/docker";
import { beforeAll, describe, expect, it } from "vitest";
import { runUnderMocks } from "../../plan/mockRuntime";
import { resolvePolicyConfig, runPolicies } from "../../plan/policyRunner";
import { policies } from "../../policies/pack";
import { UNKNOWN, type PlanDocument } from "../../plan/report";
import { CONTAINER, runPlanCli, stackSpec } from "../helpers";

let previewStdout = "";
const planOf = (args: string[]) => {
  const res = runPlanCli(args);
  expect(res.status, res.stderr).toBe(0);
  if (args.includes("--preview")) previewStdout = res.stdout;
  return JSON.parse(res.stdout) as PlanDocument;
};

describe("npm run plan -- --preview", () => {
  let preview: PlanDocument;
  let update: PlanDocument;
  beforeAll(() => {
    preview = planOf(["--stack", "prod", "--preview", "--json"]);
    update = planOf(["--stack", "prod", "--json"]);
  });

  it("exits 0 and lists the same resources as the plan, with provider outputs unknown", () => {
    expect(preview.preview).toBe(true);
    expect(preview.resources.map((r) => r.urn).sort()).toEqual(update.resources.map((r) => r.urn).sort());
    const containers = preview.resources.filter((r) => r.type === CONTAINER);
    expect(containers.length).toBeGreaterThan(20);
    // A container runs an image by the digest the provider pulls: unknown before the first update.
    for (const c of containers) expect((c.inputs as Record<string, unknown>)["image"], c.name).toBe(UNKNOWN);
    expect((update.resources.find((r) => r.type === CONTAINER)!.inputs as Record<string, unknown>)["image"]).not.toBe(UNKNOWN);
  });

  it("reports the policies that cannot run with unknowns, as advisory, and names them", () => {
    expect(preview.cannotRunDuringPreview).toContain("app-container-secret-env");
    for (const policy of preview.cannotRunDuringPreview) {
      const reports = preview.violations.filter((v) => v.policy === policy);
      expect(reports.length, policy).toBeGreaterThan(0);
      for (const v of reports) {
        expect(v.enforcementLevel).toBe("advisory");
        expect(v.message).toMatch(new RegExp(`^can't run policy '${policy}' during preview: `));
      }
    }
    expect(preview.violations.filter((v) => v.enforcementLevel === "mandatory")).toEqual([]);
    expect(update.preview).toBe(false);
    expect(update.cannotRunDuringPreview).toEqual([]);
  });

  it("runs every runbook-requirement policy in a first preview: deploy steps name containers by their autonames and images by tag", () => {
    expect(preview.cannotRunDuringPreview.filter((p) => p.startsWith("runbook-"))).toEqual([]);
  });

  it("still refuses a broken runbook requirement in a first preview", async () => {
    const spec = stackSpec("prod");
    const broken = { ...spec, apps: spec.apps.map((a) => (a.id === "lms" ? { ...a, backend: { ...a.backend, replicas: 1 } } : a)) };
    const run = await runUnderMocks(broken, "preview-broken", undefined, { preview: true });
    const result = await runPolicies(run.resources, policies, resolvePolicyConfig(policies, "mandatory", {}));
    expect(result.violations.filter((v) => v.enforcementLevel === "mandatory").map((v) => v.message)).toEqual([
      "lms: web replicas 1 < 3 required in production (003 'Horizontal Scaling')",
    ]);
  });

  it("says so in the text report", () => {
    const res = runPlanCli(["--stack", "prod", "--preview"]);
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(/^Offline plan of stack prod \(prod\), as a first preview: \d+ resources/);
    expect(res.stdout).toContain("Policies that cannot run during a first preview (advisory, not enforced until `pulumi up`):\n  - app-container-secret-env");
  });

  it("never prints a secret, known or not", () => {
    expect(previewStdout).toContain('"[secret]"');
    expect(previewStdout).not.toMatch(/x{32}/);
    expect(previewStdout).not.toContain("offline-placeholder");
  });

  it("fails with a message, instead of hanging, when the program awaits an output that stays unknown", async () => {
    const run = runUnderMocks(
      stackSpec("staging"),
      "hang",
      () => {
        const network = new docker.Network("n", {});
        // An apply on an unknown output never runs in a preview: this promise never settles.
        new docker.Container("c", { image: new Promise<string>((resolve) => void network.id.apply((n) => resolve(n))) });
      },
      { preview: true, timeoutMs: 1500 },
    );
    await expect(run).rejects.toThrow(
      "the program's resources did not finish registering within 1.5 s in preview mode: something awaits an output that stays unknown in a preview (an apply that never runs)",
    );
  });
});
