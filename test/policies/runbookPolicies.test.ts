/**
 * The runbook-requirement policies as plain functions: a compliant app, then one field broken per
 * case, with the exact message (app, requirement, runbook line). A made-up app keeps these tests
 * about the policies, not about the catalog (test/policies/runbookVariants.test.ts covers that).
 */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { runbookPolicies, type AppRequirementsEntry, type RequirementsData } from "../../policies/runbook";
import * as checks from "../../policies/runbook/checks";
import { stagingParityPolicy } from "../../policies/runbook/rules";
import { CONTAINER, checkStack, stack } from "./harness";

const CMD = "command:remote:Command";
const src = (section: string, line: number) => ({ section, line, quote: "q" });
const entry: AppRequirementsEntry = {
  displayName: "Demo",
  runbook: "009_demo.txt",
  secretEnv: ["DATABASE_URL", "JWT_SECRET"],
  requirements: {
    serviceNames: { backend: "web" },
    replicas: { backend: { value: 2, source: src("Horizontal Scaling", 10) } },
    limits: { backend: { value: { cpus: 1, memoryMb: 1024 }, source: src("Vertical Scaling", 20) } },
    health: { backend: { value: { port: 8000, path: "/healthz" }, source: src("Health", 30) } },
    healthEndpoints: { value: ["/healthz"], source: src("Deploy", 40), staging: ["/healthz"], stagingSource: src("Staging Deploy", 45) },
    migration: { value: { command: ["alembic", "upgrade", "head"], then: ["python", "seed.py"] }, source: src("Deploy", 41) },
    tls: { value: true, source: src("Security", 50) },
    database: { value: { engine: "postgres", majorVersion: 16 }, source: src("Architecture", 60) },
    private: { value: ["database"], source: src("Ports", 70) },
    cacheOnly: { value: ["cache"], source: src("Ports", 71) },
    metricsNotPublic: { value: "/metrics", source: src("Monitoring", 80) },
    secrets: { JWT_SECRET: { value: { encoding: "base64", bytes: 64 }, source: src("Incident", 90) } },
  },
};
const data: RequirementsData = { demo: entry };
const policies = Object.fromEntries(runbookPolicies(data).map((p) => [p.name, p as StackValidationPolicy]));

const labels = (service: string, env: string, role = service) => [
  { label: "runbook.app", value: "demo" },
  { label: "runbook.environment", value: env },
  { label: "runbook.role", value: role },
  { label: "runbook.service", value: service },
];
const healthProbe = ["CMD", "python", "-c", 'urlopen(Request("http://127.0.0.1:8000/healthz"))'];
const NGINX = "upstream backend_upstream { server demo-backend-0-1:8000; }\nserver { listen 80; location / { return 301 https://$host$request_uri; } }\nserver { listen 443 ssl; ssl_certificate /etc/letsencrypt/live/demo/fullchain.pem; location ^~ /metrics { access_log off; return 404; } }";

type Entry = Parameters<typeof stack>[0][number];
/** A compliant demo app; `change` edits the entries before they are linked. */
function demo(change: (e: Record<string, Entry>) => void = () => undefined, env = "prod"): PolicyResource[] {
  const container = (service: string, props: Record<string, unknown> = {}, role = service): Entry => ({
    name: "",
    type: CONTAINER,
    parent: "demo",
    props: { labels: labels(service, env, role), memory: 2048, cpus: "2.0", healthcheck: { tests: ["CMD", "true-probe"] }, ...props },
  });
  const e: Record<string, Entry> = {
    "demo-db-image": { name: "", type: "docker:index/remoteImage:RemoteImage", parent: "demo", props: { name: "postgres:16.4-alpine" } },
    "demo-db": { ...container("database"), deps: ["demo-db-image"] },
    "demo-redis": container("cache", { command: ["redis-server", "--save", "", "--appendonly", "no"] }),
    "demo-migrate": { name: "", type: CMD, parent: "demo", props: { create: "docker run --rm img alembic upgrade head" }, deps: ["demo-db"] },
    "demo-release-task": { name: "", type: CMD, parent: "demo", props: { create: "docker run --rm img python seed.py" }, deps: ["demo-migrate"] },
    "demo-backend-0": { ...container("backend", { healthcheck: { tests: healthProbe } }), deps: ["demo-migrate", "demo-release-task"] },
    "demo-backend-1": { ...container("backend", { healthcheck: { tests: healthProbe } }), deps: ["demo-migrate", "demo-release-task"] },
    "demo-proxy": container("proxy", { ports: [{ internal: 80, external: 80 }, { internal: 443, external: 443 }] }),
    "demo-proxy-config": { name: "", type: CMD, parent: "demo", props: { stdin: NGINX } },
    "demo-health-gate": { name: "", type: CMD, parent: "demo", props: { create: "check_endpoint /healthz || failed=1" } },
    "demo-secrets-jwt-secret": { name: "", type: "random:index/randomBytes:RandomBytes", props: { length: 64, keepers: { "runbook.app": "demo", "runbook.secret": "JWT_SECRET" } } },
  };
  change(e);
  return stack([{ name: "demo", type: "runbook:app:AppStack" }, ...Object.entries(e).map(([name, x]) => ({ ...x, name }))]);
}

const run = (name: string, resources: PolicyResource[]) => checkStack(policies[name]!, resources);
const props = (e: Record<string, Entry>, name: string) => e[name]!.props as Record<string, unknown>;

describe("runbook requirement policies", () => {
  it.each(Object.keys(policies))("%s accepts a compliant app", async (name) => {
    expect(await run(name, demo())).toEqual([]);
  });

  it.each<[string, (e: Record<string, Entry>) => void, string[]]>([
    ["runbook-replicas-minimum", (e) => delete e["demo-backend-1"], ["demo: web replicas 1 < 2 required in production (009 'Horizontal Scaling')"]],
    ["runbook-limits-minimum", (e) => (props(e, "demo-backend-0")["memory"] = 512), ["demo: web memory limit 512 MiB < 1024 MiB required in production (009 'Vertical Scaling')"]],
    ["runbook-limits-minimum", (e) => (props(e, "demo-backend-1")["cpus"] = "0.5"), ["demo: web CPU limit 0.5 < 1 required in production (009 'Vertical Scaling')"]],
    [
      "runbook-health-checks-probe",
      (e) => (props(e, "demo-backend-0")["healthcheck"] = { tests: ["CMD", "python", "-c", 'urlopen("http://127.0.0.1:9000/health")'] }),
      ["demo: web health check of demo-backend-0 does not probe port 8000, path /healthz required in production (009 'Health')"],
    ],
    ["runbook-health-gate-endpoints", (e) => (props(e, "demo-health-gate")["create"] = "check_endpoint /status || failed=1"), ["demo: health gate polling /healthz required in production (009 'Deploy')"]],
    ["runbook-migration-command", (e) => (props(e, "demo-migrate")["create"] = "docker run --rm img alembic current"), ["demo: migration step running `alembic upgrade head` required in production (009 'Deploy')"]],
    ["runbook-migration-command", (e) => delete e["demo-release-task"], ["demo: release task running `python seed.py` after migrations required in production (009 'Deploy')"]],
    [
      "runbook-migration-command",
      (e) => (e["demo-backend-1"]!.deps = ["demo-migrate"]),
      ["demo: demo-backend-1 starting only after the release task required in production (009 'Deploy')"],
    ],
    ["runbook-tls-required", (e) => (props(e, "demo-proxy")["ports"] = [{ internal: 80, external: 80 }]), ["demo: TLS on the proxy (443 with a certificate, http redirected to https) required in production (009 'Security')"]],
    ["runbook-database-engine", (e) => (props(e, "demo-db-image")["name"] = "postgres:15.8"), ["demo: PostgreSQL 15 instead of PostgreSQL 16 required in production (009 'Architecture')"]],
    ["runbook-services-private", (e) => (props(e, "demo-db")["ports"] = [{ internal: 5432, external: 5432 }]), ["demo: database (demo-db) publishing no host port required in production (009 'Ports')"]],
    ["runbook-cache-only", (e) => (props(e, "demo-redis")["volumes"] = [{ volumeName: "demo-redis-data", containerPath: "/data" }]), ["demo: cache (demo-redis) keeping no state (no volume, no append-only file) required in production (009 'Ports')"]],
    ["runbook-metrics-not-public", (e) => (props(e, "demo-proxy-config")["stdin"] = NGINX.replace("location ^~ /metrics { access_log off; return 404; }", "")), ["demo: the proxy refusing /metrics to the public (monitoring scrapes it inside) required in production (009 'Monitoring')"]],
    ["runbook-secret-formats", (e) => (props(e, "demo-secrets-jwt-secret")["length"] = 32), ["demo: JWT_SECRET from 32 random bytes < 64 random bytes (base64) required in production (009 'Incident')"]],
    [
      "runbook-secret-formats",
      (e) => (e["demo-secrets-jwt-secret"]!.type = "random:index/randomPassword:RandomPassword"),
      ["demo: JWT_SECRET from 64 characters, not 64 random bytes (base64) required in production (009 'Incident')"],
    ],
  ])("%s refuses a broken app in production, naming the app, the requirement and the runbook line", async (name, change, messages) => {
    expect(await run(name, demo(change))).toEqual(messages);
  });

  it("holds staging to a staging rule where the runbook sets one, and to nothing else", async () => {
    const broken = (e: Record<string, Entry>) => {
      delete e["demo-backend-1"];
      props(e, "demo-health-gate")["create"] = "check_endpoint /status || failed=1";
    };
    expect(await run("runbook-replicas-minimum", demo(broken, "staging"))).toEqual([]);
    expect(await run("runbook-health-gate-endpoints", demo(broken, "staging"))).toEqual(["demo: health gate polling /healthz required in staging (009 'Staging Deploy')"]);
  });

  it("reports, through runbook-staging-parity, where staging falls below production's rules that have no staging rule", async () => {
    const broken = (e: Record<string, Entry>) => {
      delete e["demo-backend-1"];
      props(e, "demo-health-gate")["create"] = "check_endpoint /status || failed=1";
    };
    expect(await run("runbook-staging-parity", demo(broken, "staging"))).toEqual(["demo: web replicas 1 < 2 required in production (advice for staging) (009 'Horizontal Scaling')"]);
    expect(await run("runbook-staging-parity", demo(broken, "prod"))).toEqual([]);
  });

  it("reports what it can when one value is unknown in a preview, then rethrows the unknown for the analyzer", async () => {
    class UnknownValueError extends Error {}
    const resources = demo((e) => delete e["demo-backend-1"], "staging");
    const migrate = resources.find((r) => r.name === "demo-migrate")!;
    Object.defineProperty(migrate.props, "create", {
      get: () => {
        throw new UnknownValueError("string value at .create can't be known during preview");
      },
    });
    // The migration check meets the unknown first; the replicas check must still report.
    const policy = stagingParityPolicy("test-parity", "d", [checks.migration, checks.replicas], data);
    const messages: string[] = [];
    const args = { resources, getConfig: () => ({}), stackTags: new Map(), notApplicable: () => undefined } as unknown as Parameters<StackValidationPolicy["validateStack"]>[0];
    await expect((async () => policy.validateStack(args, (m) => messages.push(m)))()).rejects.toBeInstanceOf(UnknownValueError);
    expect(messages).toEqual(["demo: web replicas 1 < 2 required in production (advice for staging) (009 'Horizontal Scaling')"]);
  });

  it("refuses an app the pack has no requirements for, naming the command that regenerates them", async () => {
    const other = demo((e) => {
      for (const x of Object.values(e)) {
        const l = (x.props as { labels?: { label: string; value: string }[] }).labels;
        if (l) l[0]!.value = "newapp";
      }
    });
    expect(await run("runbook-requirements-known", other)).toEqual([
      "newapp: the policy pack has no runbook requirements for this app; run `npm run generate:requirements` and commit policies/requirements.json.",
    ]);
  });

  it("refuses a secret-looking variable that is not one of the app's secrets, naming it but never its value", async () => {
    const leaky = demo((e) => (props(e, "demo-backend-0")["envs"] = ["JWT_SECRET=fine", "DJANGO_SECRET_KEY=s3cr3t-value", "CACHE_URL=redis://u:hunter2@redis:6379/0", "NODE_ENV=production"]));
    const messages = await run("runbook-secret-env-declared", leaky);
    expect(messages).toEqual([
      "demo: demo-backend-0 carries DJANGO_SECRET_KEY, which looks like a secret but is not one of demo's secrets (DATABASE_URL, JWT_SECRET); declare it in the catalog or set it with `pulumi config set --secret`.",
      "demo: demo-backend-0 carries CACHE_URL, which looks like a secret but is not one of demo's secrets (DATABASE_URL, JWT_SECRET); declare it in the catalog or set it with `pulumi config set --secret`.",
    ]);
    expect(messages.join("\n")).not.toMatch(/s3cr3t|hunter2/);
  });
});
