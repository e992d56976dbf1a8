import { describe, expect, it } from "vitest";
import type { PlanDocument } from "../../plan/report";
import { runPlanCli, stackSpec } from "../helpers";
import { monitoringServices } from "../../components/monitoring/settings";

const APPS = ["fairlens", "fdts", "reference", "lms", "handwork"];

describe("npm run plan", () => {
  for (const stack of ["prod", "staging"]) {
    it(`--stack ${stack} --json exits 0 and lists the containers, networks, volumes and deploy steps of all five apps`, () => {
      const res = runPlanCli(["--stack", stack, "--json"]);
      expect(res.status, res.stderr).toBe(0);
      const doc = JSON.parse(res.stdout) as PlanDocument;
      expect(doc.stack).toBe(stack);
      expect(doc.environment).toBe(stack);
      // Staging gets production's runbook requirements as advice only (runbook-staging-parity).
      expect(doc.violations.filter((v) => v.enforcementLevel === "mandatory")).toEqual([]);
      if (stack === "prod") expect(doc.violations).toEqual([]);
      else expect(new Set(doc.violations.map((v) => v.policy))).toEqual(new Set(["runbook-staging-parity"]));
      const names = new Set(doc.resources.map((r) => r.name));
      for (const app of APPS) {
        for (const suffix of ["internal", "public", "proxy", "backend-0", "health-gate", "proxy-config"]) {
          expect(names.has(`${app}-${suffix}`), `${stack}: ${app}-${suffix}`).toBe(true);
        }
      }
      const types = new Set(doc.resources.map((r) => r.type));
      for (const t of ["docker:index/container:Container", "docker:index/network:Network", "docker:index/volume:Volume", "command:remote:Command"]) {
        expect(types.has(t), t).toBe(true);
      }
      for (const r of doc.resources) {
        expect(Object.keys(r).sort()).toEqual(["dependencies", "inputs", "name", "options", "parent", "type", "urn"]);
        // deleteBeforeReplace only where the program declared it.
        expect(Object.keys(r.options).filter((k) => k !== "deleteBeforeReplace").sort()).toEqual(["ignoreChanges", "protect", "retainOnDelete"]);
      }
      expect(new Set(doc.resources.map((r) => r.urn)).size).toBe(doc.resources.length);
      // Secrets leave only as "[secret]": no generated filler, no placeholder for secure values.
      expect(res.stdout).toContain('"[secret]"');
      expect(res.stdout).not.toMatch(/x{32}/);
      expect(res.stdout).not.toContain("offline-placeholder");
    });
  }

  it("prints a tree and counts by type without --json", () => {
    const res = runPlanCli(["--stack", "prod"]);
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(/^Offline plan of stack prod \(prod\): \d+ resources, apps fairlens, fdts, reference, lms, handwork/);
    expect(res.stdout).toContain("├─ runbook:app:AppStack  fairlens");
    expect(res.stdout).toContain("docker:index/volume:Volume  lms-pgdata  [protect, retainOnDelete]");
    const containers = stackSpec("prod").apps.reduce(
      (n, a) =>
        n + a.backend.replicas + (a.frontend ? (a.frontend.adminPort !== undefined ? 1 : a.frontend.replicas) : 0) +
        a.workers.reduce((w, x) => w + x.replicas, 0) + (a.database.engine === "postgres" ? 1 : 0) + (a.cache ? 1 : 0) + 1 +
        (a.monitoring ? monitoringServices(a).length : 0) + (a.logging ? 1 : 0),
      0,
    );
    expect(res.stdout).toMatch(new RegExp(`\\n\\s+${containers} {2}docker:index/container:Container\\n`));
    expect(res.stdout).toContain("handwork: external secret STRIPE_SECRET_KEY is not set");
  });
});
