/**
 * PgBouncer for real: Debian's pgbouncer (1.18) runs the pgbouncer.ini the program uploads to the LMS's
 * pooler container, in front of a real PostgreSQL 15 that asks for SCRAM over TCP (as the postgres
 * image does), both on 127.0.0.1 on ports the test picks. Only the listen address and port, the
 * server's address and the file paths are changed for the test. The program runs under the plan's
 * mocks with @pulumi/random behaving as the provider does, at three rotation clocks; the database role
 * step and the pooler's auth step it renders (script and stdin) are what runs here.
 *
 * Shown: 40 clients at once through a pool of 5 all succeed while PostgreSQL never holds more than 5
 * connections of the app's roles; rows written through the pooler read back directly; after each
 * rotation the new credential connects through PgBouncer (PgBouncer logging in to PostgreSQL with it,
 * SCRAM pass-through) and the replaced password is refused.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { windowStart } from "../../components/secrets/rotationWindow";
import { POOLER_PATHS } from "../../components/pooler/pgbouncerConfig";
import { PROJECT } from "../../config/defaults";
import { parseStackConfig } from "../../config/resolve";
import { runUnderMocks, type PlannedResource } from "../../plan/mockRuntime";
import { words } from "../../policies/runbook/rules";
import { startPostgres, type Postgres } from "../backups/servers";
import { isSecretWire, rawStackConfig, keptRandomPasswords } from "../helpers";
import { freePort, requireTool, sleep, stopProcess, tempDir } from "../tools/realTools";

const POOL_SIZE = 5;
const CLIENTS = 40;
/** Each client holds its session this long: long enough for all 40 to be connected while 5 are served. */
const SESSION_SECONDS = 1;
const DAY = 86_400_000;
const T0 = windowStart(12, 90) + 45 * DAY;
const CLOCKS = { w0: T0, w1: T0 + 90 * DAY, w2: T0 + 180 * DAY } as const;
type Clock = keyof typeof CLOCKS;

/** @pulumi/random as the provider behaves (test/helpers.ts). */
const { mocks: providerMocks, made } = keptRandomPasswords();
const unwrap = (v: unknown): unknown => (isSecretWire(v) ? (v as { value: unknown }).value : v);

/** Prod with the LMS's pooler on, a pool of 5, at a rotation clock. */
function specAt(now: number) {
  const raw = structuredClone(rawStackConfig("prod")) as { apps: Record<string, Record<string, unknown>> };
  raw.apps["lms"] = { ...raw.apps["lms"]!, database: { pooler: { enabled: true, defaultPoolSize: POOL_SIZE, maxClientConn: 100 } } };
  return parseStackConfig(raw, PROJECT, { now });
}
const runs = {} as Record<Clock, readonly PlannedResource[]>;

let pg: Postgres;
let dir = "";
let poolerPort = 0;
let pgbouncer: ChildProcess | undefined;
let pgbouncerLog = "";

/** Replaces each `[from, to]` in `text`, and fails if `from` is not there: the test changes only what it says it does. */
function adjust(text: string, changes: readonly (readonly [string | RegExp, string])[]): string {
  let out = text;
  for (const [from, to] of changes) {
    const found = typeof from === "string" ? out.includes(from) : from.test(out);
    expect(found, `expected ${String(from)} in the rendered text`).toBe(true);
    out = typeof from === "string" ? out.split(from).join(to) : out.replace(from, to);
  }
  return out;
}

/** One clock's rendered texts, as the program declared them, adjusted to this test's servers. */
function release(clock: Clock) {
  const resources = runs[clock];
  const get = (name: string) => resources.find((r) => r.name === name)!;
  const paths: [string, string][] = [
    [POOLER_PATHS.authFile, path.join(dir, "userlist.txt")],
    [POOLER_PATHS.pidFile, path.join(dir, "pgbouncer.pid")],
  ];
  const [upload] = unwrap(get("lms-pooler-pgbouncer").wireInputs["uploads"]) as { content: string }[];
  const ini = adjust(upload!.content, [
    ["listen_addr = *", "listen_addr = 127.0.0.1"],
    ["listen_port = 6432", `listen_port = ${poolerPort}`],
    ["host=db port=5432", `host=127.0.0.1 port=${pg.port}`],
    ...paths,
  ]);
  const authArgv = words(String(unwrap(get("lms-pooler-auth").wireInputs["create"])));
  expect(authArgv.slice(0, 3)).toEqual(["docker", "exec", "-i"]);
  expect(authArgv.slice(4, 6)).toEqual(["sh", "-c"]);
  const authScript = adjust(authArgv[6]!, [...paths, [" -p 6432 ", ` -p ${poolerPort} `]]);
  const rolesArgv = words(String(unwrap(get("lms-db-roles-rotate").wireInputs["create"])));
  const backend = get("lms-backend-0");
  const url = new URL(String((backend.wireInputs["envs"] as unknown[]).map(unwrap).find((e) => String(e).startsWith("DATABASE_URL="))).slice("DATABASE_URL=".length));
  const health = (unwrap(get("lms-pooler-pgbouncer").wireInputs["healthcheck"]) as { tests: string[] }).tests;
  const exporterEnv = String(unwrap((get("lms-monitoring-pgbouncer-exporter").wireInputs["envs"] as unknown[])[0]));
  const stats = new URL(exporterEnv.slice("PGBOUNCER_EXPORTER_CONNECTION_STRING=".length));
  return {
    ini,
    auth: { script: authScript, stdin: String(unwrap(get("lms-pooler-auth").wireInputs["stdin"])) },
    // Only Docker's DNS resolves the database's alias `db`; here the server is 127.0.0.1.
    roles: { script: adjust(rolesArgv[6]!, [[" -h db ", " -h 127.0.0.1 "]]), stdin: String(unwrap(get("lms-db-roles-rotate").wireInputs["stdin"])) },
    /** What a backend connects with: through the pooler, as the active role. */
    credential: { user: url.username, password: url.password, database: url.pathname.slice(1) },
    /** What the metrics exporter connects with: the stats user, on PgBouncer's admin database. */
    stats: { user: stats.username, password: stats.password, database: stats.pathname.slice(1) },
    health: adjust(health[1]!, [["-p 6432", `-p ${poolerPort}`]]),
    bootstrap: String((get("lms-db").wireInputs["envs"] as unknown[]).map(unwrap).find((e) => String(e).startsWith("POSTGRES_PASSWORD="))).slice("POSTGRES_PASSWORD=".length),
  };
}
type Credential = ReturnType<typeof release>["credential"];

/** A rendered script run as PgBouncer's own user (in the container, the image's user runs both), stdin given. */
function runAs(user: string, script: string, stdin: string, env: Record<string, string> = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile("runuser", ["-u", user, "--", "sh", "-c", script], { timeout: 60_000, env: { ...process.env, ...env } }, (err, stdout, stderr) =>
      resolve({ status: err ? Number((err as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
    child.stdin!.end(stdin);
  });
}

/** One client through PgBouncer: psql over TCP with a credential. */
function throughPooler(c: Credential, sql = "SELECT 1"): Promise<{ ok: boolean; out: string; error: string }> {
  return new Promise((resolve) => {
    execFile(
      requireTool("psql"),
      ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(poolerPort), "-U", c.user, "-d", c.database, "-c", sql],
      { env: { ...process.env, PGPASSWORD: c.password, PGCONNECT_TIMEOUT: "10" }, timeout: 60_000 },
      (err, out, stderr) => resolve({ ok: !err, out: out.trim(), error: stderr.trim() }),
    );
  });
}

/** Server connections of the app's login roles PostgreSQL holds now. */
const serverConnections = (roles: readonly string[]) =>
  Number(pg.psql("postgres", `SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND usename IN (${roles.map((r) => `'${r}'`).join(", ")});`).trim());

beforeAll(async () => {
  requireTool("pgbouncer");
  for (const [clock, now] of Object.entries(CLOCKS)) runs[clock as Clock] = (await runUnderMocks(specAt(now), "prod", undefined, { mocks: providerMocks })).resources;
  pg = await startPostgres({ hostAuth: "scram-sha-256" });
  dir = tempDir("pgbouncer");
  fs.chmodSync(dir, 0o777);
  poolerPort = await freePort();
  // What the postgres image's init does: the owner, a superuser with POSTGRES_PASSWORD, and its database.
  const w0 = release("w0");
  const db = specAt(CLOCKS.w0).apps.find((a) => a.id === "lms")!.database;
  if (db.engine !== "postgres") throw new Error("the LMS runs PostgreSQL");
  pg.psql("postgres", `CREATE ROLE "${db.user}" WITH SUPERUSER LOGIN PASSWORD '${w0.bootstrap}';\nCREATE DATABASE "${db.database}" OWNER "${db.user}";\n`);
}, 180_000);

afterAll(async () => {
  if (pgbouncer) await stopProcess(pgbouncer);
  pg?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function startPgbouncer(ini: string): Promise<void> {
  const file = path.join(dir, "pgbouncer.ini");
  fs.writeFileSync(file, ini, { mode: 0o644 });
  // PgBouncer refuses to run as root; in its container it runs as the image's user.
  pgbouncer = spawn("runuser", ["-u", "postgres", "--", requireTool("pgbouncer"), file], { stdio: ["ignore", "pipe", "pipe"] });
  pgbouncer.stdout!.on("data", (d: Buffer) => (pgbouncerLog += d.toString()));
  pgbouncer.stderr!.on("data", (d: Buffer) => (pgbouncerLog += d.toString()));
  const deadline = Date.now() + 15_000;
  while (!pgbouncerLog.includes("process up") && Date.now() < deadline) await sleep(50);
  expect(pgbouncerLog, pgbouncerLog).toContain("process up");
}

describe("PgBouncer with the rendered pgbouncer.ini and auth step, in front of a real PostgreSQL", () => {
  it("the auth step's script passes shellcheck", () => {
    const res = spawnSync(requireTool("shellcheck"), ["--shell=sh", "--severity=style", "-"], { input: release("w0").auth.script, encoding: "utf8" });
    expect(res.stdout).toBe("");
    expect(res.status).toBe(0);
  });

  it("pools 40 concurrent clients into at most 5 server connections, all succeeding, and rows written through it read back directly", async () => {
    const w0 = release("w0");
    const roles = await runAs("postgres", w0.roles.script, w0.roles.stdin, { PGHOST: pg.env["PGHOST"]!, PGPORT: String(pg.port) });
    expect(roles.stderr, roles.stdout).toBe("");
    expect(roles.status).toBe(0);
    // PgBouncer starts before its auth file exists (a new container), and answers the health check.
    await startPgbouncer(w0.ini);
    expect(spawnSync("sh", ["-c", w0.health]).status, "the container's health check").toBe(0);
    expect((await throughPooler(w0.credential)).ok, "nobody gets in before the auth step").toBe(false);
    const auth = await runAs("postgres", w0.auth.script, w0.auth.stdin);
    expect(auth.stderr, auth.stdout).toBe("");
    expect(auth.status).toBe(0);
    expect(auth.stdout).toContain(`pooler: auth file loaded; ${w0.credential.user} connects through PgBouncer`);
    expect(fs.statSync(path.join(dir, "userlist.txt")).mode & 0o077, "the auth file is readable by its owner only").toBe(0);
    expect(fs.readFileSync(path.join(dir, "userlist.txt"), "utf8")).not.toContain(w0.credential.password);

    const created = await throughPooler(w0.credential, "CREATE TABLE pool_check (client integer PRIMARY KEY, server_pid integer NOT NULL)");
    expect(created.error).toBe("");
    const appRoles = [w0.credential.user.replace(/_[ab]$/, "_a"), w0.credential.user.replace(/_[ab]$/, "_b")];
    let peak = 0;
    let waitingPeak = 0;
    let polling = true;
    const poll = (async () => {
      while (polling) {
        peak = Math.max(peak, serverConnections(appRoles));
        // What the exporter reads: SHOW POOLS as the stats user (cl_waiting is pgbouncer_pools_client_waiting_connections).
        const pools = await throughPooler(w0.stats, "SHOW POOLS");
        const row = pools.out.split("\n").find((l) => l.startsWith(`${w0.credential.database}|${w0.credential.user}|`));
        if (row) waitingPeak = Math.max(waitingPeak, Number(row.split("|")[3]));
        await sleep(25);
      }
    })();
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) => throughPooler(w0.credential, `INSERT INTO pool_check VALUES (${i}, pg_backend_pid()); SELECT pg_sleep(${SESSION_SECONDS})`)),
    );
    const elapsed = Date.now() - started;
    polling = false;
    await poll;
    console.log(`pgbouncer: ${CLIENTS} clients through a pool of ${POOL_SIZE}: ${results.filter((r) => r.ok).length} succeeded, at most ${peak} server connections and ${waitingPeak} clients waiting seen, ${(elapsed / 1000).toFixed(1)} s`);
    expect(results.filter((r) => !r.ok).map((r) => r.error)).toEqual([]);
    expect(peak, "server connections of the app's roles").toBeLessThanOrEqual(POOL_SIZE);
    expect(peak, "the pool was used").toBeGreaterThan(0);
    expect(waitingPeak, "clients waiting, as the exporter sees them").toBeGreaterThan(0);
    // 40 sessions of 1 s over 5 server connections: at least 8 rounds, so clients waited in PgBouncer.
    expect(elapsed).toBeGreaterThanOrEqual((CLIENTS / POOL_SIZE) * SESSION_SECONDS * 1000 - 200);
    // Read back directly on PostgreSQL, as the superuser: every row, written by at most 5 server processes.
    expect(pg.psql(w0.credential.database, "SELECT count(*), count(DISTINCT server_pid) <= 5 FROM pool_check;").trim()).toBe(`${CLIENTS}|t`);
    // Written as the app's roles act: the owner owns the table.
    expect(pg.psql(w0.credential.database, "SELECT tableowner FROM pg_tables WHERE tablename = 'pool_check';").trim()).toBe("fractionball");
  }, 120_000);

  it("gives the metrics exporter's stats user the SHOW views and nothing else", async () => {
    const w0 = release("w0");
    expect(w0.stats.user).toBe("pgbouncer_stats");
    expect((await throughPooler(w0.stats, "SHOW POOLS")).ok).toBe(true);
    const reload = await throughPooler(w0.stats, "RELOAD");
    expect(reload.ok).toBe(false);
    expect(reload.error).toContain("admin access needed");
    // Not a PostgreSQL role: no way into the app's database through the pooler.
    expect((await throughPooler({ ...w0.stats, database: w0.credential.database })).ok).toBe(false);
  });

  it("keeps authenticating across two rotations: the new credential connects through PgBouncer, the replaced password is refused", async () => {
    const w0 = release("w0");
    for (const [from, to] of [["w0", "w1"], ["w1", "w2"]] as const) {
      const next = release(to);
      const previous = release(from);
      expect(next.credential.user, `${to} switches to the other role`).not.toBe(previous.credential.user);
      // What `pulumi up` runs in the new window: the role step, then the pooler's auth step.
      const roles = await runAs("postgres", next.roles.script, next.roles.stdin, { PGHOST: pg.env["PGHOST"]!, PGPORT: String(pg.port) });
      expect(roles.status, roles.stderr).toBe(0);
      // PgBouncer must log in afresh with the rotated role: no server connection of it survives from before.
      pg.psql("postgres", `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${next.credential.user}';`);
      const auth = await runAs("postgres", next.auth.script, next.auth.stdin);
      expect(auth.stderr, auth.stdout).toBe("");
      expect(auth.status).toBe(0);
      const fresh = await throughPooler(next.credential, "SELECT current_user || ' ' || count(*) FROM pool_check");
      expect(fresh.error, `${to}: the new credential through PgBouncer`).toBe("");
      expect(fresh.out).toBe(`fractionball ${CLIENTS}`);
      // The running backends' role keeps its password until the next rotation.
      expect((await throughPooler(previous.credential)).ok, `${to}: the previous window's credential`).toBe(true);
    }
    // The role rotated at w2 had w0's password: refused, by PgBouncer and by PostgreSQL.
    const w2 = release("w2");
    expect(w2.credential.user).toBe(w0.credential.user);
    expect(w2.credential.password).not.toBe(w0.credential.password);
    const refused = await throughPooler(w0.credential);
    expect(refused.ok, "w0's password after w2").toBe(false);
    expect(refused.error).toMatch(/authentication failed/);
    const direct = spawnSync(requireTool("psql"), ["-X", "-h", "127.0.0.1", "-p", String(pg.port), "-U", w0.credential.user, "-d", w0.credential.database, "-c", "SELECT 1"], {
      env: { ...process.env, PGPASSWORD: w0.credential.password },
      encoding: "utf8",
    });
    expect(direct.status, "w0's password directly on PostgreSQL").not.toBe(0);
    // Nothing the pooler logged carries a password.
    for (const p of made.values()) expect(pgbouncerLog.includes(p)).toBe(false);
  }, 120_000);

  it("refuses to start over a pid file naming a live process: why the container keeps its pid file on a tmpfs", async () => {
    // In the container PgBouncer is PID 1, so a pid file left by an unclean stop names a live process (PID 1
    // again) on the next start. Here: a pid file naming this test's own process, and the rendered ini otherwise.
    const stale = path.join(dir, "stale");
    fs.mkdirSync(stale, { mode: 0o777 });
    fs.chmodSync(stale, 0o777);
    fs.writeFileSync(path.join(stale, "pgbouncer.pid"), `${process.pid}\n`, { mode: 0o644 });
    const port = await freePort();
    const ini = release("w0").ini.split(`listen_port = ${poolerPort}`).join(`listen_port = ${port}`).split(path.join(dir, "pgbouncer.pid")).join(path.join(stale, "pgbouncer.pid"));
    fs.writeFileSync(path.join(stale, "pgbouncer.ini"), ini, { mode: 0o644 });
    const res = spawnSync("runuser", ["-u", "postgres", "--", requireTool("pgbouncer"), path.join(stale, "pgbouncer.ini")], { encoding: "utf8", timeout: 15_000 });
    expect(res.status).not.toBe(0);
    expect(`${res.stdout}${res.stderr}`).toContain("pidfile exists, another instance running?");
  }, 30_000);

  it("refuses to switch when PgBouncer cannot log the active role in: the auth step fails, naming the role, and shows no password", async () => {
    const w2 = release("w2");
    // PostgreSQL with another verifier for the active role than the auth file: pass-through cannot log in.
    pg.psql("postgres", `ALTER ROLE "${w2.credential.user}" PASSWORD 'not-the-rotated-one';\nSELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${w2.credential.user}';`);
    const auth = await runAs("postgres", w2.auth.script.split("-ge 30 ]").join("-ge 2 ]"), w2.auth.stdin);
    expect(auth.status).not.toBe(0);
    expect(auth.stderr).toContain(`pooler: ${w2.credential.user} cannot connect through PgBouncer`);
    for (const p of made.values()) expect(`${auth.stdout}${auth.stderr}`.includes(p)).toBe(false);
  }, 60_000);
});
