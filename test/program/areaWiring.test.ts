/**
 * What program.ts wires between areas, under Pulumi's mock runtime: the pre-deploy seam runs the
 * backup first and the database roles step after it (both before migrations); a host the stack
 * creates carries the backup writer's policy document on its instance role, and that document
 * allows no delete or retention change.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { WRITER_DENIED_ACTIONS, type PolicyDocument } from "../../components/backups/accessPolicies";
import { runUnderMocks, type PlanRun } from "../../plan/mockRuntime";
import { inputs, named, stackSpec } from "../helpers";
import { awsStackSpec } from "../hosts/fixtures";

describe("the pre-deploy seam: backup, then the database roles, then the release", () => {
  const runs: Record<string, PlanRun> = {};
  beforeAll(async () => {
    for (const stack of ["prod", "staging"]) runs[stack] = await runUnderMocks(stackSpec(stack), `wiring-${stack}`);
  });
  const cases = ["prod", "staging"].flatMap((stack) => stackSpec(stack).apps.filter((a) => a.database.engine === "postgres").map((a) => [stack, a.id] as const));

  it.each(cases)("%s/%s: the roles step waits for the pre-deploy backup, and migrations and backends wait for both", (stack, id) => {
    const { resources } = runs[stack]!;
    const backup = named(resources, `${id}-backups-pre-deploy`);
    const roles = named(resources, `${id}-db-roles-rotate`);
    expect(roles.dependencies).toContain(backup.urn);
    expect(backup.dependencies).not.toContain(roles.urn);
    // Migrations where the app has them, and every backend replica.
    const gated = resources.filter((r) => r.name === `${id}-migrate` || new RegExp(`^${id}-backend-\\d+$`).test(r.name));
    expect(gated.length).toBeGreaterThan(0);
    for (const g of gated) expect(g.dependencies, g.name).toEqual(expect.arrayContaining([backup.urn, roles.urn]));
  });
});

describe("a host the stack creates", () => {
  it("gets the backup writer's policy document on its instance role, with every delete and retention change denied", async () => {
    const spec = awsStackSpec();
    const { resources } = await runUnderMocks(spec, "wiring-aws");
    const created = spec.apps.filter((a) => a.host.kind === "created");
    expect(created.length).toBeGreaterThan(0);
    for (const app of created) {
      const rolePolicy = named(resources, `${app.id}-host-policy-0`);
      const writer = String(inputs(named(resources, `${app.id}-backup-writer-policy`))["policy"]);
      expect(inputs(rolePolicy)["policy"], app.id).toBe(writer);
      const doc = JSON.parse(writer) as PolicyDocument;
      const allowed = doc.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => s.Action);
      for (const action of WRITER_DENIED_ACTIONS) expect(allowed, app.id).not.toContain(action);
      expect(allowed.filter((a) => a.includes("*") || /delete/i.test(a)), app.id).toEqual([]);
      const deny = doc.Statement.find((s) => s.Effect === "Deny")!;
      expect(deny.Action).toEqual(WRITER_DENIED_ACTIONS);
    }
    // An existing host has no role: nothing to attach.
    for (const app of spec.apps.filter((a) => a.host.kind !== "created")) expect(resources.some((r) => r.name === `${app.id}-host-policy-0`), app.id).toBe(false);
  });
});
