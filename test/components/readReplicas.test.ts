/**
 * Read replicas in the whole program under Pulumi's mock runtime (the prod stack file with
 * `database.readReplicas` set on FairLens and LMS), and once through the nodejs language host the
 * way `pulumi up` loads the project: which resources exist, in what order, what backends are told,
 * and that the replication password is a secret everywhere it goes.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { PRIMARY_VOLUME_LABEL, REPLICA_ALIAS } from "../../components/app/readReplicas";
import { renderReplicaInitScript } from "../../components/app/readReplicaScripts";
import { REPLICATION_PASSWORD } from "../../components/secrets/appSecrets";
import { PROJECT } from "../../config/defaults";
import { parseStackConfig, type RawConfig } from "../../config/resolve";
import type { StackSpec } from "../../config/spec";
import { runUnderMocks, type PlannedResource } from "../../plan/mockRuntime";
import { SECRET_SIG, SPECIAL_SIG_KEY } from "../../plan/pulumiInternals";
import type { StackOutputs } from "../../program";
import { runLanguageHost } from "../program/languageHost";
import { CONTAINER, isSecretWire, named, rawStackConfig, ROOT, stackSpec } from "../helpers";

const REPLICAS = { fairlens: 2, lms: 1 } as const;

function withReplicas(extra: (apps: Record<string, Record<string, unknown>>) => void = () => undefined): RawConfig {
  const raw = structuredClone(rawStackConfig("prod")) as { apps: Record<string, Record<string, unknown>> };
  for (const [id, n] of Object.entries(REPLICAS)) raw.apps[id]!["database"] = { ...(raw.apps[id]!["database"] as object | undefined), readReplicas: n };
  // LMS's prod host (32 GiB) has no room for another 2 GiB PostgreSQL: this stack gives it a larger one.
  raw.apps["lms"]!["hostMemoryMb"] = 49152;
  extra(raw.apps);
  return raw as unknown as RawConfig;
}

const unwrap = (v: unknown): unknown => (isSecretWire(v) ? (v as { value: unknown }).value : v);
/** Every plain string of a wire value, skipping what is inside a secret. */
function plainStrings(v: unknown): string[] {
  if (typeof v === "string") return [v];
  if (v === null || typeof v !== "object" || (v as Record<string, unknown>)[SPECIAL_SIG_KEY] === SECRET_SIG) return [];
  return Object.values(v as Record<string, unknown>).flatMap(plainStrings);
}
const envs = (c: PlannedResource) => (c.wireInputs["envs"] as unknown[] | undefined) ?? [];
const envEntry = (c: PlannedResource, name: string) => envs(c).find((e) => String(unwrap(e)).startsWith(`${name}=`));
const replicasOf = (resources: readonly PlannedResource[], id: string) => resources.filter((r) => r.type === CONTAINER && new RegExp(`^${id}-db-replica-\\d+$`).test(r.name));

let spec: StackSpec;
let resources: readonly PlannedResource[];
let outputs: StackOutputs;
let plain: { prod: readonly PlannedResource[]; staging: readonly PlannedResource[] };
beforeAll(async () => {
  spec = parseStackConfig(withReplicas(), PROJECT);
  const run = await runUnderMocks(spec, "prod");
  resources = run.resources;
  outputs = run.outputs as StackOutputs;
  plain = { prod: (await runUnderMocks(stackSpec("prod"), "prod")).resources, staging: (await runUnderMocks(stackSpec("staging"), "staging")).resources };
}, 180_000);

describe("read replicas under the mock runtime", () => {
  it("declares no replica, replication step, replica variable or replication password where database.readReplicas is not set", () => {
    for (const [stack, rs] of Object.entries(plain)) {
      expect(rs.filter((r) => /-(db-replica-\d+|replication|pgdata-replica-\d+|replication-password)$/.test(r.name)).map((r) => r.name), stack).toEqual([]);
      for (const c of rs.filter((r) => r.type === CONTAINER)) expect(envEntry(c, "DATABASE_REPLICA_URL"), `${stack}: ${c.name}`).toBeUndefined();
    }
    // FDTS, reference and Handwork in this very stack have none either.
    expect(resources.filter((r) => /-db-replica-\d+$/.test(r.name)).map((r) => r.name).sort()).toEqual(["fairlens-db-replica-0", "fairlens-db-replica-1", "lms-db-replica-0"]);
  });

  it.each(Object.entries(REPLICAS))("%s: runs %i replicas of the primary's pinned image, as the postgres user, each on a protected volume of its own, on the internal network only", (id, n) => {
    const db = named(resources, `${id}-db`);
    const replicas = replicasOf(resources, id);
    expect(replicas).toHaveLength(n);
    const volumeNames = new Set<unknown>();
    replicas.forEach((r, i) => {
      expect(r.wireInputs["image"], r.name).toEqual(db.wireInputs["image"]);
      expect(r.wireInputs["user"]).toBe("postgres");
      expect(r.wireInputs["entrypoints"]).toEqual(["sh", "-c", renderReplicaInitScript({ primaryHost: "db", primaryPort: 5432, applicationName: `${id}-replica-${i}` })]);
      expect(r.wireInputs["command"]).toEqual(["replica"]);
      expect(r.wireInputs["ports"] ?? []).toEqual([]);
      const nets = r.wireInputs["networksAdvanced"] as { name: unknown; aliases: string[] }[];
      expect(nets).toEqual([{ name: (db.wireInputs["networksAdvanced"] as { name: unknown }[])[0]!.name, aliases: [REPLICA_ALIAS, `${REPLICA_ALIAS}-${i}`] }]);
      const [mount] = r.wireInputs["volumes"] as { volumeName: unknown; containerPath: string }[];
      expect(mount!.containerPath).toBe("/var/lib/postgresql/data");
      volumeNames.add(mount!.volumeName);
      const volume = named(resources, `${id}-pgdata-replica-${i}`);
      expect(volume.options).toMatchObject({ protect: true, retainOnDelete: true });
      expect(r.dependencies).toContain(volume.urn);
      // A primary on a new data volume replaces the replica (labels force a new container), which then clones again.
      const labels = r.wireInputs["labels"] as { label: string; value: unknown }[];
      expect(labels.find((l) => l.label === PRIMARY_VOLUME_LABEL)?.value).toEqual((db.wireInputs["volumes"] as { volumeName: unknown }[])[0]!.volumeName);
      // A data directory of its own: the old container goes before its replacement starts.
      expect(r.options.deleteBeforeReplace).toBe(true);
      expect(r.options.additionalSecretOutputs).toContain("envs");
    });
    volumeNames.add((db.wireInputs["volumes"] as { volumeName: unknown }[])[0]!.volumeName);
    expect(volumeNames.size).toBe(n + 1);
  });

  it.each(Object.keys(REPLICAS))("%s: starts each replica after the primary, the replication step and the pre-deploy backup; every backend after every replica; the health gate after them", (id) => {
    const db = named(resources, `${id}-db`);
    const step = named(resources, `${id}-replication`);
    const backup = named(resources, `${id}-backups-pre-deploy`);
    expect(step.dependencies).toContain(db.urn);
    const gate = named(resources, `${id}-health-gate`);
    for (const r of replicasOf(resources, id)) {
      expect(r.dependencies, r.name).toEqual(expect.arrayContaining([step.urn, backup.urn]));
      expect(gate.dependencies, r.name).toContain(r.urn);
      for (const b of resources.filter((x) => x.type === CONTAINER && new RegExp(`^${id}-(backend-\\d+|worker-.+)$`).test(x.name))) expect(b.dependencies, `${b.name} after ${r.name}`).toContain(r.urn);
    }
    // Migrations and DATABASE_URL stay on the primary.
    const migrate = named(resources, `${id}-migrate`);
    for (const r of replicasOf(resources, id)) expect(migrate.dependencies).not.toContain(r.urn);
  });

  it.each(Object.entries(REPLICAS))("%s: tells every backend where the %i replicas are: DATABASE_REPLICA_HOSTS in plain, DATABASE_REPLICA_URL as a secret with the app's login role", (id, n) => {
    const backends = resources.filter((x) => x.type === CONTAINER && new RegExp(`^${id}-backend-\\d+$`).test(x.name));
    expect(backends.length).toBeGreaterThan(0);
    const app = spec.apps.find((a) => a.id === id)!;
    if (app.database.engine !== "postgres") throw new Error("postgres expected");
    for (const b of backends) {
      const hosts = envEntry(b, "DATABASE_REPLICA_HOSTS");
      expect(isSecretWire(hosts)).toBe(false);
      expect(hosts).toBe(`DATABASE_REPLICA_HOSTS=${Array.from({ length: n }, (_, i) => `${REPLICA_ALIAS}-${i}`).join(",")}`);
      const url = envEntry(b, "DATABASE_REPLICA_URL");
      expect(isSecretWire(url), b.name).toBe(true);
      const database = String(unwrap(envEntry(b, "DATABASE_URL")));
      // The same login role and database as DATABASE_URL, at the replicas' shared alias.
      expect(String(unwrap(url))).toBe(database.replace("DATABASE_URL=", "DATABASE_REPLICA_URL=").replace(`@db:${app.database.port}/`, `@${REPLICA_ALIAS}:${app.database.port}/`));
    }
  });

  it.each(Object.keys(REPLICAS))("%s: passes the replication password only as a Pulumi secret: the replicas' env, the step's stdin (a SCRAM verifier), Secrets Manager; never in plain text", (id) => {
    const password = named(resources, `${id}-secrets-replication-password`);
    expect(password.type).toBe("random:index/randomPassword:RandomPassword");
    const value = "x".repeat(Number(unwrap(password.wireInputs["length"])));
    expect(value.length).toBeGreaterThanOrEqual(44);
    for (const r of replicasOf(resources, id)) {
      expect(envs(r)).toHaveLength(1);
      expect(isSecretWire(envs(r)[0])).toBe(true);
      expect(unwrap(envs(r)[0])).toBe(`PGPASSWORD=${value}`);
    }
    const step = named(resources, `${id}-replication`);
    expect(isSecretWire(step.wireInputs["stdin"])).toBe(true);
    expect(String(unwrap(step.wireInputs["stdin"]))).toMatch(/PASSWORD 'SCRAM-SHA-256\$4096:/);
    expect(String(unwrap(step.wireInputs["stdin"]))).not.toContain(value);
    // Rotated with the app's window and kept for break-glass reads, like every generated secret.
    expect((password.wireInputs["keepers"] as Record<string, string>)["runbook.secret"]).toBe(REPLICATION_PASSWORD);
    expect(outputs.apps[id]!.rotation!.secrets[REPLICATION_PASSWORD]).toBeDefined();
    expect(resources.some((r) => r.type === "aws:secretsmanager/secretVersion:SecretVersion" && r.name.startsWith(`${id}-`) && isSecretWire(r.wireInputs["secretString"]))).toBe(true);
    // The mock's password appears in no plain string of any resource of the stack.
    for (const r of resources) for (const s of plainStrings(r.wireInputs)) expect(s.includes(`PGPASSWORD=${value}`) || s.includes(`:${value}@`), r.name).toBe(false);
  });

  it("counts the replicas in the capacity output and passes the prod policy pack with no mandatory violation", async () => {
    expect(outputs.apps["fairlens"]!.capacity!.services["database-replica"]).toMatchObject({ replicas: 2 });
    const { policies } = await import("../../policies/pack");
    const { resolvePolicyConfig, runPolicies } = await import("../../plan/policyRunner");
    const levels = resolvePolicyConfig(policies, "mandatory", JSON.parse(fs.readFileSync(path.join(ROOT, "policies/config/prod.json"), "utf8")) as Record<string, unknown>);
    const { violations } = await runPolicies(resources, policies, levels, false);
    expect(violations.filter((v) => v.enforcementLevel === "mandatory").map((v) => `${v.policy}: ${v.message}`)).toEqual([]);
  });

  it("counts each replica's memory on its host: the committed LMS prod host is refused with one more PostgreSQL", async () => {
    const raw = withReplicas((apps) => (apps["lms"]!["hostMemoryMb"] = 32768));
    const run = await runUnderMocks(parseStackConfig(raw, PROJECT), "prod-small-host");
    const { policies } = await import("../../policies/pack");
    const { resolvePolicyConfig, runPolicies } = await import("../../plan/policyRunner");
    const { violations } = await runPolicies(run.resources, policies.filter((p) => p.name === "capacity-host-memory"), resolvePolicyConfig(policies, "mandatory", {}), false);
    expect(violations.map((v) => v.message)).toEqual([expect.stringContaining("Host ssh://deploy@lms-prod.example.com has 32768 MiB (apps.lms.hostMemoryMb)")]);
  }, 120_000);

  it("clones in a recovery stack only after the restore: the replicas wait for it", async () => {
    const raw = withReplicas((apps) => (apps["fairlens"]!["backups"] = { ...(apps["fairlens"]!["backups"] as object | undefined), restoreFrom: { stack: "acme/runbook/prod" } }));
    const run = await runUnderMocks(parseStackConfig(raw, PROJECT), "prod-recovery");
    const restore = named(run.resources, "fairlens-backups-restore");
    const replicas = replicasOf(run.resources, "fairlens");
    expect(replicas).toHaveLength(2);
    for (const r of replicas) expect(r.dependencies, r.name).toContain(restore.urn);
  }, 120_000);
});

describe("read replicas through the nodejs language host", () => {
  it("declares the replicas and the replication step when the stack sets database.readReplicas, and none when it does not", () => {
    const apps = { fairlens: { backend: { tag: "1.9.0" }, frontend: { tag: "1.9.0" }, database: { readReplicas: 2 } }, fdts: { backend: { tag: "2.4.0" }, proxy: { httpPort: 8080 } } };
    const run = runLanguageHost("staging", { "runbook:environment": "staging", "runbook:apps": apps }, []);
    expect(run.status, run.stderr).toBe(0);
    const names = run.resources.map((r) => r.name);
    expect(names.filter((n) => /-db-replica-\d+$/.test(n)).sort()).toEqual(["fairlens-db-replica-0", "fairlens-db-replica-1"]);
    expect(names).toContain("fairlens-replication");
    expect(names).toContain("fairlens-secrets-replication-password");
    expect(names.filter((n) => n.startsWith("fdts-") && /replica|replication/.test(n))).toEqual([]);
  }, 180_000);
});
