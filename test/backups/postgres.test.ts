/**
 * The backup, verify and restore scripts, run for real: PostgreSQL 15 on 127.0.0.1 with a schema of
 * several tables and more than 10,000 rows, and a local S3 API (s3rver). A backup is uploaded, the
 * database dropped, the backup restored from the bucket: identical row counts and per-table
 * checksums. Verification passes a good backup and fails, non-zero and with a failure metric, on a
 * truncated archive, a wrong checksum and a missing table. A backup never overwrites another.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKUP_METRICS } from "../../components/backups/metrics";
import { tempDir } from "../tools/realTools";
import { installJobs, metricValue, startPostgres, startS3, type Jobs, type Postgres, type S3Server } from "./servers";

const APP = "lms";
let pg: Postgres;
let s3: S3Server;
let jobs: Jobs;

const SCHEMA = `
CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL UNIQUE, created timestamptz NOT NULL DEFAULT now());
CREATE TABLE lessons (id serial PRIMARY KEY, title text NOT NULL, body text NOT NULL);
CREATE TABLE progress (user_id int REFERENCES users(id), lesson_id int REFERENCES lessons(id), score numeric(5,2), PRIMARY KEY (user_id, lesson_id));
CREATE SCHEMA audit;
CREATE TABLE audit."Events" (id bigserial PRIMARY KEY, payload jsonb NOT NULL);
INSERT INTO users (email) SELECT 'user' || g || '@example.com' FROM generate_series(1, 6000) g;
INSERT INTO lessons (title, body) SELECT 'Lesson ' || g, repeat(md5(g::text), 20) FROM generate_series(1, 2000) g;
INSERT INTO progress SELECT u, l, (u * l) % 100 FROM generate_series(1, 600) u, generate_series(1, 10) l;
INSERT INTO audit."Events" (payload) SELECT jsonb_build_object('n', g, 'text', E'line one\\nline two\\t' || g) FROM generate_series(1, 3000) g;
`;
const TABLES = ["users", "lessons", "progress", 'audit."Events"'];

/** Row count and an order-independent checksum of every table. */
function fingerprint(database: string): Record<string, string> {
  return Object.fromEntries(
    TABLES.map((t) => [t, pg.psql(database, `SELECT count(*) || ' ' || coalesce(md5(string_agg(md5(x::text), '' ORDER BY md5(x::text))), '-') FROM ${t} x`).trim()]),
  );
}

beforeAll(async () => {
  [pg, s3] = await Promise.all([startPostgres(), startS3()]);
  pg.psql("postgres", "CREATE DATABASE app");
  pg.psql("app", SCHEMA);
  jobs = installJobs({ appId: APP, engine: "postgres", uploads: false, configDir: `/etc/runbook-backup/${APP}` }, s3, { PG_DATABASE: "app", PG_USER: "postgres" }, pg.env);
}, 120_000);

afterAll(async () => {
  pg?.stop();
  await s3?.stop();
});

const objects = () => s3.aws(["s3", "ls", "--recursive", `s3://${s3.bucket}/${APP}/`]).stdout;

describe("PostgreSQL backups against a real server and a local S3 API", () => {
  let id = "";
  let before: Record<string, string> = {};

  it("backs up 13,000 rows in four tables, uploads them, and restores them into a dropped database identically", () => {
    before = fingerprint("app");
    expect(Object.values(before).reduce((n, v) => n + Number(v.split(" ")[0]), 0)).toBeGreaterThanOrEqual(10_000);
    const size = Number(pg.psql("app", "SELECT pg_database_size('app')"));

    const backup = jobs.run("backup", ["--reason", "scheduled"]);
    expect(backup.status, backup.stderr).toBe(0);
    const key = /backup-key: (\S+)/.exec(backup.stdout)![1]!;
    id = key.split("/")[1]!;
    expect(key).toMatch(new RegExp(`^${APP}/\\d{8}T\\d{6}Z-scheduled/$`));
    expect(objects()).toContain(`${key}manifest.txt`);
    expect(objects()).toContain(`${key}database.dump`);
    const manifest = fs.readFileSync(path.join(jobs.localDir, id, "manifest.txt"), "utf8");
    expect(manifest).toContain("table\tpublic.users\t6000\n");
    expect(manifest).toContain("table\taudit.Events\t3000\n");
    const metrics = jobs.metrics();
    expect(metricValue(metrics, BACKUP_METRICS.lastStatus, APP, "database")).toBe(1);
    expect(metricValue(metrics, BACKUP_METRICS.lastSize, APP, "database")).toBe(fs.statSync(path.join(jobs.localDir, id, "database.dump")).size);

    pg.psql("postgres", "DROP DATABASE app");
    pg.psql("postgres", "CREATE DATABASE app");
    const restore = jobs.run("restore", ["--latest"]);
    expect(restore.status, restore.stderr).toBe(0);
    expect(fingerprint("app")).toEqual(before);
    const restoreSeconds = Number(/restored backup \S+ in ([\d.]+) s/.exec(restore.stderr)![1]);
    console.log(
      `PostgreSQL: database ${(size / 1e6).toFixed(1)} MB; backup job ${backup.seconds.toFixed(1)} s (${(size / 1e6 / backup.seconds).toFixed(2)} MB/s with the upload); ` +
        `restore ${restoreSeconds.toFixed(2)} s of pg_restore (${(size / 1e6 / Math.max(restoreSeconds, 0.001)).toFixed(1)} MB/s), ${restore.seconds.toFixed(1)} s with the download`,
    );
  });

  it("refuses to restore over a database that holds tables unless forced, and skips it with --if-empty", () => {
    const refused = jobs.run("restore", ["--latest"]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("the database already holds 4 tables; pass --force to replace them");
    const skipped = jobs.run("restore", ["--latest", "--if-empty"]);
    expect(skipped.status, skipped.stderr).toBe(0);
    expect(skipped.stderr).toContain("nothing restored (--if-empty)");
    pg.psql("app", "DELETE FROM progress; INSERT INTO users (email) VALUES ('late@example.com')");
    const forced = jobs.run("restore", ["--id", id, "--force"]);
    expect(forced.status, forced.stderr).toBe(0);
    expect(fingerprint("app")).toEqual(before);
  });

  it("verifies a good backup by restoring it into a scratch database, and records the restore time", () => {
    const verify = jobs.run("verify");
    expect(verify.status, verify.stderr).toBe(0);
    expect(verify.stderr).toContain(`backup ${id} verified`);
    const metrics = jobs.metrics();
    expect(metricValue(metrics, BACKUP_METRICS.verifyLastStatus, APP, "database")).toBe(1);
    expect(metricValue(metrics, BACKUP_METRICS.restoreDuration, APP, "database")).toBeGreaterThan(0);
    // The scratch database is gone again.
    expect(pg.psql("postgres", "SELECT count(*) FROM pg_database WHERE datname LIKE 'app_verify_%'").trim()).toBe("0");
  });

  /** A copy of the good backup under a new id, with `tamper` applied to its files first. */
  function tampered(name: string, tamper: (dir: string) => void): string {
    const dir = tempDir(`tampered-${name}`);
    for (const f of ["manifest.txt", "database.dump"]) fs.copyFileSync(path.join(jobs.localDir, id, f), path.join(dir, f));
    tamper(dir);
    const newId = `${id}-${name}`;
    for (const f of ["database.dump", "manifest.txt"]) expect(s3.aws(["s3", "cp", "--only-show-errors", path.join(dir, f), `s3://${s3.bucket}/${APP}/${newId}/${f}`]).status).toBe(0);
    return newId;
  }
  const rewriteSum = (dir: string) => {
    const sha = createHash("sha256").update(fs.readFileSync(path.join(dir, "database.dump"))).digest("hex");
    const size = fs.statSync(path.join(dir, "database.dump")).size;
    const m = fs.readFileSync(path.join(dir, "manifest.txt"), "utf8").replace(/^file\tdatabase\.dump\t\S+\t\d+$/m, `file\tdatabase.dump\t${sha}\t${size}`);
    fs.writeFileSync(path.join(dir, "manifest.txt"), m);
  };

  it.each([
    ["a truncated archive (its checksum taken after the truncation)", "truncated", (dir: string) => {
      const f = path.join(dir, "database.dump");
      fs.truncateSync(f, Math.floor(fs.statSync(f).size / 2));
      rewriteSum(dir);
    }, /database\.dump (is not a readable pg_dump archive|does not restore)/],
    ["a wrong checksum", "checksum", (dir: string) => {
      const m = fs.readFileSync(path.join(dir, "manifest.txt"), "utf8").replace(/^(file\tdatabase\.dump\t)[0-9a-f]{4}/m, "$1ffff");
      fs.writeFileSync(path.join(dir, "manifest.txt"), m);
    }, /checksum of database\.dump does not match the manifest/],
    ["a table missing from the archive", "missing-table", (dir: string) => {
      fs.appendFileSync(path.join(dir, "manifest.txt"), "table\tpublic.certificates\t120\n");
    }, /table public\.certificates of the manifest is missing/],
  ])("fails verification, non-zero and with a failure metric, on %s", (_what, name, tamper, message) => {
    const bad = tampered(name, tamper);
    const verify = jobs.run("verify", ["--id", bad]);
    expect(verify.status).toBe(1);
    expect(verify.stderr).toMatch(message);
    expect(metricValue(jobs.metrics(), BACKUP_METRICS.verifyLastStatus, APP, "database")).toBe(0);
  });

  it("fails the scheduled verification once the newest backup is a bad one", () => {
    expect(jobs.run("verify").status).toBe(1);
  });

  it("never overwrites a backup: the same id is refused locally and in the bucket, and the first stays as it was", () => {
    const manifest = fs.readFileSync(path.join(jobs.localDir, id, "manifest.txt"), "utf8");
    const again = jobs.run("backup", ["--id", id]);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain(`${path.join(jobs.localDir, id)} already exists: a backup never overwrites another`);
    expect(fs.readFileSync(path.join(jobs.localDir, id, "manifest.txt"), "utf8")).toBe(manifest);
    // Gone from the host but still in the bucket: still refused.
    fs.rmSync(path.join(jobs.localDir, id), { recursive: true });
    const remote = jobs.run("backup", ["--id", id]);
    expect(remote.status).toBe(1);
    expect(remote.stderr).toContain(`s3://${s3.bucket}/${APP}/${id}/ already exists: a backup never overwrites another`);
    expect(metricValue(jobs.metrics(), BACKUP_METRICS.lastStatus, APP, "database")).toBe(0);
    expect(fs.existsSync(path.join(jobs.localDir, id))).toBe(false);
  });
});
