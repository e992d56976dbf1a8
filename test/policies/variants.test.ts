/**
 * Whole stacks: the committed prod and staging stacks plan with no mandatory violation, and
 * deliberately broken variants of prod (one runbook requirement broken each, through a Pulumi
 * transformation on the real program) are refused by the policy named for it, and only by it.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { runPlan } from "../../plan/cli";
import { deployStack } from "../../program";
import { ROOT } from "../helpers";

type Mutation = (args: pulumi.ResourceTransformationArgs, seen: Map<string, pulumi.Resource>) => pulumi.ResourceTransformationResult | undefined;

async function planWith(mutation: Mutation, stack = "prod") {
  const seen = new Map<string, pulumi.Resource>();
  const transform: pulumi.ResourceTransformation = (args) => {
    seen.set(args.name, args.resource);
    return mutation(args, seen);
  };
  return runPlan({ stack, json: true, cwd: ROOT }, (spec) => deployStack(spec, { transformations: [transform] }));
}

const onName = (name: string, change: (props: Record<string, unknown>, opts: pulumi.CustomResourceOptions, seen: Map<string, pulumi.Resource>) => void): Mutation =>
  (args, seen) => {
    if (args.name !== name) return undefined;
    const props = { ...args.props };
    const opts = { ...args.opts } as pulumi.CustomResourceOptions;
    change(props, opts, seen);
    return { props, opts };
  };

/** [what is broken, every policy that must refuse it (and no other), the mutation] */
const variants: [string, string[], Mutation][] = [
  ["a frontend without a health check", ["app-container-healthcheck-required"], onName("reference-frontend-0", (p) => delete p["healthcheck"])],
  ["a backend replica without a health check", ["app-container-healthcheck-required", "runbook-health-checks-probe"], onName("fdts-backend-0", (p) => delete p["healthcheck"])],
  ["Redis without a restart policy", ["app-container-restart-policy-required"], onName("lms-redis", (p) => (p["restart"] = "no"))],
  ["a frontend without a memory limit", ["app-container-memory-limit-required"], onName("fairlens-frontend-1", (p) => delete p["memory"])],
  ["a database without log rotation", ["app-container-log-rotation-required"], onName("reference-db", (p) => delete p["logOpts"])],
  ["a backend image on `latest`", ["app-image-tag-pinned"], onName("handwork-backend-image", (p) => (p["name"] = "ghcr.io/handwork/backend:latest"))],
  ["PostgreSQL publishing 5432", ["app-database-port-not-published"], onName("reference-db", (p) => (p["ports"] = [{ internal: 5432, external: 5432 }]))],
  ["a backend replica publishing 8000", ["app-host-port-proxy-only"], onName("fairlens-backend-1", (p) => (p["ports"] = [{ internal: 8000, external: 8000 }]))],
  ["the admin UI bound to every address", ["app-host-port-proxy-only"], onName("handwork-frontend-0", (p) => (p["ports"] = [{ internal: 80, external: 8081, ip: "0.0.0.0" }]))],
  ["a database volume without protect", ["app-volume-protected"], onName("lms-pgdata", (_p, o) => (o.protect = false))],
  ["an uploads volume not retained on delete", ["app-volume-protected"], onName("fdts-uploads", (_p, o) => (o.retainOnDelete = false))],
  ["a JWT secret in a container that does not keep envs secret", ["app-container-secret-env"], onName("fdts-proxy", (p) => (p["envs"] = ["JWT_SECRET=plain-text-value"]))],
  [
    "a backend replica that does not wait for migrations",
    ["app-deploy-steps-ordered", "runbook-migration-command"],
    onName("lms-backend-0", (_p, o, seen) => {
      const migrate = seen.get("lms-migrate");
      o.dependsOn = (o.dependsOn as pulumi.Resource[]).filter((r) => r !== migrate);
    }),
  ],
  [
    "a health gate that runs before the proxy",
    ["app-deploy-steps-ordered", "runbook-health-gate-endpoints"],
    onName("fdts-health-gate", (p, o) => {
      p["create"] = "exit 0";
      p["triggers"] = [];
      o.dependsOn = [];
    }),
  ],
  [
    "a proxy config delivered before the frontend it names is up",
    ["app-deploy-steps-ordered", "runbook-metrics-not-public"],
    onName("fairlens-proxy-config", (p, o, seen) => {
      const frontend = seen.get("fairlens-frontend-1");
      p["stdin"] = "events {}";
      p["triggers"] = [];
      o.dependsOn = (o.dependsOn as pulumi.Resource[]).filter((r) => r !== frontend);
    }),
  ],
  ["an LMS backup bucket with versioning suspended", ["backup-bucket-versioned"], onName("lms-backup-versioning", (p) => (p["versioningConfiguration"] = { status: "Suspended" }))],
  [
    "a FairLens backup writer that may delete",
    ["backup-writer-no-delete"],
    onName("fairlens-backup-writer-policy", (p) => {
      p["policy"] = pulumi.output(p["policy"] as pulumi.Input<string>).apply((text) => text.replace('"s3:PutObject","s3:GetObject"', '"s3:PutObject","s3:GetObject","s3:DeleteObject"'));
    }),
  ],
];

describe("whole stacks under the policy pack", () => {
  for (const stack of ["prod", "staging"]) {
    it(`plans ${stack} with no mandatory violation`, async () => {
      const outcome = await runPlan({ stack, json: true, cwd: ROOT });
      expect(outcome.stderr).toBe("");
      expect(outcome.exitCode).toBe(0);
      expect(outcome.document!.violations.filter((v) => v.enforcementLevel === "mandatory")).toEqual([]);
    });
  }

  it.each(variants)("refuses %s with %s, and no other policy", async (_label, policies, mutation) => {
    const outcome = await planWith(mutation);
    expect(outcome.exitCode, outcome.stderr).toBe(1);
    const violations = outcome.document!.violations;
    expect([...new Set(violations.map((v) => v.policy))].sort()).toEqual([...policies].sort());
    expect(violations.every((v) => v.enforcementLevel === "mandatory")).toBe(true);
    expect(violations.length).toBeGreaterThanOrEqual(1);
    for (const v of violations) expect(Object.keys(v).sort()).toEqual(["enforcementLevel", "message", "policy", "urn"]);
  });

  it("prints violations grouped by policy, with the resource and the runbook requirement", async () => {
    const seen = new Map<string, pulumi.Resource>();
    const two: pulumi.ResourceTransformation = (args) => {
      seen.set(args.name, args.resource);
      if (args.name === "reference-frontend-0" || args.name === "fairlens-frontend-1") return { props: { ...args.props, healthcheck: undefined }, opts: args.opts };
      return undefined;
    };
    const outcome = await runPlan({ stack: "prod", json: false, cwd: ROOT }, (spec) => deployStack(spec, { transformations: [two] }));
    expect(outcome.exitCode).toBe(1);
    const text = outcome.stdout.slice(outcome.stdout.indexOf("Policies:"));
    const lines = text.trim().split("\n");
    expect(lines[0]).toBe("Policies: 2 violations");
    expect(lines[1]).toMatch(/^ {2}app-container-healthcheck-required \(mandatory\): Every long-running container has a health check/);
    expect(lines[2]).toMatch(/^ {4}- urn:pulumi:prod::runbook::runbook:app:AppStack\$docker:index\/container:Container::fairlens-frontend-1: Container fairlens-frontend-1 has no health check/);
    expect(lines[3]).toMatch(/::reference-frontend-0: Container reference-frontend-0 has no health check/);
  });

  it("names the secret variable but never its value", async () => {
    const outcome = await planWith(variants.find(([l]) => l.startsWith("a JWT secret"))![2]);
    const v = outcome.document!.violations.find((x) => x.policy === "app-container-secret-env");
    expect(v!.message).toBe(
      'Container fdts-proxy passes secret variables JWT_SECRET but does not keep envs secret; add "envs" to additionalSecretOutputs and pass the values as Pulumi secrets.',
    );
    expect(JSON.stringify(outcome.document!.violations)).not.toContain("plain-text-value");
  });

  it("reports the same breakage as advisory in staging where staging is lighter, and exits 0", async () => {
    const outcome = await planWith(onName("lms-redis", (p) => (p["restart"] = "no")), "staging");
    expect(outcome.exitCode).toBe(0);
    // What the committed staging stack already reports: production's runbook numbers, as advice.
    const baseline = new Set((await runPlan({ stack: "staging", json: true, cwd: ROOT })).document!.violations.map((v) => v.message));
    const added = outcome.document!.violations.filter((v) => !baseline.has(v.message));
    expect(added.map((v) => [v.policy, v.enforcementLevel])).toEqual([["app-container-restart-policy-required", "advisory"]]);
  });
});
