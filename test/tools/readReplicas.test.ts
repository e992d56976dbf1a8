/**
 * Read replicas on real PostgreSQL 15 (Debian's packages), two throwaway clusters on 127.0.0.1 on
 * ports the test picks: the primary gets the rendered replication role SQL and pg_hba step, the
 * replica runs the rendered init script (pg_basebackup -R, then a hot standby), adjusted only for the
 * host, ports and directories. Every server is stopped by the test; every wait is bounded.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CLONE_MARKER,
  EXPORTER_REPLICATION_QUERY,
  renderPrimarySetupScript,
  renderReplicaInitScript,
  renderReplicationRoleSql,
  replicaHealthcheck,
} from "../../components/app/readReplicaScripts";
import { roleVerifier } from "../../components/secrets/scramVerifier";
import { startPostgres, type Postgres } from "../backups/servers";
import { freePort, tempDir } from "./realTools";

const PG_BIN = "/usr/lib/postgresql/15/bin";
const PASSWORD = "Rk7Qy2v9Lm4Xw8Zt3Bn6Hj1Pc5Df0Gs2Ka7Ue9Ri4Wo6";
const APP_NAME = "fairlens-replica-0";

function waitFor(what: string, ms: number, poll: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (poll()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`${what} did not happen within ${ms / 1000} s`));
      setTimeout(tick, 200);
    };
    tick();
  });
}

/** The rendered primary step, run as the deploy step runs it: the script, its stdin the role's SQL. */
function setUpPrimary(pg: Postgres, password = PASSWORD) {
  const script = renderPrimarySetupScript({ owner: "postgres", database: "postgres", waitSeconds: 10 });
  return spawnSync("sh", ["-c", script], { input: renderReplicationRoleSql(roleVerifier(password, "replicator")), encoding: "utf8", env: pg.env });
}

interface Replica {
  readonly dir: string;
  readonly data: string;
  readonly port: number;
  /** The init script's process (postgres, once the script exec's it). */
  readonly proc: ChildProcess;
  stderr(): string;
  psql(sql: string): { status: number | null; stdout: string; stderr: string };
  stop(): Promise<void>;
}

/** Runs the rendered replica entry as the postgres user, the way the container runs it. */
async function startReplica(primaryPort: number, password: string, data?: string): Promise<Replica> {
  const dir = data ? path.dirname(data) : tempDir("replica");
  fs.chmodSync(dir, 0o777);
  const dataDir = data ?? path.join(dir, "data");
  fs.mkdirSync(dataDir, { recursive: true });
  spawnSync("chown", ["postgres:postgres", dataDir]);
  const port = await freePort();
  const script = renderReplicaInitScript({ primaryHost: "127.0.0.1", primaryPort, applicationName: APP_NAME });
  const proc = spawn(
    "runuser",
    ["-u", "postgres", "--", "env", `PATH=${PG_BIN}:${process.env["PATH"]}`, `PGDATA=${dataDir}`, `PGPASSWORD=${password}`, "sh", "-c", script, "replica", "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let err = "";
  proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  proc.stdout!.on("data", (d: Buffer) => (err += d.toString()));
  const env = { ...process.env, PGHOST: "127.0.0.1", PGPORT: String(port), PGUSER: "postgres" };
  return {
    dir,
    data: dataDir,
    port,
    proc,
    stderr: () => err,
    psql: (sql) => {
      const res = spawnSync("psql", ["-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-c", sql], { encoding: "utf8", env });
      return { status: res.status, stdout: res.stdout.trim(), stderr: res.stderr };
    },
    async stop() {
      // A fast shutdown of the postmaster itself (the script exec'd it under runuser), then wait
      // until it has let go of the data directory.
      const pidFile = path.join(dataDir, "postmaster.pid");
      if (fs.existsSync(pidFile)) {
        const pid = Number(fs.readFileSync(pidFile, "utf8").split("\n")[0]);
        try {
          process.kill(pid, "SIGINT");
        } catch {
          // already gone
        }
      }
      await waitFor("the replica's postmaster stopping", 30_000, () => !fs.existsSync(pidFile));
      await exited(proc);
    },
  };
}

const exited = (p: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) return resolve(p.exitCode);
    const timer = setTimeout(() => {
      p.kill("SIGKILL");
      resolve(null);
    }, 30_000);
    p.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });

/** Row count and an order-independent checksum of the table. */
const FINGERPRINT = "SELECT count(*) || ':' || coalesce(md5(string_agg(id || '/' || payload, ',' ORDER BY id)), '-') FROM items";
const fingerprint = (run: (sql: string) => string) => run(FINGERPRINT).trim();

describe("read replicas on real PostgreSQL 15", () => {
  let primary: Postgres;
  let replica: Replica;
  const cleanup: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    primary = await startPostgres();
    cleanup.push(() => primary.stop());
    primary.psql("postgres", "CREATE TABLE items (id int PRIMARY KEY, payload text NOT NULL); INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 500) g;");
    const setup = setUpPrimary(primary);
    expect(setup.status, setup.stderr).toBe(0);
    replica = await startReplica(primary.port, PASSWORD);
    cleanup.push(() => replica.stop(), () => fs.rmSync(replica.dir, { recursive: true, force: true }));
    await waitFor(`the replica answering (${replica.stderr()})`, 60_000, () => replica.psql("SELECT 1").status === 0 || replica.proc.exitCode !== null);
    expect(replica.proc.exitCode, replica.stderr()).toBeNull();
  }, 120_000);

  afterAll(async () => {
    // Every server is stopped even when one stop fails.
    const failures: unknown[] = [];
    for (const c of cleanup.reverse()) await Promise.resolve().then(c).catch((err: unknown) => failures.push(err));
    expect(failures).toEqual([]);
  }, 60_000);

  it("puts the replication rule first in the primary's pg_hba.conf once, however often the step runs", () => {
    const again = setUpPrimary(primary);
    expect(again.status, again.stderr).toBe(0);
    const hba = fs.readFileSync(primary.psql("postgres", "SHOW hba_file").trim(), "utf8").split("\n");
    expect(hba.slice(1, 3)).toEqual(['host replication "replicator" samenet scram-sha-256', "host replication all all reject"]);
    expect(hba.filter((l) => /^host\s+replication\s/.test(l)).slice(0, 2)).toEqual(hba.slice(1, 3));
    expect(hba.filter((l) => /^host\s.*\ssamenet\s/.test(l))).toHaveLength(1);
    expect(primary.psql("postgres", "SELECT rolreplication, rolsuper, rolcanlogin FROM pg_roles WHERE rolname = 'replicator'").trim()).toBe("t|f|t");
    // The password is stored as the verifier the step computed, never given in plain text.
    expect(primary.psql("postgres", "SELECT rolpassword FROM pg_authid WHERE rolname = 'replicator'").trim()).toBe(roleVerifier(PASSWORD, "replicator"));
  });

  it("clones the primary and streams: rows written on the primary appear on the replica within 30 s (count and checksum)", async () => {
    expect(replica.stderr()).toContain("cloning the primary (no data directory yet)");
    primary.psql("postgres", "INSERT INTO items SELECT g, repeat(md5(g::text), 3) FROM generate_series(501, 2500) g; UPDATE items SET payload = 'changed' WHERE id % 7 = 0;");
    const want = fingerprint((sql) => primary.psql("postgres", sql));
    expect(want.startsWith("2500:")).toBe(true);
    await waitFor("the replica catching up", 30_000, () => replica.psql(FINGERPRINT).stdout === want);
    expect(primary.psql("postgres", `SELECT state FROM pg_stat_replication WHERE application_name = '${APP_NAME}'`).trim()).toBe("streaming");
  });

  it("refuses a write on the replica: it is read-only", () => {
    const res = replica.psql("INSERT INTO items VALUES (99999, 'x')");
    expect(res.status).not.toBe(0);
    expect(res.stderr).toContain("cannot execute INSERT in a read-only transaction");
    expect(replica.psql("SELECT pg_is_in_recovery()").stdout).toBe("t");
  });

  it("keeps no password in the replica's files: the WAL receiver takes it from the environment", () => {
    const auto = fs.readFileSync(path.join(replica.data, "postgresql.auto.conf"), "utf8");
    expect(auto).toContain(`primary_conninfo = 'host=127.0.0.1 port=${primary.port} user=replicator application_name=${APP_NAME}'`);
    expect(auto).not.toContain(PASSWORD);
    expect(auto).not.toContain("password");
    expect(fs.existsSync(path.join(replica.data, "standby.signal"))).toBe(true);
    expect(fs.existsSync(path.join(replica.data, CLONE_MARKER))).toBe(true);
  });

  it("answers the lag alert's query (postgres_exporter's pg_stat_replication) with a number of bytes for the replica", () => {
    const out = primary.psql("postgres", `SELECT application_name, state, pg_wal_lsn_diff FROM (${EXPORTER_REPLICATION_QUERY}) q`).trim();
    const [name, state, lag] = out.split("|");
    expect(name).toBe(APP_NAME);
    expect(state).toBe("streaming");
    expect(Number.isFinite(Number(lag)) && lag !== "").toBe(true);
    expect(Number(lag)).toBeGreaterThanOrEqual(0);
  });

  it("reports the replica healthy only while it streams as a standby (its health check), and the primary not", () => {
    const check = replicaHealthcheck("postgres", "postgres").tests[1]!;
    const run = (port: number) => spawnSync("sh", ["-c", check], { env: { ...process.env, PGHOST: "127.0.0.1", PGPORT: String(port) } }).status;
    expect(run(replica.port)).toBe(0);
    expect(run(primary.port)).not.toBe(0);
  });

  it("follows a restore into the primary (pg_restore --clean in one transaction, as restore.sh does): nothing stale is served", async () => {
    const dump = path.join(replica.dir, "items.dump");
    const env = primary.env;
    expect(spawnSync("pg_dump", ["-Fc", "-d", "postgres", "-t", "items", "-f", dump], { env, encoding: "utf8" }).status).toBe(0);
    primary.psql("postgres", "DELETE FROM items WHERE id > 100; INSERT INTO items VALUES (100001, 'written after the backup');");
    const res = spawnSync("pg_restore", ["--clean", "--if-exists", "--no-owner", "--exit-on-error", "--single-transaction", "-d", "postgres", dump], { env, encoding: "utf8" });
    expect(res.status, res.stderr).toBe(0);
    const want = fingerprint((sql) => primary.psql("postgres", sql));
    expect(want.startsWith("2500:")).toBe(true);
    await waitFor("the replica replaying the restore", 30_000, () => replica.psql(FINGERPRINT).stdout === want);
  });

  it("refuses to clone with a wrong password, saying so, and serves nothing", async () => {
    const wrong = await startReplica(primary.port, "WrongPassword0000000000000000000000000000000");
    cleanup.push(() => fs.rmSync(wrong.dir, { recursive: true, force: true }));
    expect(await exited(wrong.proc)).toBe(1);
    expect(wrong.stderr()).toContain(`read replica ${APP_NAME}: cannot reach the primary 127.0.0.1:${primary.port} as replicator`);
    expect(wrong.stderr()).toContain('password authentication failed for user "replicator"');
    expect(fs.readdirSync(wrong.data)).toEqual([]);
  }, 60_000);

  it("clones again, at its next start, when the primary is a different cluster (a recovery onto new data), never serving the old copy", async () => {
    await replica.stop();
    const oldId = spawnSync(`${PG_BIN}/pg_controldata`, [replica.data], { encoding: "utf8" }).stdout.match(/Database system identifier:\s+(\d+)/)![1];
    const fresh = await startPostgres();
    cleanup.push(() => fresh.stop());
    fresh.psql("postgres", "CREATE TABLE items (id int PRIMARY KEY, payload text NOT NULL); INSERT INTO items SELECT g, 'recovered ' || g FROM generate_series(1, 42) g;");
    const setup = setUpPrimary(fresh);
    expect(setup.status, setup.stderr).toBe(0);
    const again = await startReplica(fresh.port, PASSWORD, replica.data);
    cleanup.push(() => again.stop());
    await waitFor(`the re-cloned replica answering (${again.stderr()})`, 60_000, () => again.psql("SELECT 1").status === 0 || again.proc.exitCode !== null);
    expect(again.stderr()).toContain(`cloning the primary (its data is a copy of cluster ${oldId}; the primary is now cluster`);
    const want = fingerprint((sql) => fresh.psql("postgres", sql));
    await waitFor("the re-cloned replica matching the new primary", 30_000, () => again.psql(FINGERPRINT).stdout === want);
    expect(want.startsWith("42:")).toBe(true);
  }, 120_000);
});
