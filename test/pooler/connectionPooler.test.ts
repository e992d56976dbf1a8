/**
 * The pooler under Pulumi's mock runtime: index.ts loaded by the nodejs language host itself (the
 * engine's own path, with the stack's config as the engine hands it over), and the program under the
 * plan's mocks with @pulumi/random behaving as the provider does (a new value per set of keepers).
 * PgBouncer exists only for the app that turns it on; its backends and workers connect through it;
 * migrations, the release task, backups and the role step do not; no password or verifier is in
 * plain text anywhere (inputs, the uploaded pgbouncer.ini, the plan's output).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { databaseRoleNames } from "../../components/secrets/appSecrets";
import { roleVerifier } from "../../components/secrets/scramVerifier";
import { runPlan } from "../../plan/cli";
import { runUnderMocks, type PlannedResource } from "../../plan/mockRuntime";
import { SECRET_SIG, SPECIAL_SIG_KEY } from "../../plan/pulumiInternals";
import { parseStackConfig } from "../../config/resolve";
import { words } from "../../policies/runbook/rules";
import { CONTAINER, isSecretWire, rawStackConfig, ROOT, keptRandomPasswords } from "../helpers";
import { runLanguageHost, type HostRun } from "../program/languageHost";
import type { StackOutputs } from "../../program";

const unwrap = (v: unknown): unknown => (isSecretWire(v) ? (v as { value: unknown }).value : v);
/** Every plain string of a wire value, skipping what is inside a secret. */
function plainStrings(v: unknown): string[] {
  if (typeof v === "string") return [v];
  if (v === null || typeof v !== "object" || (v as Record<string, unknown>)[SPECIAL_SIG_KEY] === SECRET_SIG) return [];
  return Object.values(v as Record<string, unknown>).flatMap(plainStrings);
}
/** A wire value with every secret opened: what the provider receives. */
function opened(v: unknown): unknown {
  const u = unwrap(v);
  if (Array.isArray(u)) return u.map(opened);
  if (u !== null && typeof u === "object") return Object.fromEntries(Object.entries(u as Record<string, unknown>).map(([k, x]) => [k, opened(x)]));
  return u;
}
const envValue = (envs: unknown, name: string): string | undefined => {
  const entry = (opened(envs) as string[]).find((e) => e.startsWith(`${name}=`));
  return entry?.slice(name.length + 1);
};

/** @pulumi/random as the provider behaves (test/helpers.ts). */
const { mocks: providerMocks, made } = keptRandomPasswords();

/** The committed prod stack with the LMS's pooler turned on (FairLens and the reference app, also on PostgreSQL, left off). */
function prodWithPooler(pooler: Record<string, unknown> = { enabled: true, defaultPoolSize: 10 }) {
  const raw = structuredClone(rawStackConfig("prod")) as { apps: Record<string, Record<string, unknown>> };
  raw.apps["lms"]!["database"] = { ...(raw.apps["lms"]!["database"] as object | undefined), pooler };
  return raw;
}

let resources: readonly PlannedResource[] = [];
let outputs: StackOutputs;
const named = (name: string) => {
  const r = resources.find((x) => x.name === name);
  if (!r) throw new Error(`no resource ${name}`);
  return r;
};
const LMS = parseStackConfig(prodWithPooler()).apps.find((a) => a.id === "lms")!;
const ROLES = databaseRoleNames(LMS.database.engine === "postgres" ? LMS.database.user : "");

beforeAll(async () => {
  const run = await runUnderMocks(parseStackConfig(prodWithPooler()), "prod", undefined, { mocks: providerMocks });
  resources = run.resources;
  outputs = run.outputs as StackOutputs;
});

describe("the pooler under the plan's mocks (prod, LMS pooler on)", () => {
  it("runs one PgBouncer container, pinned and on the internal network only, for the app that turns it on and no other", () => {
    const poolers = resources.filter((r) => r.type === CONTAINER && r.name.includes("-pooler-"));
    expect(poolers.map((r) => r.name)).toEqual(["lms-pooler-pgbouncer"]);
    const c = poolers[0]!;
    expect(c.wireInputs["ports"]).toBeUndefined();
    const networks = opened(c.wireInputs["networksAdvanced"]) as { name: string }[];
    expect(networks.map((n) => n.name)).toEqual([opened(named("lms-internal").wireInputs["name"]) ?? expect.stringMatching(/^lms-internal/)]);
    expect(opened(named("lms-pooler-image").wireInputs)).toMatchObject({ name: "edoburu/pgbouncer:v1.24.1-p0", keepLocally: true });
    expect(c.options.deleteBeforeReplace).toBe(false);
    expect(c.dependencies).toContain(named("lms-db").urn);
    // FairLens and the reference app run PostgreSQL too, with the pooler off: nothing of it.
    for (const id of ["fairlens", "reference"]) expect(resources.some((r) => r.name.startsWith(`${id}-pooler`)), id).toBe(false);
  });

  it("gives PgBouncer the rendered pgbouncer.ini: the app's database on `db`, SCRAM against the auth file, the stack's pool size", () => {
    const c = named("lms-pooler-pgbouncer");
    expect(opened(c.wireInputs["entrypoints"])).toEqual(["pgbouncer"]);
    expect(opened(c.wireInputs["command"])).toEqual(["/etc/pgbouncer/pgbouncer.ini"]);
    const [upload] = opened(c.wireInputs["uploads"]) as { file: string; content: string }[];
    expect(upload!.file).toBe("/etc/pgbouncer/pgbouncer.ini");
    expect(upload!.content).toContain("\nfractionball = host=db port=5432 dbname=fractionball\n");
    // The pid file on a tmpfs, emptied on every start of the container: never a stale one naming PID 1.
    expect(opened(c.wireInputs["tmpfs"])).toEqual({ "/run/pgbouncer": "rw,noexec,nosuid,size=1m,mode=1777" });
    for (const line of ["pidfile = /run/pgbouncer/pgbouncer.pid", "auth_type = scram-sha-256", "auth_file = /tmp/pgbouncer-userlist.txt", "pool_mode = session", "default_pool_size = 10", "max_db_connections = 10", "max_client_conn = 200", "admin_users ="]) {
      expect(upload!.content.split("\n"), line).toContain(line);
    }
  });

  it("points every backend replica and worker at the pooler, as the active login role, and makes them wait for its auth step", () => {
    const pooler = named("lms-pooler-pgbouncer");
    const auth = named("lms-pooler-auth");
    const poolerName = words(String(opened(auth.wireInputs["create"])))[3]!;
    expect(poolerName).toMatch(/^lms-pooler-pgbouncer-/);
    const services = resources.filter((r) => r.type === CONTAINER && /^lms-(backend-\d+|worker-.+)$/.test(r.name));
    expect(services.length).toBe(LMS.backend.replicas + LMS.workers.reduce((n, w) => n + w.replicas, 0));
    for (const s of services) {
      const url = new URL(envValue(s.wireInputs["envs"], "DATABASE_URL")!);
      expect(`${url.hostname}:${url.port}${url.pathname}`, s.name).toBe(`${poolerName}:6432/fractionball`);
      expect([ROLES.a, ROLES.b], s.name).toContain(url.username);
      expect(s.dependencies, s.name).toEqual(expect.arrayContaining([auth.urn, pooler.urn]));
    }
  });

  it("keeps migrations, the release task, the role step and the backups on PostgreSQL directly: nothing else reaches the pooler", () => {
    for (const step of ["lms-migrate", "lms-release-task"]) {
      const env = String(opened(named(step).wireInputs["stdin"]));
      const url = new URL(env.split("\n").find((l) => l.startsWith("DATABASE_URL="))!.slice("DATABASE_URL=".length));
      expect(`${url.hostname}:${url.port}`, step).toBe("db:5432");
    }
    const poolerName = words(String(opened(named("lms-pooler-auth").wireInputs["create"])))[3]!;
    const reaching = resources.filter((r) => JSON.stringify(opened(r.wireInputs)).includes(poolerName)).map((r) => r.name);
    const expected = resources.filter((r) => /^lms-(backend-\d+|worker-.+)$/.test(r.name) && r.type === CONTAINER).map((r) => r.name);
    // The health gate checks that every container of the release is healthy, the pooler too (by name, with docker
    // inspect); the metrics exporter reads PgBouncer's own admin database.
    expect(reaching.sort()).toEqual([...expected, "lms-pooler-auth", "lms-health-gate", "lms-monitoring-pgbouncer-exporter"].sort());
    // The role step still reaches PostgreSQL by its own alias, and the backups run pg_dump in the database container.
    expect(String(opened(named("lms-db-roles-rotate").wireInputs["create"]))).toContain(" -h db ");
  });

  it("runs the auth step after the role step (PostgreSQL has the verifiers first), with both roles' verifiers and the active password on a secret stdin", () => {
    const auth = named("lms-pooler-auth");
    expect(auth.dependencies).toEqual(expect.arrayContaining([named("lms-db-roles-rotate").urn, named("lms-pooler-pgbouncer").urn, named("lms-backups-pre-deploy").urn]));
    expect(isSecretWire(auth.wireInputs["stdin"])).toBe(true);
    const [password, ...file] = String(unwrap(auth.wireInputs["stdin"])).split("\n");
    const backendUrl = new URL(envValue(named("lms-backend-0").wireInputs["envs"], "DATABASE_URL")!);
    expect(password).toBe(backendUrl.password);
    const entries = file.filter(Boolean).map((l) => l.match(/^"([^"]+)" "([^"]+)"$/)!.slice(1));
    // Both login roles, and (the LMS is monitored) the exporter's stats user, which PostgreSQL never sees.
    expect(entries.map(([u]) => u)).toEqual([ROLES.a, ROLES.b, "pgbouncer_stats"]);
    // The very verifier the role step gives PostgreSQL: SCRAM pass-through needs the same salt and iterations.
    const roleStdin = String(unwrap(named("lms-db-roles-rotate").wireInputs["stdin"]));
    expect(roleStdin).not.toContain("pgbouncer_stats");
    for (const [user, verifier] of entries.slice(0, 2)) expect(roleStdin, user).toContain(`ALTER ROLE "${user}" WITH LOGIN NOSUPERUSER INHERIT PASSWORD '${verifier}';`);
    expect(entries.find(([u]) => u === backendUrl.username)![1]).toBe(roleVerifier(backendUrl.password, backendUrl.username));
  });

  it("shows no password and no verifier in plain text anywhere: every value that carries one is a Pulumi secret", () => {
    const passwords = [...made.values()];
    expect(passwords.length).toBeGreaterThan(0);
    const verifiers = ["a", "b"].flatMap((slot) => passwords.map((p) => roleVerifier(p, ROLES[slot as "a" | "b"])));
    for (const r of resources) {
      for (const text of plainStrings(r.wireInputs)) {
        for (const p of passwords) expect(text.includes(p), `${r.name} shows a password`).toBe(false);
        for (const v of verifiers) expect(text.includes(v.split("$")[2]!), `${r.name} shows a verifier`).toBe(false);
      }
    }
    for (const s of resources.filter((r) => r.type === CONTAINER && /^lms-(backend-\d+|worker-.+)$/.test(r.name))) {
      const entry = (s.wireInputs["envs"] as unknown[]).find((e) => String(unwrap(e)).startsWith("DATABASE_URL="));
      expect(isSecretWire(entry), s.name).toBe(true);
      expect(s.options.additionalSecretOutputs, s.name).toContain("envs");
    }
  });
});

describe("the pooler in the app's capacity (prod, LMS pooler on)", () => {
  it("counts PgBouncer and its exporter among the containers, CPUs and memory the LMS runs", () => {
    const capacity = outputs.apps["lms"]!.capacity!;
    const containers = resources.filter((r) => r.type === CONTAINER && (opened(r.wireInputs["labels"]) as { label: string; value: string }[]).some((l) => l.label === "runbook.app" && l.value === "lms"));
    expect(capacity.services["pooler"]).toEqual({ replicas: 1, cpus: 0.5, memoryMb: 128 });
    expect(capacity.services["monitoring:pgbouncer-exporter"]).toBeDefined();
    expect(capacity.totals.containers).toBe(containers.length);
    expect(capacity.totals.memoryMb).toBe(containers.reduce((n, c) => n + Number(opened(c.wireInputs["memory"])), 0));
    // FairLens (no pooler) has neither.
    expect(Object.keys(outputs.apps["fairlens"]!.capacity!.services).filter((k) => k.includes("pooler") || k.includes("pgbouncer"))).toEqual([]);
  });
});

describe("the pooler's metrics (prod, LMS pooler on, LMS monitored)", () => {
  it("runs a pinned PgBouncer exporter that reads the pools as the read-only stats user, its connection string a secret, after the auth step", () => {
    const exporter = named("lms-monitoring-pgbouncer-exporter");
    expect(opened(named("lms-monitoring-pgbouncer-exporter-image").wireInputs["name"])).toBe("quay.io/prometheuscommunity/pgbouncer-exporter:v0.12.1");
    const [entry] = exporter.wireInputs["envs"] as unknown[];
    expect(isSecretWire(entry)).toBe(true);
    expect(exporter.options.additionalSecretOutputs).toContain("envs");
    const url = new URL(String(unwrap(entry)).slice("PGBOUNCER_EXPORTER_CONNECTION_STRING=".length));
    const poolerName = words(String(opened(named("lms-pooler-auth").wireInputs["create"])))[3]!;
    expect([url.username, url.hostname, url.port, url.pathname]).toEqual(["pgbouncer_stats", poolerName, "6432", "/pgbouncer"]);
    expect(exporter.dependencies).toContain(named("lms-pooler-auth").urn);
    // The stats user may read SHOW views only: no admin user at all.
    const [upload] = opened(named("lms-pooler-pgbouncer").wireInputs["uploads"]) as { content: string }[];
    expect(upload!.content.split("\n")).toEqual(expect.arrayContaining(["stats_users = pgbouncer_stats", "admin_users ="]));
  });

  it("scrapes it and alerts on clients waiting for a pooled connection (pool exhaustion) and on PgBouncer down; FairLens, without a pooler, has neither", () => {
    const prometheus = named("lms-monitoring-prometheus");
    const files = opened(prometheus.wireInputs["uploads"]) as { file: string; content: string }[];
    expect(files.find((f) => f.file.endsWith("prometheus.yml"))!.content).toContain("job_name: pgbouncer");
    const rules = files.find((f) => f.file.endsWith("runbook.yml"))!.content;
    expect(rules).toContain("alert: DatabasePoolExhausted");
    expect(rules).toContain("alert: PoolerDown");
    const fairlens = (opened(named("fairlens-monitoring-prometheus").wireInputs["uploads"]) as { file: string; content: string }[]).map((f) => f.content).join("\n");
    expect(fairlens).not.toContain("pgbouncer");
    expect(resources.some((r) => r.name === "fairlens-monitoring-pgbouncer-exporter")).toBe(false);
  });
});

describe("the offline plan of prod with the LMS pooler on", () => {
  it("passes the policy pack with no mandatory violation, and prints no password or verifier", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pooler-plan-"));
    try {
      const doc = parseDocument(fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8"));
      doc.setIn(["config", "runbook:apps", "lms", "database", "pooler"], doc.createNode({ enabled: true }));
      const file = path.join(dir, "Pulumi.prod.yaml");
      fs.writeFileSync(file, doc.toString());
      const outcome = await runPlan({ stack: "prod", configFile: file, cwd: ROOT, json: false });
      expect(outcome.stderr).toBe("");
      expect(outcome.exitCode).toBe(0);
      expect(outcome.stdout).toContain("lms-pooler-pgbouncer");
      // The plan's mocks give every password as `x` repeated: neither it nor its verifier is printed.
      const password = "x".repeat(44);
      expect(outcome.stdout).not.toContain(password);
      for (const role of [ROLES.a, ROLES.b]) expect(outcome.stdout).not.toContain(roleVerifier(password, role).split("$")[2]!);
      const json = await runPlan({ stack: "prod", configFile: file, cwd: ROOT, json: true });
      expect(json.exitCode).toBe(0);
      expect(json.stdout).not.toContain(password);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});

describe("index.ts loaded by the nodejs language host, with the pooler on for one app", () => {
  let run: HostRun;
  beforeAll(() => {
    run = runLanguageHost(
      "staging",
      {
        "runbook:environment": "staging",
        "runbook:apps": { lms: { backend: { tag: "1.2.0" }, database: { pooler: { enabled: true } } }, fairlens: { backend: { tag: "1.0.0" }, frontend: { tag: "1.0.0" }, proxy: { httpPort: 8080 } } },
      },
      [],
      ROOT,
      { inputs: true },
    );
  }, 180_000);

  it("declares PgBouncer for the LMS only, and the LMS backends' DATABASE_URL (a secret) names it while FairLens's names PostgreSQL", () => {
    expect(run.status, run.stderr).toBe(0);
    const containers = run.resources.filter((r) => r.type === CONTAINER);
    expect(containers.filter((r) => r.name.includes("pooler")).map((r) => r.name)).toEqual(["lms-pooler-pgbouncer"]);
    expect(run.resources.filter((r) => r.type === "runbook:pooler:ConnectionPooler").map((r) => r.name)).toEqual(["lms-pooler"]);
    const url = (name: string) => {
      const envs = containers.find((r) => r.name === name)!.inputs!["envs"] as unknown[];
      const entry = envs.find((e) => String(unwrap(e)).startsWith("DATABASE_URL="));
      expect(isSecretWire(entry), name).toBe(true);
      return new URL(String(unwrap(entry)).slice("DATABASE_URL=".length));
    };
    expect(url("lms-backend-0").hostname).toMatch(/^lms-pooler-pgbouncer-/);
    expect(url("lms-backend-0").port).toBe("6432");
    expect(url("lms-worker-rq-0").hostname).toBe(url("lms-backend-0").hostname);
    expect(`${url("fairlens-backend-0").hostname}:${url("fairlens-backend-0").port}`).toBe("db:5432");
    // The host's own mocks give passwords as `x` repeated: never in its output.
    expect(`${run.stdout}${run.stderr}`).not.toContain("x".repeat(44));
  });
});
