/**
 * The maintenance jobs as rendered for every app of the committed stacks, run for real: shellcheck on
 * each; every schedule through `systemd-analyze calendar`; the PostgreSQL jobs against a real
 * PostgreSQL on 127.0.0.1 and the SQLite job against a real database file, both through the recording
 * `docker` stand-in (its `exec` runs psql and sqlite3 here). The data must come out intact: row counts
 * and checksums equal before and after.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { maintenanceJobs, SCHEDULES } from "../../components/maintenance";
import { renderInstallScript } from "../../components/maintenance/units";
import { renderWindowBackupScript } from "../../components/maintenance/windowBackup";
import type { AppSpec } from "../../config/spec";
import { stackSpec } from "../helpers";
import { dockerStandIn } from "./dockerStandIn";
import { freePort, requireTool, runScript, tempDir } from "./realTools";

const apps = ["prod", "staging"].flatMap((s) => stackSpec(s).apps.map((a) => [`${s}/${a.id}`, a] as const));
const prodApps = stackSpec("prod").apps;
const job = (app: AppSpec, name: string) => maintenanceJobs(app).find((j) => j.name === name)!.script;
const shellcheck = (script: string) => spawnSync(requireTool("shellcheck"), ["--shell=sh", "--severity=style", "-"], { input: script, encoding: "utf8" });

const scheduleCases = Object.entries(SCHEDULES);

describe("rendered maintenance scripts", () => {
  it.each(apps)("%s: every job, the install script and the window backup pass shellcheck", (_, app) => {
    const db = app.database;
    const scripts = {
      ...Object.fromEntries(maintenanceJobs(app).map((j) => [j.name, j.script])),
      install: renderInstallScript(app.id, maintenanceJobs(app)),
      window: renderWindowBackupScript(db.engine === "postgres" ? { appId: app.id, engine: "postgres", database: db.database, user: db.user } : { appId: app.id, engine: "sqlite", path: db.path, runtime: app.backend.runtime }),
    };
    for (const [name, script] of Object.entries(scripts)) {
      const res = shellcheck(script);
      expect(res.stdout, `${app.id} ${name}`).toBe("");
      expect(res.status).toBe(0);
    }
  });

  it.each(scheduleCases)("the %s schedule is a valid systemd calendar in UTC", (_, onCalendar) => {
    const res = spawnSync(requireTool("systemd-analyze"), ["calendar", onCalendar], { encoding: "utf8" });
    expect(res.stderr).toBe("");
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(/Next elapse: .* UTC/);
  });
});

function postgresBin(): string {
  const root = "/usr/lib/postgresql";
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, "bin", "initdb"))).sort((a, b) => Number(b) - Number(a)) : [];
  if (versions.length === 0) throw new Error("PostgreSQL is not installed: run `bash .ci/run` or `apt-get install postgresql`");
  return path.join(root, versions[0]!, "bin");
}

describe("PostgreSQL upkeep on a real server", () => {
  const pgApps = prodApps.filter((a) => a.database.engine === "postgres");
  const pgCases = pgApps.map((a) => [a.id, a] as const);
  let dir = "";
  let bin = "";
  let port = 0;
  const asPostgres = (cmd: string, args: string[]) => spawnSync("runuser", ["-u", "postgres", "--", path.join(bin, cmd), ...args], { encoding: "utf8", timeout: 60_000 });
  const psql = (db: string, sql: string) => {
    const res = spawnSync(requireTool("psql"), ["-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", dir, "-p", String(port), "-U", "postgres", "-d", db, "-c", sql], { encoding: "utf8" });
    if (res.status !== 0) throw new Error(res.stderr);
    return res.stdout.trim();
  };
  beforeAll(() => {
    bin = postgresBin();
    dir = tempDir("pg-maintenance");
    fs.chmodSync(dir, 0o755);
    spawnSync("chown", ["postgres:postgres", dir]);
    port = 0;
  });
  beforeAll(async () => {
    port = await freePort();
    const init = asPostgres("initdb", ["-D", path.join(dir, "data"), "-U", "postgres", "--auth-local=trust", "--auth-host=trust"]);
    if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
    const start = asPostgres("pg_ctl", ["-D", path.join(dir, "data"), "-l", path.join(dir, "server.log"), "-o", `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir}`, "-w", "-t", "30", "start"]);
    if (start.status !== 0) throw new Error(`PostgreSQL did not start: ${start.stderr}`);
    for (const app of pgApps) {
      if (app.database.engine !== "postgres") continue;
      psql("postgres", `CREATE ROLE "${app.database.user}" SUPERUSER LOGIN`);
      psql("postgres", `CREATE DATABASE "${app.database.database}" OWNER "${app.database.user}"`);
      psql(app.database.database, "CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL, n int); CREATE INDEX items_name ON items (name); INSERT INTO items (name, n) SELECT md5(i::text), i FROM generate_series(1, 20000) i; DELETE FROM items WHERE n % 3 = 0;");
    }
  }, 120_000);
  afterAll(() => {
    if (bin && dir) asPostgres("pg_ctl", ["-D", path.join(dir, "data"), "-m", "immediate", "-w", "-t", "30", "stop"]);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each(pgCases)("%s: VACUUM (ANALYZE) and REINDEX CONCURRENTLY run and leave every row as it was", async (_, app) => {
    if (app.database.engine !== "postgres") throw new Error("not PostgreSQL");
    const db = app.database.database;
    const work = tempDir(`pg-${app.id}`);
    const docker = dockerStandIn(work, {
      containers: [{ id: "c0ffee", name: `${app.id}-db-1a2b`, labels: { "runbook.app": app.id, "runbook.service": "database" }, image: app.database.image, imageId: "sha256:db" }],
      execEnv: { PGHOST: dir, PGPORT: String(port) },
    });
    const snapshot = () => psql(db, "SELECT count(*) || ' ' || md5(string_agg(id || ':' || name || ':' || n, ',' ORDER BY id)) FROM items");
    const before = snapshot();
    const filenode = psql(db, "SELECT pg_relation_filenode('items_name')");
    const vacuum = await runScript(job(app, "db-vacuum-analyze"), "", docker.env);
    expect(vacuum.stderr).toBe("");
    expect(vacuum.status).toBe(0);
    expect(psql(db, "SELECT last_vacuum IS NOT NULL AND last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'items'")).toBe("t");
    const reindex = await runScript(job(app, "db-reindex"), "", docker.env);
    expect(reindex.status, reindex.stderr).toBe(0);
    expect(reindex.stdout).toContain(`REINDEX DATABASE CONCURRENTLY done on ${db}`);
    expect(psql(db, "SELECT pg_relation_filenode('items_name')"), "the index was rebuilt").not.toBe(filenode);
    expect(snapshot()).toBe(before);
    expect(before).toMatch(/^13334 [0-9a-f]{32}$/);
    expect(docker.calls().map((c) => c.slice(0, 3))).toContainEqual(["exec", "-i", "c0ffee"]);

    const backup = await runScript(renderWindowBackupScript({ appId: app.id, engine: "postgres", database: db, user: app.database.user }), "", { ...docker.env, RUNBOOK_BACKUP_DIR: work, RUNBOOK_LOCK_DIR: path.join(work, "lock") });
    expect(backup.status, backup.stderr).toBe(0);
    const file = /pre-maintenance backup (\S+)/.exec(backup.stdout)![1]!;
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(spawnSync(requireTool("pg_restore"), ["-l", file], { encoding: "utf8" }).stdout).toContain("TABLE public items");
    fs.rmSync(work, { recursive: true, force: true });
  }, 120_000);

  it("fails, naming the app, when no database container runs", async () => {
    const app = pgApps[0]!;
    const work = tempDir("pg-none");
    const res = await runScript(job(app, "db-vacuum-analyze"), "", dockerStandIn(work, { containers: [] }).env);
    expect(res.status).not.toBe(0);
    expect(res.stderr).toBe(`${app.id}: no running database container (label runbook.service=database)\n`);
    fs.rmSync(work, { recursive: true, force: true });
  });
});

describe("SQLite upkeep on a real database file", () => {
  const sqliteApps = prodApps.filter((a) => a.database.engine === "sqlite");
  const sqliteCases = sqliteApps.map((a) => [a.id, a] as const);
  const sqlite = (file: string, sql: string) => spawnSync(requireTool("sqlite3"), ["-batch", file, sql], { encoding: "utf8" }).stdout;

  it.each(sqliteCases)("%s: VACUUM, ANALYZE, integrity_check (and WAL where the runbook says), then the monthly REINDEX, leave every row as it was", async (_, app) => {
    if (app.database.engine !== "sqlite") throw new Error("not SQLite");
    const work = tempDir(`sqlite-${app.id}`);
    const mount = app.backend.volumes.find((v) => v.name === (app.database as { volume: string }).volume)!.mountPath;
    const file = path.join(work, app.database.path.slice(mount.length + 1));
    sqlite(file, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL); CREATE INDEX items_name ON items (name); WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 20000) INSERT INTO items SELECT i, hex(randomblob(16)) FROM s; DELETE FROM items WHERE id % 3 = 0;");
    const snapshot = () => createHash("sha256").update(sqlite(file, "SELECT id, name FROM items ORDER BY id")).digest("hex");
    const [count, sum] = [sqlite(file, "SELECT count(*) FROM items"), snapshot()];
    const sizeBefore = fs.statSync(file).size;
    const docker = dockerStandIn(work, { containers: [{ id: "b0b", name: `${app.id}-backend-0-1a`, labels: { "runbook.app": app.id, "runbook.service": "backend" }, image: app.backend.image, imageId: "sha256:be", mounts: { [mount]: work } }] });
    const res = await runScript(job(app, "db-sqlite"), "", { ...docker.env, RUNBOOK_LOCK_DIR: path.join(work, "lock") });
    expect(res.stderr).toBe("");
    expect(res.status).toBe(0);
    expect(res.stdout).toContain("integrity_check ok");
    expect([sqlite(file, "SELECT count(*) FROM items"), snapshot()]).toEqual([count, sum]);
    expect(count.trim()).toBe("13334");
    expect(fs.statSync(file).size, "VACUUM gave the deleted rows' pages back").toBeLessThan(sizeBefore);
    expect(sqlite(file, "PRAGMA journal_mode").trim()).toBe(app.database.walMode ? "wal" : "delete");
    expect(sqlite(file, "SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'items'").trim(), "ANALYZE wrote statistics").not.toBe("0");
    const reindex = await runScript(job(app, "db-sqlite-reindex"), "", { ...docker.env, RUNBOOK_LOCK_DIR: path.join(work, "lock") });
    expect(reindex.status, reindex.stderr).toBe(0);
    expect(reindex.stdout).toContain("REINDEX done; integrity_check ok");
    expect([sqlite(file, "SELECT count(*) FROM items"), snapshot()]).toEqual([count, sum]);

    const backup = await runScript(renderWindowBackupScript({ appId: app.id, engine: "sqlite", path: file, runtime: app.backend.runtime }), "", { ...docker.env, RUNBOOK_BACKUP_DIR: work, RUNBOOK_LOCK_DIR: path.join(work, "lock") });
    expect(backup.status, backup.stderr).toBe(0);
    const copy = /pre-maintenance backup (\S+)/.exec(backup.stdout)![1]!;
    expect(sqlite(copy, "SELECT count(*) FROM items")).toBe(count);
    fs.rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it("fails when integrity_check finds the file damaged", async () => {
    const app = sqliteApps[0]!;
    if (app.database.engine !== "sqlite") throw new Error("not SQLite");
    const work = tempDir("sqlite-damaged");
    const mount = app.backend.volumes.find((v) => v.name === (app.database as { volume: string }).volume)!.mountPath;
    const file = path.join(work, app.database.path.slice(mount.length + 1));
    sqlite(file, "PRAGMA page_size=1024; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); CREATE INDEX t_v ON t (v); WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 3000) INSERT INTO t SELECT i, hex(randomblob(20)) FROM s;");
    // Damage the index: rows the table has, the index no longer finds.
    const root = Number(sqlite(file, "SELECT rootpage FROM sqlite_master WHERE name = 't_v'").trim());
    const fd = fs.openSync(file, "r+");
    fs.writeSync(fd, Buffer.alloc(600, 0x41), 0, 600, (root - 1) * 1024 + 100);
    fs.closeSync(fd);
    const damaged = createHash("sha256").update(fs.readFileSync(file)).digest("hex");
    const docker = dockerStandIn(work, { containers: [{ id: "b0b", name: "b", labels: { "runbook.app": app.id, "runbook.service": "backend" }, image: "x", imageId: "y", mounts: { [mount]: work } }] });
    const res = await runScript(job(app, "db-sqlite"), "", { ...docker.env, RUNBOOK_LOCK_DIR: path.join(work, "lock") });
    expect(res.status).not.toBe(0);
    expect(res.stderr).toMatch(new RegExp(`^${app.id}: PRAGMA integrity_check failed before:\n`));
    expect(createHash("sha256").update(fs.readFileSync(file)).digest("hex"), "VACUUM never touched the damaged file").toBe(damaged);
    fs.rmSync(work, { recursive: true, force: true });
  });
});
