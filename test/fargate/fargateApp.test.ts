/**
 * An app on ECS Fargate under the plan's mocks (the committed prod stack with the LMS moved to
 * Fargate; the reference app in a maintenance variant): the same spec as on a Docker host, as ECS
 * services, an ALB, RDS and ElastiCache; the deploy steps in the runbook's order; secrets only by
 * reference; rollouts without downtime; a rotation rolls every backend task.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { isFargateSize } from "../../components/fargate/taskSize";
import { SECRETS_REVISION_VARIABLE } from "../../components/fargate/fargateApp";
import { TLS_POLICY } from "../../components/fargate/loadBalancer";
import { RATE_WINDOW_SECONDS, wafRateLimit } from "../../components/fargate/rateLimit";
import { renderOneOffTaskScript, renderSnapshotScript } from "../../components/fargate/deployScripts";
import { httpHealthcheck, probeHeaders } from "../../components/app/containerDefaults";
import { PROJECT } from "../../config/defaults";
import { parseStackConfig, type RawConfig } from "../../config/resolve";
import type { AppSpec } from "../../config/spec";
import { runUnderMocks, type PlannedResource } from "../../plan/mockRuntime";
import type { StackOutputs } from "../../program";
import { inputs, isSecretWire, keptRandomPasswords, named } from "../helpers";
import { withFargate } from "./fixtures";

type Run = { resources: readonly PlannedResource[]; outputs: StackOutputs; spec: AppSpec; made: ReadonlyMap<string, string> };
const runs: Record<string, Run> = {};

async function plan(raw: RawConfig, app: string): Promise<Run> {
  const kept = keptRandomPasswords();
  const spec = parseStackConfig(raw, PROJECT, { now: Date.UTC(2026, 10, 26) });
  const run = await runUnderMocks(spec, "prod", undefined, { mocks: kept.mocks });
  return { resources: run.resources, outputs: run.outputs as StackOutputs, spec: spec.apps.find((a) => a.id === app)!, made: kept.made };
}

function rotated(): RawConfig {
  const raw = withFargate("prod", "lms", { autoscaling: { maxReplicas: 9 } }) as unknown as { apps: Record<string, Record<string, unknown>> };
  raw.apps["lms"]!["rotation"] = { generation: 1 };
  return raw as unknown as RawConfig;
}

function maintenance(): RawConfig {
  const raw = withFargate("prod", "reference") as unknown as { apps: Record<string, Record<string, unknown>> };
  raw.apps["reference"]!["proxy"] = { maintenance: true };
  return raw as unknown as RawConfig;
}

beforeAll(async () => {
  runs["lms"] = await plan(withFargate("prod", "lms", { autoscaling: { maxReplicas: 9 } }), "lms");
  runs["rotated"] = await plan(rotated(), "lms");
  runs["reference"] = await plan(withFargate("prod", "reference"), "reference");
  runs["maintenance"] = await plan(maintenance(), "reference");
}, 240_000);

const ofType = (run: Run, type: string, prefix: string) => run.resources.filter((r) => r.type === type && r.name.startsWith(`${prefix}-`));
const containerOf = (r: PlannedResource) => (JSON.parse(String(inputs(r)["containerDefinitions"])) as Record<string, unknown>[])[0]!;
const SERVICE = "aws:ecs/service:Service";
const TASK = "aws:ecs/taskDefinition:TaskDefinition";

describe("the LMS on ECS Fargate under mocks", () => {
  it("runs each service with the replicas, CPUs and memory limit of the stack, in a Fargate size that holds them, checking health as on a Docker host", () => {
    const { resources, spec } = runs["lms"]!;
    const expected = { backend: [3, spec.backend.limits], "worker-rq": [2, spec.workers[0]!.limits] } as const;
    expect(ofType(runs["lms"]!, SERVICE, "lms").map((s) => s.name).sort()).toEqual(["lms-backend", "lms-worker-rq"]);
    for (const [key, [replicas, limits]] of Object.entries(expected)) {
      const service = inputs(named(resources, `lms-${key}`));
      expect(service["desiredCount"], key).toBe(replicas);
      const task = named(resources, `lms-${key}-task`);
      const args = inputs(task);
      expect(isFargateSize(Number(args["cpu"]), Number(args["memory"])), key).toBe(true);
      expect(Number(args["memory"])).toBeGreaterThanOrEqual(limits.memoryMb);
      expect(Number(args["cpu"])).toBeGreaterThanOrEqual(limits.cpus * 1024);
      const container = containerOf(task);
      // The runbook's memory limit is the container's hard limit, as `docker --memory`.
      expect([container["memory"], container["memoryReservation"]]).toEqual([limits.memoryMb, limits.memoryReservationMb]);
      expect(service["taskDefinition"]).toMatch(new RegExp(`^arn:aws:ecs:[^:]+:\\d{12}:task-definition/lms-prod-${key}:`));
    }
    const backend = containerOf(named(resources, "lms-backend-task"));
    expect((backend["healthCheck"] as { command: string[] }).command).toEqual(httpHealthcheck("python", spec.backend.port, spec.backend.healthPath, probeHeaders({ publicHost: "lms.example.com", proxy: { tls: true } })).tests);
    expect((containerOf(named(resources, "lms-worker-rq-task"))["healthCheck"] as { command: string[] }).command).toEqual(["CMD-SHELL", spec.workers[0]!.healthcheck]);
    expect(containerOf(named(resources, "lms-worker-rq-task"))["command"]).toEqual(spec.workers[0]!.command);
  });

  it("rolls each service without downtime: old tasks serve until the new ones are healthy, a release that never is rolls back, and pulumi up waits for the steady state", () => {
    for (const s of ofType(runs["lms"]!, SERVICE, "lms")) {
      const args = inputs(s);
      expect([args["deploymentMinimumHealthyPercent"], args["deploymentMaximumPercent"], args["deploymentCircuitBreaker"], args["waitForSteadyState"]], s.name).toEqual([100, 200, { enable: true, rollback: true }, true]);
      expect(args["networkConfiguration"], s.name).toEqual({ subnets: ["subnet-0b0000000000000b1", "subnet-0b0000000000000b2"], securityGroups: [expect.stringMatching(/^sg-/)], assignPublicIp: false });
    }
  });

  it("takes the pre-deploy snapshot, then runs the migrations, then the release task, as one-off tasks of the new image, before any service moves; the health gate last", () => {
    const { resources, spec } = runs["lms"]!;
    const urn = (n: string) => named(resources, n).urn;
    const snapshot = named(resources, "lms-pre-deploy-snapshot");
    const migrate = named(resources, "lms-migrate");
    const releaseTask = named(resources, "lms-release-task");
    expect(inputs(snapshot)["create"]).toBe(renderSnapshotScript());
    expect(snapshot.dependencies).toContain(urn("lms-db"));
    expect(inputs(snapshot)["triggers"]).toEqual([spec.backend.image]);
    expect(migrate.dependencies).toEqual(expect.arrayContaining([snapshot.urn, urn("lms-db"), urn("lms-cache"), urn("lms-migrate-task")]));
    expect(releaseTask.dependencies).toContain(migrate.urn);
    const migrateTask = containerOf(named(resources, "lms-migrate-task"));
    expect([migrateTask["image"], migrateTask["command"], migrateTask["healthCheck"]]).toEqual([spec.backend.image, spec.backend.migrationCommand, undefined]);
    expect(inputs(migrate)["create"]).toBe(renderOneOffTaskScript({ what: "migrations", container: "migrate", logGroup: "/runbook/runbook/prod/lms", streamPrefix: "migrate", timeoutSeconds: 1800, pollSeconds: 10 }));
    // A new revision of the migration's task definition (a new image) runs it again.
    const taskDefinition = (inputs(migrate)["environment"] as Record<string, string>)["TASK_DEFINITION"];
    expect(taskDefinition).toMatch(/^arn:aws:ecs:[^:]+:\d{12}:task-definition\/lms-prod-migrate:/);
    expect(inputs(migrate)["triggers"]).toEqual([taskDefinition]);
    for (const s of ofType(runs["lms"]!, SERVICE, "lms")) expect(s.dependencies, `${s.name} after the release task`).toContain(releaseTask.urn);
    const check = named(resources, "lms-release-check");
    const gate = named(resources, "lms-health-gate");
    for (const s of ofType(runs["lms"]!, SERVICE, "lms")) expect(check.dependencies).toContain(s.urn);
    expect(gate.dependencies).toContain(check.urn);
    // The check names each service with the revision this release registered for it.
    const services = String((inputs(check)["environment"] as Record<string, string>)["SERVICES"]).split("\n").sort();
    expect(services).toHaveLength(2);
    for (const key of ["backend", "worker-rq"]) expect(services.some((l) => l.endsWith(`=${String(inputs(named(resources, `lms-${key}`))["taskDefinition"])}`))).toBe(true);
    expect(inputs(check)["triggers"]).toEqual(ofType(runs["lms"]!, TASK, "lms").filter((t) => ["lms-backend-task", "lms-worker-rq-task"].includes(t.name)).map((t) => expect.stringContaining(String(inputs(t)["family"]))));
    expect(String(inputs(gate)["create"])).toContain("--connect-to lms.example.com:443:lms-alb-");
    expect(String(inputs(gate)["create"])).toContain(`check_endpoint ${spec.proxy.healthEndpoints[0]}`);
  });

  it("gives tasks their secrets only by Secrets Manager ARN, readable by the execution role alone; no value in a task definition", () => {
    const { resources, made } = runs["lms"]!;
    const backend = containerOf(named(resources, "lms-backend-task"));
    const secrets = backend["secrets"] as { name: string; valueFrom: string }[];
    expect(secrets.map((s) => s.name)).toEqual(["DATABASE_URL", "REDIS_URL", "SECRET_KEY", "SECRET_KEY_PREVIOUS"]);
    const stored = ofType(runs["lms"]!, "aws:secretsmanager/secret:Secret", "lms");
    for (const s of secrets) expect(s.valueFrom).toMatch(new RegExp(`^arn:aws:secretsmanager:[^:]+:\\d{12}:secret:runbook/prod/lms/${s.name}-`));
    expect(stored.map((s) => inputs(s)["namePrefix"]).sort()).toEqual(secrets.map((s) => `runbook/prod/lms/${s.name}-`).sort());
    for (const v of ofType(runs["lms"]!, "aws:secretsmanager/secretVersion:SecretVersion", "lms")) expect(isSecretWire(v.wireInputs["secretString"]), v.name).toBe(true);
    const everything = JSON.stringify(ofType(runs["lms"]!, TASK, "lms").map((t) => t.wireInputs));
    for (const value of made.values()) expect(everything).not.toContain(value);
    const policy = JSON.parse(String(inputs(named(resources, "lms-execution-secrets"))["policy"])) as { Statement: { Action: string[]; Resource: string[] }[] };
    expect(policy.Statement[0]).toEqual({ Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: secrets.map((s) => s.valueFrom).sort() });
    expect(policy.Statement[1]!.Action).toEqual(["kms:Decrypt"]);
    // The app's code runs with a role that has no policy at all.
    expect(resources.filter((r) => r.type.startsWith("aws:iam/rolePolicy") && r.dependencies.includes(named(resources, "lms-task-role").urn))).toEqual([]);
  });

  it("rolls every service after a rotation (the secrets' versions are part of their task definitions, the ARNs stay), and runs no migration for it", () => {
    const before = runs["lms"]!.resources;
    const after = runs["rotated"]!.resources;
    const revision = (c: Record<string, unknown>) => (c["environment"] as { name: string; value: string }[]).find((e) => e.name === SECRETS_REVISION_VARIABLE)?.value;
    for (const key of ["backend", "worker-rq"]) {
      const [a, b] = [containerOf(named(before, `lms-${key}-task`)), containerOf(named(after, `lms-${key}-task`))];
      expect(revision(a), key).toMatch(/^[0-9a-f]{16}$/);
      expect(revision(b), key).not.toBe(revision(a));
      expect(b["secrets"], key).toEqual(a["secrets"]);
    }
    // A one-off task reads the secrets current when it starts: its definition, and so its step, stay.
    for (const key of ["migrate", "release-task"]) {
      expect(revision(containerOf(named(after, `lms-${key}-task`))), key).toBeUndefined();
      expect(inputs(named(after, `lms-${key}-task`))["containerDefinitions"], key).toBe(inputs(named(before, `lms-${key}-task`))["containerDefinitions"]);
    }
  });

  it("admits the public only to the load balancer (443, and 80 to redirect), the tasks only from it, the database and cache only from the tasks", () => {
    const { resources } = runs["lms"]!;
    const sg = (n: string) => inputs(named(resources, n));
    const albId = named(resources, "lms-alb-sg").urn;
    expect((sg("lms-alb-sg")["ingress"] as { fromPort: number }[]).map((i) => i.fromPort)).toEqual([443, 80]);
    const tasks = sg("lms-tasks-sg")["ingress"] as { fromPort: number; cidrBlocks?: string[]; securityGroups: string[] }[];
    expect(tasks.map((i) => [i.fromPort, i.cidrBlocks, i.securityGroups.length])).toEqual([[8000, undefined, 1]]);
    expect(named(resources, "lms-tasks-sg").dependencies).toContain(albId);
    const data = sg("lms-data-sg")["ingress"] as { fromPort: number; cidrBlocks?: string[] }[];
    expect(data.map((i) => [i.fromPort, i.cidrBlocks])).toEqual([[5432, undefined], [6379, undefined]]);
    expect(named(resources, "lms-data-sg").dependencies).toContain(named(resources, "lms-tasks-sg").urn);
    const https = inputs(named(resources, "lms-https"));
    expect([https["protocol"], https["port"], https["sslPolicy"], https["certificateArn"]]).toEqual(["HTTPS", 443, TLS_POLICY, "arn:aws:acm:eu-west-1:111122223333:certificate/0e1f2a3b-0000-4000-8000-000000000001"]);
    expect(inputs(named(resources, "lms-http"))["defaultActions"]).toEqual([{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }]);
    // Django validates Host: the load balancer's probe (the task's IP as Host) gets 400 or 301 from a healthy
    // LMS, so it only proves the port answers; the container's check, with the app's host name, decides.
    expect(inputs(named(resources, "lms-backend-tg"))["healthCheck"]).toMatchObject({ path: "/api/healthz/", matcher: "200-299,301,400" });
    expect(inputs(named(runs["reference"]!.resources, "reference-backend-tg"))["healthCheck"]).toMatchObject({ path: "/health", matcher: "200-299" });
  });

  it("keeps the data in RDS and ElastiCache: encrypted, private, protected in prod, restorable 35 days back, snapshots kept the app's cloud retention", () => {
    const { resources, spec } = runs["lms"]!;
    const db = named(resources, "lms-db");
    const args = inputs(db);
    expect(args).toMatchObject({ engine: "postgres", engineVersion: "16", storageEncrypted: true, publiclyAccessible: false, multiAz: true, deletionProtection: true, skipFinalSnapshot: false, backupRetentionPeriod: 35, dbName: "fractionball", username: "fractionball" });
    expect(isSecretWire(db.wireInputs["password"])).toBe(true);
    expect([db.options.protect, db.options.retainOnDelete]).toEqual([true, true]);
    const cache = named(resources, "lms-cache");
    expect(inputs(cache)).toMatchObject({ atRestEncryptionEnabled: true, transitEncryptionEnabled: true, automaticFailoverEnabled: true, numCacheClusters: 2, snapshotRetentionLimit: 7 });
    expect(isSecretWire(cache.wireInputs["authToken"])).toBe(true);
    expect(cache.options.protect).toBe(true);
    const plan = inputs(named(resources, "lms-backup-plan"))["rules"] as { schedule: string; lifecycle: { deleteAfter: number } }[];
    expect(plan).toEqual([expect.objectContaining({ schedule: "cron(0 2 * * ? *)", lifecycle: { deleteAfter: spec.backups.cloudRetentionDays } })]);
    expect(named(resources, "lms-backup-selection").dependencies).toContain(db.urn);
    // A final snapshot named anew for each instance, so a later deletion never collides with an earlier one's.
    expect(String(inputs(db)["finalSnapshotIdentifier"])).toMatch(/^lms-prod-final-[0-9a-f]+$/);
    expect(db.dependencies).toContain(named(resources, "lms-db-final-snapshot-suffix").urn);
    // Prod's vault is protected and keeps its recovery points through a destroy.
    expect([inputs(named(resources, "lms-vault"))["forceDestroy"], named(resources, "lms-vault").options.protect]).toEqual([false, true]);
    // Every revision stays registered: the one a rolled-back rollout returned to is never deregistered by a later `up`.
    for (const t of ofType(runs["lms"]!, TASK, "lms")) expect(inputs(t)["skipDestroy"], t.name).toBe(true);
  });

  it("limits each client address as nginx does: a WAF web ACL on the load balancer lets the health endpoint through, then answers 429 past what nginx allows in a minute", () => {
    const { resources, spec } = runs["lms"]!;
    const [acl] = ofType(runs["lms"]!, "aws:wafv2/webAcl:WebAcl", "lms");
    const a = inputs(acl!);
    expect([a["scope"], a["defaultAction"]]).toEqual(["REGIONAL", { allow: {} }]);
    const rules = a["rules"] as { name: string; priority: number; action: unknown; statement: Record<string, unknown> }[];
    expect(rules.map((r) => [r.priority, r.name, r.action])).toEqual([
      [0, "health-endpoints", { allow: {} }],
      [1, "rate-limit", { block: { customResponse: { responseCode: 429 } } }],
    ]);
    expect(rules[0]!.statement).toEqual({ byteMatchStatement: expect.objectContaining({ fieldToMatch: { uriPath: {} }, positionalConstraint: "EXACTLY", searchString: "/api/healthz/" }) });
    // nginx: 10 requests a second per address, 20 more at once; WAF's shortest window is a minute.
    expect(spec.proxy.rateLimit).toEqual({ requestsPerSecond: 10, burst: 20 });
    expect(rules[1]!.statement).toEqual({ rateBasedStatement: { aggregateKeyType: "IP", evaluationWindowSec: RATE_WINDOW_SECONDS, limit: 620 } });
    // On the app's load balancer.
    const association = named(resources, "lms-waf-alb");
    expect(inputs(association)["resourceArn"]).toMatch(/:loadbalancer\/app\/lms-alb\//);
    expect(inputs(association)["webAclArn"]).toMatch(/:regional\/webacl\/lms-waf\//);
    expect(association.dependencies).toEqual(expect.arrayContaining([named(resources, "lms-alb").urn, acl!.urn]));
    expect(wafRateLimit({ requestsPerSecond: 5, burst: 10 })).toBe(310);
    expect(wafRateLimit({ requestsPerSecond: 1, burst: 0 })).toBe(60);
  });

  it("scales the backend on CPU between its replicas and the ceiling, and leaves the running count to AWS", () => {
    const { resources } = runs["lms"]!;
    expect(inputs(named(resources, "lms-backend-scaling"))).toMatchObject({ minCapacity: 3, maxCapacity: 9, scalableDimension: "ecs:service:DesiredCount" });
    expect(inputs(named(resources, "lms-backend-cpu"))["targetTrackingScalingPolicyConfiguration"]).toMatchObject({ targetValue: 60, predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" } });
    expect(named(resources, "lms-backend").options.ignoreChanges).toEqual(["desiredCount"]);
    expect(named(resources, "lms-worker-rq").options.ignoreChanges).toEqual([]);
  });

  it("declares nothing of a Docker host for it, and reports what it runs; the other apps stay on their hosts", () => {
    const { resources, outputs } = runs["lms"]!;
    const lms = resources.filter((r) => r.name.startsWith("lms-") || r.name === "lms");
    expect(lms.filter((r) => r.type.startsWith("docker:") || r.type === "command:remote:Command" || r.type.startsWith("runbook:app:"))).toEqual([]);
    expect(outputs.apps["lms"]).toBeUndefined();
    expect(Object.keys(outputs.apps).sort()).toEqual(["fairlens", "fdts", "handwork", "reference"]);
    const out = outputs.fargate!["lms"]!;
    expect([out.endpoint, out.services, out.logGroup]).toEqual(["https://lms.example.com", { backend: { replicas: 3, maxReplicas: 9 }, "worker:rq": { replicas: 2 } }, "/runbook/runbook/prod/lms"]);
    expect(out.rotation).not.toHaveProperty("database");
  });
});

describe("the reference app on ECS Fargate under mocks", () => {
  it("routes as nginx does: the metrics path 404 first, /api/ and /health to the backend, the rest to the frontend", () => {
    const { resources } = runs["reference"]!;
    const rules = ofType(runs["reference"]!, "aws:lb/listenerRule:ListenerRule", "reference").map((r) => {
      const a = inputs(r);
      const action = (a["actions"] as Record<string, unknown>[])[0]!;
      const target = action["type"] === "forward" ? String(action["targetGroupArn"]).split("/")[1] : (action["fixedResponse"] as { statusCode: string }).statusCode;
      return [a["priority"], (a["conditions"] as { pathPattern: { values: string[] } }[])[0]!.pathPattern.values, target] as const;
    });
    rules.sort((x, y) => Number(x[0]) - Number(y[0]));
    expect(rules).toEqual([
      [1, ["/metrics", "/metrics*"], "404"],
      [10, ["/health", "/health*"], "reference-backend-tg"],
      [11, ["/api/*"], "reference-backend-tg"],
    ]);
    const defaults = inputs(named(resources, "reference-https"))["defaultActions"] as { targetGroupArn: string }[];
    expect(defaults[0]!.targetGroupArn.split("/")[1]).toBe("reference-frontend-tg");
    expect(inputs(named(resources, "reference-frontend"))["loadBalancers"]).toEqual([expect.objectContaining({ containerName: "frontend", containerPort: 3000 })]);
    // A service starts only once its target group is attached: after the listener and every rule (the backend's group is only in rules).
    for (const service of ["reference-backend", "reference-frontend"]) {
      const deps = named(resources, service).dependencies;
      for (const r of [named(resources, "reference-https"), ...ofType(runs["reference"]!, "aws:lb/listenerRule:ListenerRule", "reference")]) expect(deps, `${service} after ${r.name}`).toContain(r.urn);
    }
    // The frontend reads no secret and no database.
    expect(containerOf(named(resources, "reference-frontend-task"))["secrets"]).toEqual([]);
  });

  it("turns the maintenance page on at the load balancer: 503 for everything but the backend's health endpoint, which the health gate still probes", () => {
    const { resources } = runs["maintenance"]!;
    const defaults = inputs(named(resources, "reference-https"))["defaultActions"] as { type: string; fixedResponse: { statusCode: string; contentType: string } }[];
    expect(defaults).toEqual([{ type: "fixed-response", fixedResponse: expect.objectContaining({ statusCode: "503", contentType: "text/html" }) }]);
    const rules = ofType(runs["maintenance"]!, "aws:lb/listenerRule:ListenerRule", "reference").map((r) => (inputs(r)["conditions"] as { pathPattern: { values: string[] } }[])[0]!.pathPattern.values);
    // The frontend's target group keeps one rule of its own: ECS refuses a service whose group no listener uses.
    expect(rules).toEqual([["/metrics", "/metrics*"], ["/health"], ["/.runbook-maintenance/frontend"]]);
    const gate = String(inputs(named(resources, "reference-health-gate"))["create"]);
    expect(gate).toContain("check_endpoint /health ");
    expect(gate).not.toContain("check_endpoint / ");
  });
});
