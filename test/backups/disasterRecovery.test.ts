/**
 * Disaster recovery, run for real: the production app's PostgreSQL 15 takes four backups into a
 * local S3 API; verification proves the first two (each gets its `verified.txt`), the third is
 * never verified, the fourth is damaged and fails verification. A fresh PostgreSQL server (the new
 * host's empty database) is restored the way a recovery stack's step does it
 * (`restore.sh --latest-verified --from-bucket --from-prefix --if-empty`): it gets the second
 * backup, row for row, and the recovery point and times the stack reports. A later run never
 * overwrites what the recovered app has written since.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recoveryOf } from "../../components/backups/recoveryReport";
import { tempDir } from "../tools/realTools";
import { installJobs, startPostgres, startS3, type Jobs, type Postgres, type S3Server } from "./servers";

const APP = "lms";
const SPEC = { appId: APP, engine: "postgres" as const, uploads: false, configDir: `/etc/runbook-backup/${APP}` };
const IDS = ["20261124T010000Z-scheduled", "20261124T020000Z-scheduled", "20261124T030000Z-scheduled", "20261124T040000Z-scheduled"] as const;
const TABLES = ["users", "lessons", "progress"];

let prod: Postgres;
let fresh: Postgres;
let s3: S3Server;
let prodJobs: Jobs;
let recoveryJobs: Jobs;
/** The production data as each backup saw it. */
const states: Record<string, Record<string, string>> = {};

/** Row count and an order-independent checksum of every table. */
const fingerprint = (pg: Postgres): Record<string, string> =>
  Object.fromEntries(TABLES.map((t) => [t, pg.psql("app", `SELECT count(*) || ' ' || coalesce(md5(string_agg(md5(x::text), '' ORDER BY md5(x::text))), '-') FROM ${t} x`).trim()]));

const objects = () => s3.aws(["s3", "ls", "--recursive", `s3://${s3.bucket}/${APP}/`]).stdout;

beforeAll(async () => {
  [prod, fresh, s3] = await Promise.all([startPostgres(), startPostgres(), startS3()]);
  for (const pg of [prod, fresh]) pg.psql("postgres", "CREATE DATABASE app");
  prod.psql(
    "app",
    `CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL UNIQUE);
     CREATE TABLE lessons (id serial PRIMARY KEY, title text NOT NULL, body text NOT NULL);
     CREATE TABLE progress (user_id int REFERENCES users(id), lesson_id int REFERENCES lessons(id), score int, PRIMARY KEY (user_id, lesson_id));
     INSERT INTO users (email) SELECT 'user' || g || '@example.com' FROM generate_series(1, 4000) g;
     INSERT INTO lessons (title, body) SELECT 'Lesson ' || g, repeat(md5(g::text), 10) FROM generate_series(1, 1000) g;
     INSERT INTO progress SELECT u, l, (u * l) % 100 FROM generate_series(1, 500) u, generate_series(1, 10) l;`,
  );
  prodJobs = installJobs(SPEC, s3, { PG_DATABASE: "app", PG_USER: "postgres" }, prod.env);
  // The recovery stack's own jobs: its own prefix, its own (fresh) database, prod's bucket as the source.
  recoveryJobs = installJobs(SPEC, s3, { PG_DATABASE: "app", PG_USER: "postgres", PREFIX: "recovery-lms" }, fresh.env);

  // Four backups an hour apart, the data growing in between.
  for (const [i, id] of IDS.entries()) {
    if (i > 0) prod.psql("app", `INSERT INTO users (email) SELECT 'later${i}-' || g || '@example.com' FROM generate_series(1, ${500 * i}) g; UPDATE progress SET score = score + ${i} WHERE user_id <= 100;`);
    states[id] = fingerprint(prod);
    const backup = prodJobs.run("backup", ["--reason", "scheduled", "--id", id]);
    if (backup.status !== 0) throw new Error(`backup ${id} failed: ${backup.stderr}`);
  }
}, 180_000);

afterAll(async () => {
  prod?.stop();
  fresh?.stop();
  await s3?.stop();
});

describe("recovery onto a fresh database from the newest verified backup", () => {
  it("records verified.txt beside each backup verification proves, and none beside one it fails", () => {
    for (const id of IDS.slice(0, 2)) {
      const verify = prodJobs.run("verify", ["--id", id]);
      expect(verify.status, verify.stderr).toBe(0);
    }
    // The newest backup is damaged in the bucket (a truncated dump with its manifest's checksum unchanged).
    const damaged = path.join(tempDir("damaged"), "database.dump");
    expect(s3.aws(["s3", "cp", `s3://${s3.bucket}/${APP}/${IDS[3]}/database.dump`, damaged]).status).toBe(0);
    fs.truncateSync(damaged, Math.floor(fs.statSync(damaged).size / 2));
    expect(s3.aws(["s3", "cp", damaged, `s3://${s3.bucket}/${APP}/${IDS[3]}/database.dump`]).status).toBe(0);
    const failed = prodJobs.run("verify", ["--id", IDS[3]]);
    expect(failed.status).not.toBe(0);

    const listing = objects();
    for (const id of IDS.slice(0, 2)) expect(listing, id).toContain(`${APP}/${id}/verified.txt`);
    for (const id of IDS.slice(2)) expect(listing, id).not.toContain(`${APP}/${id}/verified.txt`);
  }, 240_000);

  it("restores the newest verified backup, skipping a newer unverified one and a newer failed one, identical row for row, and reports the recovery point and times", () => {
    expect(fresh.psql("app", "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").trim()).toBe("0");
    const t0 = process.hrtime.bigint();
    const restore = recoveryJobs.run("restore", ["--latest-verified", "--from-bucket", s3.bucket, "--from-prefix", APP, "--if-empty"]);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    // The moment the recovery stack's next step would read the host's clock.
    const healthyAt = String(Math.floor(Date.now() / 1000));
    expect(restore.status, restore.stderr).toBe(0);
    expect(restore.stdout).toContain(`restored: ${APP}/${IDS[1]}/`);

    const recovered = fingerprint(fresh);
    expect(recovered).toEqual(states[IDS[1]]);
    for (const newer of IDS.slice(2)) expect(recovered).not.toEqual(states[newer]);
    const rows = Object.values(recovered).reduce((n, v) => n + Number(v.split(" ")[0]), 0);

    const manifest = s3.aws(["s3", "cp", `s3://${s3.bucket}/${APP}/${IDS[1]}/manifest.txt`, "-"]).stdout;
    const created = Number(/^created\t(\d+)$/m.exec(manifest)![1]);
    const report = recoveryOf(restore.stdout, healthyAt);
    expect(report.status).toBe("restored");
    expect(report.point).toBe(new Date(created * 1000).toISOString());
    expect(report.backupKey).toBe(`s3://${s3.bucket}/${APP}/${IDS[1]}/`);
    expect(Date.parse(report.restoredAt)).toBeGreaterThanOrEqual(Date.parse(report.startedAt));
    expect(report.seconds).toBeGreaterThanOrEqual(0);
    expect(report.seconds).toBeLessThanOrEqual(Math.ceil(seconds) + 1);
    console.log(
      `disaster recovery: newest verified backup ${IDS[1]} of ${IDS.length} restored into a fresh PostgreSQL 15, ${rows} rows in ${TABLES.length} tables identical (counts and checksums); ${seconds.toFixed(2)} s from the script's start (choosing, downloading, checking, restoring, counting)`,
    );
  }, 120_000);

  it("never overwrites what the recovered app wrote since: a later run with --if-empty restores nothing and says so", () => {
    fresh.psql("app", "INSERT INTO users (email) VALUES ('after-recovery@example.com')");
    const before = fingerprint(fresh);
    const again = recoveryJobs.run("restore", ["--latest-verified", "--from-bucket", s3.bucket, "--from-prefix", APP, "--if-empty"]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain("restored: none");
    expect(recoveryOf(again.stdout, "0").status).toBe("skipped");
    expect(fingerprint(fresh)).toEqual(before);
  }, 120_000);

  it("fails, naming what is missing, where no backup was ever verified", () => {
    const none = recoveryJobs.run("restore", ["--latest-verified", "--from-bucket", s3.bucket, "--from-prefix", "recovery-lms", "--force"]);
    expect(none.status).not.toBe(0);
    expect(none.stderr).toContain(`no verified backup under s3://${s3.bucket}/recovery-lms/`);
  });
});
