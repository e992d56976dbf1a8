/**
 * The Fargate policies: each as a plain function (a compliant baseline, one broken field per case),
 * and the whole pack on the committed prod stack with the LMS moved to ECS Fargate: it passes with no
 * violation at all, and each deliberately broken variant (a Pulumi transformation on the real program)
 * is refused by the policy named for it, and only by it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { fargateDatabaseSafe } from "../../policies/fargate/databaseSafe";
import { fargateHealthcheckRequired } from "../../policies/fargate/healthcheckRequired";
import { fargateHttpsOnly } from "../../policies/fargate/httpsOnly";
import { fargateImageTagPinned } from "../../policies/fargate/imageTagPinned";
import { fargateLogRetention } from "../../policies/fargate/logRetention";
import { fargateLogsCollected } from "../../policies/fargate/logsCollected";
import { fargateMemoryLimitRequired } from "../../policies/fargate/memoryLimitRequired";
import { fargateRolloutSafe } from "../../policies/fargate/rolloutSafe";
import { fargateSecretsByReference } from "../../policies/fargate/secretsByReference";
import { rdsClassSize } from "../../policies/fargate/rdsClasses";
import { PACK_ENFORCEMENT_LEVEL, policies } from "../../policies/pack";
import { PROJECT } from "../../config/defaults";
import { parseStackConfig } from "../../config/resolve";
import { resolvePolicyConfig, runPolicies } from "../../plan/policyRunner";
import { runUnderMocks } from "../../plan/mockRuntime";
import { deployStack } from "../../program";
import { ROOT } from "../helpers";
import { withFargate } from "../fargate/fixtures";
import { check } from "./harness";

const TASK = "aws:ecs/taskDefinition:TaskDefinition";
const container = (over: Record<string, unknown> = {}) => ({
  name: "backend",
  image: "ghcr.io/org/app:1.2.0",
  memory: 1024,
  cpu: 1024,
  environment: [{ name: "DEBUG", value: "false" }],
  secrets: [{ name: "DATABASE_URL", valueFrom: "arn:aws:secretsmanager:eu-west-1:111122223333:secret:runbook/prod/lms/DATABASE_URL-abc-AbCdEf" }],
  healthCheck: { command: ["CMD", "python", "-c", "probe http://127.0.0.1:8000/health"], interval: 10 },
  logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "/runbook/runbook/prod/lms", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "backend" } },
  ...over,
});
const task = (over: Record<string, unknown> = {}, service = "backend") => ({
  type: TASK,
  name: "lms-backend-task",
  props: { containerDefinitions: JSON.stringify([container(over)]), tags: { "runbook.app": "lms", "runbook.environment": "prod", "runbook.service": service } },
});

describe("the Fargate task definition policies", () => {
  it("accept a compliant task definition", async () => {
    for (const p of [fargateHealthcheckRequired, fargateMemoryLimitRequired, fargateImageTagPinned, fargateSecretsByReference, fargateLogsCollected]) expect(await check(p, task()), p.name).toEqual([]);
  });

  it.each([
    ["no health check", fargateHealthcheckRequired, { healthCheck: undefined }, "Container backend of lms-backend-task has no health check; give it a CMD or CMD-SHELL probe."],
    ["a health check that always passes", fargateHealthcheckRequired, { healthCheck: { command: ["CMD-SHELL", "exit 0"] } }, "Container backend of lms-backend-task has a health check that always passes (`exit 0`); make it probe the service."],
    ["no hard memory limit", fargateMemoryLimitRequired, { memory: undefined }, "Container backend of lms-backend-task has no hard memory limit; set `memory` (MiB)."],
    ["the latest tag", fargateImageTagPinned, { image: "ghcr.io/org/app:latest" }, 'Container backend of lms-backend-task runs the moving tag "latest" of ghcr.io/org/app:latest; pin a version tag or a digest.'],
    ["an image without a tag", fargateImageTagPinned, { image: "ghcr.io/org/app" }, "Container backend of lms-backend-task runs ghcr.io/org/app without a tag (latest); pin a version tag or a digest."],
    ["a secret in plain environment", fargateSecretsByReference, { environment: [{ name: "SECRET_KEY", value: "s3cr3t-never-printed" }] }, "Container backend of lms-backend-task has SECRET_KEY in plain environment; pass them as `secrets` from Secrets Manager."],
    ["a URL with credentials in plain environment", fargateSecretsByReference, { environment: [{ name: "UPSTREAM", value: "https://user:pw-never-printed@example.com" }] }, "Container backend of lms-backend-task has UPSTREAM in plain environment; pass them as `secrets` from Secrets Manager."],
    ["logs to nowhere", fargateLogsCollected, { logConfiguration: undefined }, "Container backend of lms-backend-task does not log to CloudWatch Logs; use the awslogs driver with a group and a stream prefix."],
  ])("refuse %s, with the exact message and never a value", async (_, policy, over, message) => {
    const messages = await check(policy, task(over));
    expect(messages).toEqual([message]);
    expect(messages.join()).not.toMatch(/never-printed/);
  });

  it("take a one-off task (migrations) without a health check: its exit code decides", async () => {
    expect(await check(fargateHealthcheckRequired, task({ healthCheck: undefined }, "migrate"))).toEqual([]);
  });
});

describe("the Fargate service, database, listener and log group policies", () => {
  const service = (over: Record<string, unknown> = {}) => ({
    type: "aws:ecs/service:Service",
    name: "lms-backend",
    props: { deploymentMinimumHealthyPercent: 100, deploymentCircuitBreaker: { enable: true, rollback: true }, waitForSteadyState: true, networkConfiguration: { assignPublicIp: false }, ...over },
  });
  const db = (over: Record<string, unknown> = {}, protect = true) => ({
    type: "aws:rds/instance:Instance",
    name: "lms-db",
    props: { publiclyAccessible: false, storageEncrypted: true, deletionProtection: true, skipFinalSnapshot: false, backupRetentionPeriod: 35, tags: { "runbook.app": "lms", "runbook.environment": "prod" }, ...over },
    opts: { protect },
  });
  const listener = (props: Record<string, unknown>) => ({ type: "aws:lb/listener:Listener", name: "lms-https", props: { tags: { "runbook.app": "lms" }, ...props } });

  it("accept compliant resources", async () => {
    expect(await check(fargateRolloutSafe, service())).toEqual([]);
    expect(await check(fargateDatabaseSafe, db())).toEqual([]);
    expect(await check(fargateHttpsOnly, listener({ protocol: "HTTPS", sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06" }))).toEqual([]);
    expect(await check(fargateHttpsOnly, listener({ protocol: "HTTP", defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS" } }] }))).toEqual([]);
    expect(await check(fargateLogRetention, { type: "aws:cloudwatch/logGroup:LogGroup", name: "lms-logs", props: { retentionInDays: 30, tags: { "runbook.app": "lms" } } })).toEqual([]);
  });

  it.each([
    ["tasks stopped before their replacements are healthy", fargateRolloutSafe, service({ deploymentMinimumHealthyPercent: 50 }), "Service lms-backend lets 50% of its tasks stop before their replacements are healthy; set deploymentMinimumHealthyPercent to 100."],
    ["no rollback of a failed rollout", fargateRolloutSafe, service({ deploymentCircuitBreaker: { enable: true, rollback: false } }), "Service lms-backend does not roll back a rollout that never gets healthy; enable the deployment circuit breaker with rollback."],
    ["an `up` that does not wait", fargateRolloutSafe, service({ waitForSteadyState: false }), "Service lms-backend does not make `pulumi up` wait for its rollout; set waitForSteadyState."],
    ["tasks with public addresses", fargateRolloutSafe, service({ networkConfiguration: { assignPublicIp: true } }), "Service lms-backend gives its tasks public addresses; they are reached only through the load balancer."],
    ["a public database", fargateDatabaseSafe, db({ publiclyAccessible: true }), "Database lms-db is publicly accessible; the runbooks reach their database only from inside."],
    ["an unencrypted database", fargateDatabaseSafe, db({ storageEncrypted: false }), "Database lms-db is not encrypted at rest; set storageEncrypted."],
    ["a prod database without deletion protection", fargateDatabaseSafe, db({ deletionProtection: false }), "Database lms-db (prod) has no deletion protection."],
    ["an unprotected prod database", fargateDatabaseSafe, db({}, false), "Database lms-db (prod) is not a protected resource; a `pulumi destroy` would delete it."],
    ["a prod database deleted without a final snapshot", fargateDatabaseSafe, db({ skipFinalSnapshot: true }), "Database lms-db (prod) would be deleted without a final snapshot."],
    ["a day of point-in-time backups", fargateDatabaseSafe, db({ backupRetentionPeriod: 1 }), "Database lms-db (prod) keeps 1 days of point-in-time backups; at least 7."],
    ["plain HTTP served", fargateHttpsOnly, listener({ protocol: "HTTP", defaultActions: [{ type: "forward" }] }), "Listener lms-https serves plain HTTP; its only action must redirect to HTTPS."],
    ["TLS 1.0 allowed", fargateHttpsOnly, listener({ protocol: "HTTPS", sslPolicy: "ELBSecurityPolicy-2016-08" }), "Listener lms-https allows TLS older than 1.2 (policy ELBSecurityPolicy-2016-08); use ELBSecurityPolicy-TLS13-1-2-2021-06 or another TLS 1.2+ policy."],
    ["logs kept forever", fargateLogRetention, { type: "aws:cloudwatch/logGroup:LogGroup", name: "lms-logs", props: { tags: { "runbook.app": "lms" } } }, "Log group lms-logs keeps its lines forever; set retentionInDays (30 for the runbooks' log retention)."],
  ])("refuse %s, with the exact message", async (_, policy, resource, message) => {
    expect(await check(policy, resource)).toEqual([message]);
  });

  it("know an RDS class's CPUs and memory from its name, and no class they do not know", () => {
    expect([rdsClassSize("db.t4g.medium"), rdsClassSize("db.m6g.large"), rdsClassSize("db.r6g.2xlarge"), rdsClassSize("db.m7g.16xlarge")]).toEqual([
      { cpus: 2, memoryMb: 4096 },
      { cpus: 2, memoryMb: 8192 },
      { cpus: 8, memoryMb: 65_536 },
      { cpus: 64, memoryMb: 262_144 },
    ]);
    expect([rdsClassSize("db.x2g.large"), rdsClassSize("cache.t4g.small")]).toEqual([undefined, undefined]);
  });
});

type Mutation = (args: pulumi.ResourceTransformationArgs, seen: Map<string, pulumi.Resource>) => pulumi.ResourceTransformationResult | undefined;
const onName = (name: string, change: (props: Record<string, unknown>, opts: pulumi.CustomResourceOptions, seen: Map<string, pulumi.Resource>) => void): Mutation => (args, seen) => {
  if (args.name !== name) return undefined;
  const props = { ...args.props };
  const opts = { ...args.opts } as pulumi.CustomResourceOptions;
  change(props, opts, seen);
  return { props, opts };
};
const levels = resolvePolicyConfig(policies, PACK_ENFORCEMENT_LEVEL, JSON.parse(fs.readFileSync(path.join(ROOT, "policies", "config", "prod.json"), "utf8")) as Record<string, unknown>);
const spec = parseStackConfig(withFargate("prod", "lms"), PROJECT);

async function violationsWith(mutation?: Mutation, on = spec) {
  const seen = new Map<string, pulumi.Resource>();
  const transform: pulumi.ResourceTransformation = (args) => {
    seen.set(args.name, args.resource);
    return mutation?.(args, seen);
  };
  const run = await runUnderMocks(on, "prod", (s) => deployStack(s, { transformations: [transform] }));
  return (await runPolicies(run.resources, policies, levels)).violations;
}

const variants: [string, string, Mutation][] = [
  ["the web tasks cut to one", "fargate-runbook-requirements", onName("lms-backend", (p) => (p["desiredCount"] = 1))],
  ["a database too small for the runbook's 8 GiB", "fargate-runbook-requirements", onName("lms-db", (p) => (p["instanceClass"] = "db.t4g.medium"))],
  ["the web tasks moving before the release task", "fargate-runbook-requirements", onName("lms-backend", (_p, o, seen) => (o.dependsOn = (o.dependsOn as pulumi.Resource[]).filter((r) => r !== seen.get("lms-release-task"))))],
  ["migrations that do not wait for the pre-deploy snapshot", "fargate-runbook-requirements", onName("lms-migrate", (_p, o, seen) => (o.dependsOn = (o.dependsOn as pulumi.Resource[]).filter((r) => r !== seen.get("lms-pre-deploy-snapshot"))))],
  ["a rollout that stops half the tasks first", "fargate-service-rollout-safe", onName("lms-worker-rq", (p) => (p["deploymentMinimumHealthyPercent"] = 50))],
  ["a public database", "fargate-database-safe", onName("lms-db", (p) => (p["publiclyAccessible"] = true))],
  ["a restore test of another database than the app's", "fargate-backups-restore-tested", onName("lms-restore-test-selection", (p) => (p["protectedResourceArns"] = ["arn:aws:rds:eu-west-1:123456789012:db:another-app"]))],
  ["a restore test that restores from another vault than the app's", "fargate-backups-restore-tested", onName("lms-restore-test", (p) => (p["recoveryPointSelection"] = { ...(p["recoveryPointSelection"] as object), includeVaults: ["arn:aws:backup:eu-west-1:123456789012:backup-vault:another-app"] }))],
  ["TLS 1.0 at the load balancer", "fargate-load-balancer-https-only", onName("lms-https", (p) => (p["sslPolicy"] = "ELBSecurityPolicy-2016-08"))],
  ["a web ACL that only lets the health endpoint through, with no rate rule", "fargate-load-balancer-rate-limited", onName("lms-waf", (p) => (p["rules"] = (p["rules"] as { name: string }[]).filter((r) => r.name !== "rate-limit")))],
  ["a rate rule that only counts", "fargate-load-balancer-rate-limited", onName("lms-waf", (p) => (p["rules"] = (p["rules"] as { name: string }[]).map((r) => (r.name === "rate-limit" ? { ...r, action: { count: {} } } : r))))],
  ["logs kept forever", "fargate-log-group-retention", onName("lms-logs", (p) => delete p["retentionInDays"])],
  ["a worker without a health check", "fargate-container-healthcheck-required", onName("lms-worker-rq-task", (p) => (p["containerDefinitions"] = pulumi.output(p["containerDefinitions"] as pulumi.Input<string>).apply((t) => JSON.stringify((JSON.parse(t) as Record<string, unknown>[]).map(({ healthCheck: _h, ...c }) => c)))))],
  ["the secret key as plain environment", "fargate-secrets-by-reference", onName("lms-backend-task", (p) => (p["containerDefinitions"] = pulumi.output(p["containerDefinitions"] as pulumi.Input<string>).apply((t) => JSON.stringify((JSON.parse(t) as { environment: unknown[] }[]).map((c) => ({ ...c, environment: [...c.environment, { name: "SECRET_KEY", value: "plain" }] }))))))],
];

describe("the pack on the prod stack with the LMS on ECS Fargate", () => {
  let clean: Awaited<ReturnType<typeof violationsWith>>;
  beforeAll(async () => {
    clean = await violationsWith();
  }, 120_000);

  it("has no violation of any policy, advisory or mandatory", () => {
    expect(clean.map((v) => v.message)).toEqual([]);
  });

  it("has none either with every PostgreSQL app on Fargate, FairLens with its cache-only Redis", async () => {
    const raw = withFargate("prod", ["lms", "reference", "fairlens"]) as unknown as { apps: Record<string, Record<string, unknown>> };
    raw.apps["fairlens"]!["cache"] = { enabled: true };
    const all = parseStackConfig(raw as never, PROJECT);
    expect(all.apps.filter((a) => a.fargate).map((a) => a.id).sort()).toEqual(["fairlens", "lms", "reference"]);
    expect((await violationsWith(undefined, all)).map((v) => v.message)).toEqual([]);
  }, 120_000);

  it.each(variants)("refuses %s with %s, and no other policy", async (_label, policy, mutation) => {
    const violations = await violationsWith(mutation);
    expect([...new Set(violations.map((v) => v.policy))]).toEqual([policy]);
    expect(violations.every((v) => v.enforcementLevel === "mandatory")).toBe(true);
  }, 120_000);

  it("words a runbook shortfall as the runbook-* policies do, naming the app, the service's runbook name and the runbook line", async () => {
    const violations = await violationsWith(variants[0]![2]);
    expect(violations.map((v) => v.message)).toEqual(["lms: web tasks 1 < 3 required in production (003 'Horizontal Scaling')"]);
  }, 120_000);
});
