/**
 * A property over apps nobody wrote: fast-check builds random valid catalog entries (services,
 * limits, probes, migrations, secrets, and runbook requirements their defaults meet). Each one
 * deploys in prod with no mandatory violation, and every single requirement broken is refused by
 * the policy that owns it, naming the app and the runbook line.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { requirementsData } from "../../apps/requirementsData";
import type { AppRequirements, SecretFormat } from "../../apps/requirements";
import type { AppDefinition, SecretEnvDefinition } from "../../apps/types";
import { catalogProblems } from "../../apps/validate";
import { resolveApp } from "../../config/resolve";
import type { StackSpec } from "../../config/spec";
import { runUnderMocks } from "../../plan/mockRuntime";
import { resolvePolicyConfig, runPolicies } from "../../plan/policyRunner";
import { buildPolicies, PACK_ENFORCEMENT_LEVEL } from "../../policies/pack";
import { breaker, POLICY, requirementCases, withBreaker } from "./breakers";

const src = (section: string) => ({ section, line: 1, quote: "q" });
const CPUS = [0.25, 0.5, 1, 1.5, 2];

const secretFormat: fc.Arbitrary<SecretFormat> = fc.oneof(
  fc.record({ encoding: fc.constantFrom("base64" as const, "hex" as const), bytes: fc.integer({ min: 32, max: 96 }) }),
  fc.record({ encoding: fc.constant("alphanumeric" as const), length: fc.integer({ min: 44, max: 80 }) }),
);

const appArb: fc.Arbitrary<AppDefinition> = fc
  .record({
    port: fc.integer({ min: 1024, max: 9999 }),
    healthPath: fc.stringMatching(/^\/[a-z]{2,8}$/),
    runtime: fc.constantFrom("python" as const, "node" as const),
    cpus: fc.constantFrom(...CPUS),
    memoryMb: fc.integer({ min: 128, max: 4096 }),
    // A minimum of 1 is what config itself enforces (0 replicas is refused there): require at least 2.
    replicas: fc.integer({ min: 2, max: 4 }),
    migration: fc.option(fc.record({ tool: fc.constantFrom("alembic", "migrate-tool"), then: fc.boolean() }), { nil: undefined }),
    metrics: fc.boolean(),
    secrets: fc.array(secretFormat, { maxLength: 2 }),
    // Generated secrets kept in two slots (<NAME>_PREVIOUS), and a runbook rotation period.
    twoSlots: fc.boolean(),
    rotation: fc.boolean(),
    frontend: fc.option(fc.integer({ min: 2, max: 3 }), { nil: undefined }),
    database: fc.constantFrom("postgres" as const, "sqlite" as const),
    cache: fc.option(fc.boolean(), { nil: undefined }),
    worker: fc.boolean(),
    tls: fc.boolean(),
  })
  .map((r): AppDefinition => {
    const id = "sample";
    const secretEnv: SecretEnvDefinition[] = r.secrets.map((format, i) => ({ name: `SAMPLE_SECRET_${i}`, source: "generated", format, ...(r.twoSlots && { previousSlot: true }) }));
    const migrationCommand = r.migration ? [r.migration.tool, "upgrade", "head"] : undefined;
    const releaseTask = r.migration?.then ? ["python", "seed.py"] : undefined;
    const requirements: AppRequirements = {
      replicas: { backend: { value: r.replicas, source: src("Scaling") }, ...(r.frontend && { frontend: { value: r.frontend, source: src("Scaling") } }) },
      limits: { backend: { value: { cpus: r.cpus, memoryMb: r.memoryMb }, source: src("Sizing") } },
      health: { backend: { value: { port: r.port, path: r.healthPath }, source: src("Health") } },
      healthEndpoints: { value: [r.healthPath], source: src("Health") },
      ...(migrationCommand && { migration: { value: { command: migrationCommand, ...(releaseTask && { then: releaseTask }) }, source: src("Deploy") } }),
      ...(r.tls && { tls: { value: true, source: src("Security") } }),
      database: { value: r.database === "postgres" ? { engine: "postgres", majorVersion: 16 } : { engine: "sqlite" }, source: src("Data") },
      private: { value: ["backend", ...(r.database === "postgres" ? (["database"] as const) : []), ...(r.cache !== undefined ? (["cache"] as const) : [])], source: src("Ports") },
      ...(r.cache === false && { cacheOnly: { value: ["cache"], source: src("Cache") } }),
      ...(r.metrics && { metricsNotPublic: { value: "/metrics", source: src("Monitoring") } }),
      ...(secretEnv.length > 0 && { secrets: Object.fromEntries(secretEnv.map((s) => [s.name, { value: (s as { format: SecretFormat }).format, source: src("Secrets") }])) }),
      ...(r.rotation && (secretEnv.length > 0 || r.database === "postgres") && { rotation: { "*": { value: 90, source: src("Maintenance") } } }),
    };
    return {
      id,
      displayName: "Sample",
      runbook: "099_sample.txt",
      backend: {
        image: "ghcr.io/sample/api",
        port: r.port,
        healthPath: r.healthPath,
        runtime: r.runtime,
        limits: { cpus: r.cpus, memoryMb: r.memoryMb },
        env: {},
        ...(r.metrics && { metricsPath: "/metrics" }),
        ...(migrationCommand && { migrationCommand }),
        ...(releaseTask && { releaseTask }),
        secretEnv,
        volumes: r.database === "sqlite" ? [{ name: "data", mountPath: "/data" }] : [],
        needsEgress: false,
        replicas: r.replicas,
      },
      ...(r.frontend && { frontend: { image: "ghcr.io/sample/web", port: 8080, healthPath: "/", runtime: "nginx" as const, limits: { cpus: 0.5, memoryMb: 256 }, env: {}, replicas: r.frontend } }),
      database:
        r.database === "postgres"
          ? { engine: "postgres", image: "postgres", tag: "16.4-alpine", database: "sample", user: "sample", port: 5432, limits: { cpus: 1, memoryMb: 1024 } }
          : { engine: "sqlite", path: "/data/sample.db", volume: "data", walMode: true },
      ...(r.cache !== undefined && { cache: { engine: "redis", image: "redis", tag: "7.4-alpine", port: 6379, limits: { cpus: 0.5, memoryMb: 256 }, optional: false, persistent: r.cache } }),
      workers: r.worker ? [{ name: "jobs", command: ["python", "worker.py"], healthcheck: "python -c 'import worker; worker.ping()'", replicas: 1, limits: { cpus: 0.5, memoryMb: 512 } }] : [],
      routes: [{ path: "/api/", service: "backend" }, { path: r.healthPath, service: "backend" }, ...(r.frontend ? [{ path: "/", service: "frontend" as const }] : [])],
      healthEndpoints: [r.healthPath],
      requirements,
    };
  });

function prodSpec(def: AppDefinition): StackSpec {
  const tls = def.requirements.tls?.value === true;
  const app = resolveApp(
    def,
    {
      host: "ssh://deploy@sample.example.com",
      hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJl0EPPx/2ItuwpX+EKsF0GxH/x7Z/+V3JRm7SEp89vD",
      domain: "sample.example.com",
      backend: { tag: "1.0.0" },
      ...(def.frontend && { frontend: { tag: "1.0.0" } }),
      ...(tls && { proxy: { tls: { certificateFile: "/etc/letsencrypt/live/sample/fullchain.pem", keyFile: "/etc/letsencrypt/live/sample/privkey.pem" } } }),
    },
    // Production pages someone on critical alerts (monitoring-routing-critical-receiver).
    { environment: "prod", apps: {}, alerting: { sample: { critical: { webhookUrl: { secure: "https://alerts.example.com/hook" } } } } },
  );
  return { project: "runbook", environment: "prod", apps: [app] };
}

async function violations(def: AppDefinition, program?: (spec: StackSpec) => unknown) {
  const policies = buildPolicies(requirementsData({ [def.id]: def }));
  const levels = resolvePolicyConfig(policies, PACK_ENFORCEMENT_LEVEL, {});
  const run = await runUnderMocks(prodSpec(def), "random", program);
  return (await runPolicies(run.resources, policies, levels)).violations;
}

describe("random catalog apps", () => {
  it("deploy cleanly when they meet their own requirements, and each broken requirement is refused by its policy", async () => {
    await fc.assert(
      fc.asyncProperty(appArb, async (def) => {
        expect(catalogProblems(def)).toEqual([]);
        expect(await violations(def)).toEqual([]);
        for (const [kind, key, rule] of requirementCases(def.requirements)) {
          const refused = (await violations(def, withBreaker(def.id, breaker(kind, def.id, key, rule.value)))).filter((v) => v.policy === POLICY[kind]);
          expect(refused.length, `${kind} ${key}`).toBeGreaterThan(0);
          for (const v of refused) expect(v.message).toMatch(new RegExp(`^sample: .* required in production \\(099 '${rule.source.section}'\\)$`));
        }
      }),
      { numRuns: 6, seed: 20261125 },
    );
    // Six apps, each planned once clean and once per requirement broken (two more kinds since secret
    // rotation, and the backups' kinds, each plan with its bucket and jobs): more on a loaded machine.
  }, 240_000);
});
