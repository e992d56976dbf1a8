/**
 * The secrets-* policies as plain functions: a compliant made-up app (two-slot JWT key, two database
 * roles, the bootstrap password, an admin password, Secrets Manager copies), then one field broken per
 * case, with the exact message. No message may carry a secret value.
 */
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { runbookPolicies, type AppRequirementsEntry, type RequirementsData } from "../../policies/runbook";
import { secretsPolicies } from "../../policies/secrets";
import { CONTAINER, check, checkStack, stack } from "./harness";

const CMD = "command:remote:Command";
const BYTES = "random:index/randomBytes:RandomBytes";
const PASSWORD = "random:index/randomPassword:RandomPassword";
const src = (section: string, line: number) => ({ section, line, quote: "q" });
const entry: AppRequirementsEntry = {
  displayName: "Demo",
  runbook: "009_demo.txt",
  secretEnv: ["DATABASE_URL", "JWT_SECRET", "JWT_SECRET_PREVIOUS", "POSTGRES_PASSWORD"],
  requirements: {
    secrets: { JWT_SECRET: { value: { encoding: "base64", bytes: 64 }, source: src("Incident", 90) } },
    rotation: { "*": { value: 90, source: src("Maintenance", 12) } },
  },
};
const data: RequirementsData = { demo: entry };
const policies = Object.fromEntries([...secretsPolicies(data), ...runbookPolicies(data)].map((p) => [p.name, p]));

/** A generated value the demo stack may never show: what a provider would return for a RandomPassword. */
const LEAKED = "Zk3vQ9mW2xR7tLp4Hn8sJc6bYd1fGa5eUo0iKq";

const rotating = (secret: string, kind: string, slot?: string, extra: Record<string, string> = {}) => ({
  "runbook.app": "demo",
  "runbook.secret": secret,
  "runbook.kind": kind,
  "runbook.rotationDays": "90",
  "runbook.window": "12",
  "runbook.generation": "0",
  ...(slot && { "runbook.slot": slot }),
  ...extra,
});
const alnum = { special: false, upper: true, lower: true, numeric: true };

type Entry = Parameters<typeof stack>[0][number] & { opts?: Partial<PolicyResource["opts"]> };
function demo(change: (e: Record<string, Entry>) => void = () => undefined, env = "prod"): PolicyResource[] {
  const labels = (service: string) => [
    { label: "runbook.app", value: "demo" },
    { label: "runbook.environment", value: env },
    { label: "runbook.service", value: service },
  ];
  const e: Record<string, Entry> = {
    "demo-secrets-jwt-secret-a": { name: "", type: BYTES, parent: "demo-secrets", props: { length: 64, keepers: rotating("JWT_SECRET", "jwt-signing", "a") } },
    "demo-secrets-jwt-secret-b": { name: "", type: BYTES, parent: "demo-secrets", props: { length: 64, keepers: rotating("JWT_SECRET", "jwt-signing", "b") } },
    "demo-secrets-database-password-a": { name: "", type: PASSWORD, parent: "demo-secrets", props: { length: 44, ...alnum, keepers: rotating("DATABASE_PASSWORD", "database-password", "a"), result: LEAKED } },
    "demo-secrets-database-password-b": { name: "", type: PASSWORD, parent: "demo-secrets", props: { length: 44, ...alnum, keepers: rotating("DATABASE_PASSWORD", "database-password", "b") } },
    "demo-secrets-db-password": { name: "", type: PASSWORD, parent: "demo-secrets", props: { length: 32, ...alnum, keepers: { "runbook.app": "demo", "runbook.secret": "POSTGRES_PASSWORD" } } },
    "demo-secrets-grafana-admin-password": { name: "", type: PASSWORD, parent: "demo-secrets", props: { length: 24, ...alnum, keepers: rotating("GRAFANA_ADMIN_PASSWORD", "admin-password") } },
    "demo-backend-0": {
      name: "",
      type: CONTAINER,
      parent: "demo",
      props: { labels: labels("backend"), envs: ["NODE_ENV=production", `DATABASE_URL=postgresql://demo_a:${LEAKED}@db:5432/demo`, "JWT_SECRET=c2VjcmV0"], command: ["node", "server.js", "--password-file", "/run/secrets/db"] },
      opts: { additionalSecretOutputs: ["envs"] },
    },
    "demo-worker-0": { name: "", type: CONTAINER, parent: "demo", props: { labels: labels("worker:jobs"), envs: ["QUEUE=default"], healthcheck: { tests: ["CMD-SHELL", "worker --ping"] } } },
    "demo-proxy": { name: "", type: CONTAINER, parent: "demo", props: { labels: labels("proxy"), uploads: [{ file: "/etc/nginx/nginx.conf", content: "events {}\nhttp { server { listen 80; } }\n" }] } },
    "demo-db-roles-rotate": {
      name: "",
      type: CMD,
      props: { create: "docker exec -i demo-db sh -c 'IFS= read -r PGPASSWORD; export PGPASSWORD; psql -U demo -d demo'", stdin: `${LEAKED}\nALTER ROLE "demo_a" PASSWORD 'SCRAM-SHA-256$4096:c2FsdA==$a2V5:c2Vydg==';`, triggers: ["demo-db-id"] },
    },
    "demo-migrate": { name: "", type: CMD, parent: "demo", props: { create: "docker run --rm --env-file /dev/stdin img alembic upgrade head", environment: { DOCKER_HOST: "unix:///var/run/docker.sock" } } },
    "demo-key": { name: "", type: "aws:kms/key:Key", props: { enableKeyRotation: true, rotationPeriodInDays: 90 } },
    "demo-secret-store-jwt-secret": {
      name: "",
      type: "aws:secretsmanager/secret:Secret",
      props: { namePrefix: "runbook/prod/demo/JWT_SECRET-", kmsKeyId: "arn:aws:kms:eu-west-1:111122223333:key/demo", recoveryWindowInDays: 30 },
      deps: ["demo-key"],
    },
  };
  change(e);
  const built = stack([{ name: "demo", type: "runbook:app:AppStack" }, { name: "demo-secrets", type: "runbook:secrets:AppSecrets" }, ...Object.entries(e).map(([name, x]) => ({ ...x, name }))]);
  for (const r of built) Object.assign(r.opts, e[r.name]?.opts ?? {});
  return built;
}
const props = (e: Record<string, Entry>, name: string) => e[name]!.props as Record<string, unknown>;
const keepers = (e: Record<string, Entry>, name: string) => props(e, name)["keepers"] as Record<string, string>;

const runStack = (name: string, resources: PolicyResource[], config: Record<string, unknown> = {}) => checkStack(policies[name] as StackValidationPolicy, resources, config);
/** A resource policy over every resource of a stack, as the analyzer calls it. */
async function runEach(name: string, resources: PolicyResource[], config: Record<string, unknown> = {}): Promise<string[]> {
  const out: string[] = [];
  for (const r of resources) out.push(...(await check(policies[name] as ResourceValidationPolicy, { type: r.type, name: r.name, props: r.props, opts: r.opts }, config)));
  return out;
}
const run = (name: string, resources: PolicyResource[], config: Record<string, unknown> = {}) =>
  "validateStack" in policies[name]! ? runStack(name, resources, config) : runEach(name, resources, config);

const NAMES = ["secrets-generated-min-bytes", "secrets-rotation-period-max", "secrets-rotation-period-runbook", "secrets-value-not-plaintext", "secrets-manager-customer-key"];

describe("secrets policies", () => {
  it("are the pack's secrets-* policies", () => {
    expect(Object.keys(policies).filter((n) => n.startsWith("secrets-")).sort()).toEqual([...NAMES].sort());
  });

  it.each(NAMES)("%s accepts a compliant app, in prod and in staging", async (name) => {
    expect(await run(name, demo())).toEqual([]);
    expect(await run(name, demo(undefined, "staging"))).toEqual([]);
  });

  it.each<[string, (e: Record<string, Entry>) => void, string[], Record<string, unknown>?]>([
    [
      "secrets-generated-min-bytes",
      (e) => (props(e, "demo-secrets-jwt-secret-b")["length"] = 48),
      ["demo: JWT_SECRET (demo-secrets-jwt-secret-b) carries 48 bytes of randomness; the runbook's command (009 'Incident') needs at least 64."],
    ],
    [
      "secrets-generated-min-bytes",
      (e) => (props(e, "demo-secrets-database-password-a")["length"] = 20),
      ["demo: DATABASE_PASSWORD (demo-secrets-database-password-a) carries 14 bytes of randomness; a database-password needs at least 32."],
    ],
    [
      "secrets-generated-min-bytes",
      (e) => (props(e, "demo-secrets-database-password-b")["upper"] = false),
      ["demo: DATABASE_PASSWORD (demo-secrets-database-password-b) carries 28 bytes of randomness; a database-password needs at least 32."],
    ],
    [
      "secrets-generated-min-bytes",
      () => undefined,
      ["demo: GRAFANA_ADMIN_PASSWORD (demo-secrets-grafana-admin-password) carries 17 bytes of randomness; a admin-password needs at least 24."],
      { minBytes: { "admin-password": 24 } },
    ],
    [
      "secrets-rotation-period-max",
      (e) => (keepers(e, "demo-secrets-jwt-secret-a")["runbook.rotationDays"] = "120"),
      ["demo: JWT_SECRET (demo-secrets-jwt-secret-a) rotates every 120 days; at most 90 days are allowed."],
    ],
    [
      "secrets-rotation-period-max",
      (e) => delete keepers(e, "demo-secrets-grafana-admin-password")["runbook.window"],
      ["demo: GRAFANA_ADMIN_PASSWORD (demo-secrets-grafana-admin-password) has no rotation window in its keepers (runbook.window, runbook.generation, runbook.rotationDays), so it never rotates; generate it through AppSecrets."],
    ],
    [
      "secrets-rotation-period-max",
      (e) => (keepers(e, "demo-secrets-database-password-b")["runbook.rotationDays"] = "200"),
      ["demo: DATABASE_PASSWORD (demo-secrets-database-password-b) rotates every 200 days; at most 180 days are allowed."],
      { maxDays: 180 },
    ],
    [
      "secrets-rotation-period-runbook",
      (e) => (keepers(e, "demo-secrets-jwt-secret-a")["runbook.rotationDays"] = "120"),
      ["demo: JWT_SECRET (demo-secrets-jwt-secret-a) rotation every 120 days > 90 days required in production (009 'Maintenance')"],
    ],
    [
      "secrets-rotation-period-runbook",
      (e) => delete keepers(e, "demo-secrets-database-password-a")["runbook.window"],
      ["demo: DATABASE_PASSWORD (demo-secrets-database-password-a) rotated at least every 90 days, not never, required in production (009 'Maintenance')"],
    ],
    [
      "secrets-value-not-plaintext",
      (e) => (props(e, "demo-db-roles-rotate")["create"] = `psql -c "ALTER ROLE demo_a PASSWORD 'hunter2'"`),
      ["demo-db-roles-rotate: its command line holds a password literal in SQL (give PostgreSQL a SCRAM verifier, on stdin) in plain text; pass secrets on stdin or in a secret environment, as Pulumi secrets."],
    ],
    [
      "secrets-value-not-plaintext",
      (e) => (props(e, "demo-migrate")["create"] = `sed -i "s/JWT_SECRET=.*/JWT_SECRET=${LEAKED}/" .env.production`),
      ["demo-migrate: its command line holds the generated DATABASE_PASSWORD of demo, a value for JWT_SECRET in plain text; pass secrets on stdin or in a secret environment, as Pulumi secrets."],
    ],
    [
      "secrets-value-not-plaintext",
      (e) => (props(e, "demo-worker-0")["command"] = ["worker", "--api-key", "k-123456"]),
      ["demo-worker-0: its command holds a value for api-key in plain text; pass secrets on stdin or in a secret environment, as Pulumi secrets."],
    ],
    [
      "secrets-value-not-plaintext",
      (e) => (props(e, "demo-proxy")["uploads"] = [{ file: "/etc/app.yml", content: "database:\n  url: postgresql://demo:s3cret@db/demo\n" }]),
      ["demo-proxy: its uploaded file holds a URL with a password (user:password@) in plain text; pass secrets on stdin or in a secret environment, as Pulumi secrets."],
    ],
    [
      "secrets-value-not-plaintext",
      (e) => (props(e, "demo-worker-0")["envs"] = ["QUEUE=default", `CACHE_KEY=${LEAKED}`]),
      ["demo-worker-0: its environment holds the generated DATABASE_PASSWORD of demo in plain text; pass secrets on stdin or in a secret environment, as Pulumi secrets."],
    ],
    [
      "secrets-value-not-plaintext",
      (e) => (props(e, "demo-migrate")["triggers"] = [LEAKED]),
      ["demo-migrate: its triggers holds the generated DATABASE_PASSWORD of demo in plain text; pass secrets on stdin or in a secret environment, as Pulumi secrets."],
    ],
    [
      "secrets-manager-customer-key",
      (e) => delete props(e, "demo-secret-store-jwt-secret")["kmsKeyId"],
      ["demo-secret-store-jwt-secret is not encrypted under a customer managed KMS key of this stack (kmsKeyId must be the ARN of an aws.kms.Key with enableKeyRotation)."],
    ],
    [
      "secrets-manager-customer-key",
      (e) => {
        props(e, "demo-secret-store-jwt-secret")["kmsKeyId"] = "alias/aws/secretsmanager";
        e["demo-secret-store-jwt-secret"]!.deps = [];
      },
      ["demo-secret-store-jwt-secret is not encrypted under a customer managed KMS key of this stack (kmsKeyId must be the ARN of an aws.kms.Key with enableKeyRotation)."],
    ],
    [
      "secrets-manager-customer-key",
      (e) => (props(e, "demo-key")["enableKeyRotation"] = false),
      ["demo-secret-store-jwt-secret is encrypted under demo-key, which does not rotate its key material (enableKeyRotation: true)."],
    ],
    [
      "secrets-manager-customer-key",
      (e) => (props(e, "demo-secret-store-jwt-secret")["recoveryWindowInDays"] = 0),
      ["demo-secret-store-jwt-secret has a recovery window of 0 days; at least 7 are required so a deleted secret can be restored."],
    ],
  ])("%s refuses one broken field with an exact message that names no secret value", async (name, change, messages, config = {}) => {
    const found = await run(name, demo(change), config);
    expect(found).toEqual(messages);
    expect(found.join("\n")).not.toContain(LEAKED);
  });

  it("holds staging to the runbook's rotation period as advice only (runbook-staging-parity)", async () => {
    const broken = (e: Record<string, Entry>) => (keepers(e, "demo-secrets-jwt-secret-a")["runbook.rotationDays"] = "120");
    expect(await run("secrets-rotation-period-runbook", demo(broken, "staging"))).toEqual([]);
    expect(await run("runbook-staging-parity", demo(broken, "staging"))).toEqual([
      "demo: JWT_SECRET (demo-secrets-jwt-secret-a) rotation every 120 days > 90 days required in production (advice for staging) (009 'Maintenance')",
    ]);
  });

  it("reads a flag followed by a shell redirect as a flag, not as a value (grafana cli's --password-from-stdin >/dev/null)", async () => {
    const stdinFlag = (e: Record<string, Entry>) => (props(e, "demo-migrate")["create"] = "grafana cli admin reset-admin-password --password-from-stdin >/dev/null");
    expect(await run("secrets-value-not-plaintext", demo(stdinFlag))).toEqual([]);
    const leaked = (e: Record<string, Entry>) => (props(e, "demo-migrate")["create"] = "grafana cli admin reset-admin-password --password s3cret-value >/dev/null");
    expect(await run("secrets-value-not-plaintext", demo(leaked))).toEqual([
      "demo-migrate: its command line holds a value for password in plain text; pass secrets on stdin or in a secret environment, as Pulumi secrets.",
    ]);
  });

  it("never judges the database's bootstrap password by rotation: the owner loses it once the app runs on its roles", async () => {
    const weak = (e: Record<string, Entry>) => (props(e, "demo-secrets-db-password")["length"] = 8);
    expect(await run("secrets-rotation-period-max", demo(weak))).toEqual([]);
    expect(await run("secrets-rotation-period-runbook", demo(weak))).toEqual([]);
    expect(await run("secrets-generated-min-bytes", demo(weak))).toEqual([
      "demo: POSTGRES_PASSWORD (demo-secrets-db-password) carries 5 bytes of randomness; a bootstrap needs at least 16.",
    ]);
  });
});
