/**
 * The scripts on a SQLite app with uploads (FDTS, Handwork), run for real: a database in WAL mode
 * that another process keeps writing to during the backup, an uploads folder, a local S3 API. The
 * backup is a consistent snapshot that passes `PRAGMA integrity_check`; the database and the uploads
 * are deleted and restored from the bucket; verification fails on a corrupted page; local pruning
 * removes only what is older than the retention (file times set here) and keeps the newest.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKUP_METRICS } from "../../components/backups/metrics";
import { requireTool, tempDir } from "../tools/realTools";
import { installJobs, metricValue, startS3, type Jobs, type S3Server } from "./servers";

const APP = "handwork";
let s3: S3Server;
let jobs: Jobs;
let dir: string;
let db: string;
let uploads: string;

const sqlite = (file: string, sql: string) => {
  // A busy timeout: under load a read can meet the writer's or the backup's brief lock ("database is locked").
  const res = spawnSync(requireTool("sqlite3"), [file], { input: `.timeout 10000\n${sql}`, encoding: "utf8" });
  if (res.status !== 0) throw new Error(`sqlite3 failed: ${res.stderr}`);
  return res.stdout.trim();
};
const counts = (file: string) => sqlite(file, "SELECT count(*) FROM users; SELECT count(*) FROM orders; SELECT count(*) FROM events;").split("\n").map(Number);

beforeAll(async () => {
  s3 = await startS3();
  dir = tempDir("sqlite-app");
  db = path.join(dir, "data", "handwork_marketplace.db");
  uploads = path.join(dir, "uploads");
  fs.mkdirSync(path.dirname(db));
  for (let i = 0; i < 120; i++) {
    const sub = path.join(uploads, `listing-${i % 12}`);
    fs.mkdirSync(sub, { recursive: true });
    fs.writeFileSync(path.join(sub, `photo-${i}.jpg`), Buffer.alloc(8_000 + i, i));
  }
  sqlite(
    db,
    `PRAGMA journal_mode=WAL;
     CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);
     CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), total REAL);
     CREATE TABLE events (id INTEGER PRIMARY KEY, payload TEXT);
     WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < 8000) INSERT INTO users (email) SELECT 'user' || x || '@example.com' FROM g;
     WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < 12000) INSERT INTO orders (user_id, total) SELECT 1 + x % 8000, x * 1.5 FROM g;
     WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < 5000) INSERT INTO events (payload) SELECT hex(randomblob(120)) FROM g;`,
  );
  jobs = installJobs({ appId: APP, engine: "sqlite", uploads: true, configDir: `/etc/runbook-backup/${APP}` }, s3, { SQLITE_PATH: db, UPLOADS_DIR: uploads });
}, 120_000);

afterAll(async () => {
  await s3?.stop();
});

/** A writer beside the app: small transactions into `events`, until stopped (bounded: 20,000 at most). */
function writer(): { stop: () => Promise<number> } {
  const proc: ChildProcess = spawn("sh", ["-c", `i=0; while [ $i -lt 20000 ]; do sqlite3 "$1" ".timeout 10000" "INSERT INTO events (payload) VALUES (hex(randomblob(200)));" || exit 1; i=$((i + 1)); done`, "sh", db], { stdio: "ignore" });
  return {
    stop: () =>
      new Promise((resolve) => {
        if (proc.exitCode !== null) return resolve(proc.exitCode);
        proc.once("exit", (code, signal) => resolve(code ?? (signal ? 0 : 1)));
        proc.kill("SIGTERM");
      }),
  };
}

describe("SQLite (WAL) and uploads backups against a local S3 API", () => {
  let id = "";

  it("takes a consistent snapshot while another process writes, uploads it with the uploads, and restores both after they are deleted", async () => {
    expect(sqlite(db, "PRAGMA journal_mode;")).toBe("wal");
    const w = writer();
    await new Promise((r) => setTimeout(r, 300));
    const backup = jobs.run("backup", ["--reason", "scheduled"]);
    const writes = sqlite(db, "SELECT count(*) FROM events;");
    await w.stop();
    expect(backup.status, backup.stderr).toBe(0);
    id = /backup-key: \S+\/(\S+)\/$/m.exec(backup.stdout)![1]!;
    const manifest = fs.readFileSync(path.join(jobs.localDir, id, "manifest.txt"), "utf8");
    const events = Number(/^table\tevents\t(\d+)$/m.exec(manifest)![1]);
    // A snapshot: more than what was there before the writer started, and a count it had at one moment.
    expect(events).toBeGreaterThan(5000);
    expect(events).toBeLessThanOrEqual(Number(writes));
    expect(manifest).toContain("uploads_files\t120\n");
    expect(manifest).toMatch(/^file\tdatabase\.sqlite\.gz\t[0-9a-f]{64}\t\d+$/m);
    const metrics = jobs.metrics();
    for (const kind of ["database", "uploads"]) expect(metricValue(metrics, BACKUP_METRICS.lastStatus, APP, kind), kind).toBe(1);
    const promtool = spawnSync(requireTool("promtool"), ["check", "metrics"], { input: metrics, encoding: "utf8" });
    expect(promtool.status, `${promtool.stdout}${promtool.stderr}`).toBe(0);

    const before = counts(db);
    fs.rmSync(path.dirname(db), { recursive: true });
    fs.mkdirSync(path.dirname(db));
    fs.rmSync(uploads, { recursive: true });
    const restore = jobs.run("restore", ["--id", id]);
    expect(restore.status, restore.stderr).toBe(0);
    const after = counts(db);
    expect(after.slice(0, 2)).toEqual(before.slice(0, 2));
    expect(after[2]).toBe(events);
    expect(sqlite(db, "PRAGMA integrity_check;")).toBe("ok");
    expect(fs.readdirSync(uploads, { recursive: true }).filter((f) => String(f).endsWith(".jpg"))).toHaveLength(120);
    expect(fs.readFileSync(path.join(uploads, "listing-3", "photo-15.jpg"))).toEqual(Buffer.alloc(8_015, 15));
    const restoreSeconds = Number(/restored backup \S+ in ([\d.]+) s/.exec(restore.stderr)![1]);
    console.log(`SQLite (WAL, ${(fs.statSync(db).size / 1e6).toFixed(1)} MB) and 120 uploads: backup job ${backup.seconds.toFixed(1)} s under concurrent writes; restore ${restoreSeconds.toFixed(2)} s (${restore.seconds.toFixed(1)} s with the download)`);
  });

  it("verifies the good backup, and fails, non-zero and with a failure metric, on a corrupted database page", () => {
    const good = jobs.run("verify", ["--id", id]);
    expect(good.status, good.stderr).toBe(0);
    for (const kind of ["database", "uploads"]) expect(metricValue(jobs.metrics(), BACKUP_METRICS.verifyLastStatus, APP, kind), kind).toBe(1);

    // Corrupt one page in the middle of the copy, then make its checksum match, as a disk that
    // corrupted the file before it was checksummed would.
    const bad = tempDir("corrupt");
    const raw = zlib.gunzipSync(fs.readFileSync(path.join(jobs.localDir, id, "database.sqlite.gz")));
    const page = 4096 * Math.floor(raw.length / 4096 / 2);
    raw.fill(0x5a, page + 8, page + 4000);
    const gz = zlib.gzipSync(raw);
    fs.writeFileSync(path.join(bad, "database.sqlite.gz"), gz);
    const sha = createHash("sha256").update(gz).digest("hex");
    fs.writeFileSync(
      path.join(bad, "manifest.txt"),
      fs.readFileSync(path.join(jobs.localDir, id, "manifest.txt"), "utf8").replace(/^file\tdatabase\.sqlite\.gz\t\S+\t\d+$/m, `file\tdatabase.sqlite.gz\t${sha}\t${gz.length}`),
    );
    fs.copyFileSync(path.join(jobs.localDir, id, "uploads.tar.gz"), path.join(bad, "uploads.tar.gz"));
    for (const f of ["database.sqlite.gz", "uploads.tar.gz", "manifest.txt"]) {
      expect(s3.aws(["s3", "cp", "--only-show-errors", path.join(bad, f), `s3://${s3.bucket}/${APP}/${id}-corrupt/${f}`]).status).toBe(0);
    }
    const verify = jobs.run("verify");
    expect(verify.status).toBe(1);
    expect(verify.stderr).toMatch(/integrity_check of the restored copy answered: (?!ok)/);
    for (const kind of ["database", "uploads"]) expect(metricValue(jobs.metrics(), BACKUP_METRICS.verifyLastStatus, APP, kind), kind).toBe(0);
  });

  it("prunes local backups older than the retention by their file times, and always keeps the newest", () => {
    const local = tempDir("prune");
    const day = 86_400_000;
    const make = (name: string, ageDays: number) => {
      fs.mkdirSync(path.join(local, name));
      fs.writeFileSync(path.join(local, name, "manifest.txt"), name);
      const t = new Date(Date.now() - ageDays * day);
      fs.utimesSync(path.join(local, name), t, t);
    };
    const ages: Record<string, number> = { a: 1, b: 12, c: 29.9, d: 30.2, e: 45, f: 400 };
    for (const [name, age] of Object.entries(ages)) make(`2026-${name}`, age);
    const run = jobs.run("prune", [], jobs.withSettings({ LOCAL_DIR: local, LOCAL_RETENTION_DAYS: "30", KEEP_MIN: "2" }));
    expect(run.status, run.stderr).toBe(0);
    expect(fs.readdirSync(local).sort()).toEqual(["2026-a", "2026-b", "2026-c"]);

    // Backups stopped long ago: the newest ones stay, however old.
    const stale = tempDir("prune-stale");
    for (const [name, age] of Object.entries({ g: 40, h: 50, i: 60, j: 70 })) {
      fs.mkdirSync(path.join(stale, name));
      const t = new Date(Date.now() - age * day);
      fs.utimesSync(path.join(stale, name), t, t);
    }
    expect(jobs.run("prune", [], jobs.withSettings({ LOCAL_DIR: stale, LOCAL_RETENTION_DAYS: "30", KEEP_MIN: "2" })).status).toBe(0);
    expect(fs.readdirSync(stale).sort()).toEqual(["g", "h"]);
  });

  it("skips a pre-deploy backup of an app whose database does not exist yet (a first deploy), and fails a scheduled one", () => {
    const missing = jobs.withSettings({ SQLITE_PATH: path.join(dir, "nothing-here.db") });
    const skipped = jobs.run("backup", ["--reason", "pre-deploy", "--skip-missing"], missing);
    expect(skipped.status, skipped.stderr).toBe(0);
    expect(skipped.stdout.trim()).toBe("backup-key: none");
    const failed = jobs.run("backup", ["--reason", "scheduled"], missing);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain("no SQLite database at");
    expect(metricValue(jobs.metrics(), BACKUP_METRICS.lastStatus, APP, "database")).toBe(0);
  });
});
