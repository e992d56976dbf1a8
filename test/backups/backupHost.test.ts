/**
 * Which host takes an app's backups, for real: two hosts' jobs (two directories with their own
 * SQLite file and machine id) against one local S3 API and one prefix, as when an app moves to a new
 * host and the old host's timers are left behind. Once the new host has claimed the backups, a backup
 * on the old one fails before it reads anything and uploads nothing, so a restore of the newest
 * backup gets the new host's data, never the old host's stale copy.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKUP_HOST_KEY } from "../../components/backups/backupScript";
import { BACKUP_METRICS } from "../../components/backups/metrics";
import { requireTool, tempDir } from "../tools/realTools";
import { AWS, installJobs, metricValue, startS3, type Jobs, type S3Server } from "./servers";

const APP = "fdts";
let s3: S3Server;

const sqlite = (file: string, sql: string) => {
  const res = spawnSync(requireTool("sqlite3"), ["-batch", file, sql], { encoding: "utf8" });
  if (res.status !== 0) throw new Error(`sqlite3 failed: ${res.stderr}`);
  return res.stdout.trim();
};

/** One host's jobs: its own database file, holding `rows` rows, and its own machine id. */
function host(machineId: string, rows: number): { jobs: Jobs; db: string; env: NodeJS.ProcessEnv } {
  const dir = tempDir(`host-${machineId}`);
  const db = path.join(dir, "database.sqlite");
  sqlite(db, `CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < ${rows}) INSERT INTO notes (body) SELECT '${machineId} ' || x FROM g;`);
  return { jobs: installJobs({ appId: APP, engine: "sqlite", uploads: false, configDir: `/etc/runbook-backup/${APP}` }, s3, { SQLITE_PATH: db }), db, env: { RUNBOOK_HOST_ID: machineId } };
}

const manifests = () =>
  s3.aws(["s3", "ls", "--recursive", `s3://${s3.bucket}/${APP}/`]).stdout.split("\n").map((l) => l.split(/\s+/)[3] ?? "").filter((k) => k.endsWith("/manifest.txt")).sort();
/** The machine id the claim in the bucket names. */
const claimed = () => {
  const res = s3.aws(["s3", "cp", `s3://${s3.bucket}/${APP}/${BACKUP_HOST_KEY}`, "-"]);
  if (res.status !== 0) throw new Error(res.stderr);
  return res.stdout.split(" ")[0];
};

beforeAll(async () => {
  s3 = await startS3();
}, 60_000);

afterAll(async () => {
  await s3?.stop();
});

describe("the host that takes an app's backups", () => {
  it("after the app moves, the old host's backup fails before reading anything and uploads nothing; the new host's backups are the newest", () => {
    const old = host("0ld0ld0ld", 100);
    const fresh = host("new1new1new1", 250);
    const unclaimed = old.jobs.run("backup", ["--reason", "scheduled"], old.env);
    expect(unclaimed.status, `a bucket without a claim (from before this version): ${unclaimed.stderr}`).toBe(0);
    expect(claimed(), "claimed by the backup that ran").toBe("0ld0ld0ld");

    // The deploy that moves the app runs the claim step on the new host.
    const claim = fresh.jobs.run("backup", ["--claim-host"], fresh.env);
    expect(claim.status, claim.stderr).toBe(0);
    expect(claim.stderr).toContain(`takes ${APP}'s backups from now on`);
    const before = manifests();

    const stale = old.jobs.run("backup", ["--reason", "scheduled"], old.env);
    expect(stale.status).toBe(1);
    expect(stale.stderr).toContain(`no longer takes ${APP}'s backups: the last deploy put them on`);
    expect(stale.stderr).toContain("(machine id new1new1new1). Nothing was read or uploaded.");
    // An app whose monitoring data this host does not back up: its two database timers only.
    expect(stale.stderr).toContain(`systemctl disable --now runbook-backup-${APP}.timer runbook-backup-verify-${APP}.timer. If`);
    expect(manifests(), "nothing uploaded by the old host").toEqual(before);
    expect(fs.readdirSync(old.jobs.localDir).filter((d) => d.endsWith("-scheduled")), "no second local backup on the old host").toHaveLength(1);
    expect(metricValue(old.jobs.metrics(), BACKUP_METRICS.lastStatus, APP, "database"), "the old host reports the failure").toBe(0);

    const current = fresh.jobs.run("backup", ["--reason", "scheduled"], fresh.env);
    expect(current.status, current.stderr).toBe(0);
    expect(claimed()).toBe("new1new1new1");

    // The newest backup is the new host's data: a restore of --latest brings back its 250 rows.
    sqlite(fresh.db, "DELETE FROM notes;");
    const restore = fresh.jobs.run("restore", ["--latest", "--force"], fresh.env);
    expect(restore.status, restore.stderr).toBe(0);
    expect(sqlite(fresh.db, "SELECT count(*) FROM notes")).toBe("250");
    expect(sqlite(fresh.db, "SELECT body FROM notes WHERE id = 1")).toBe("new1new1new1 1");
  }, 300_000);

  it("a backup that was running on the old host when the app moved never takes the claim back", () => {
    const old = host("0ld2old2old2", 40);
    expect(old.jobs.run("backup", ["--claim-host"], old.env).status).toBe(0);
    // The deploy that moves the app claims the new host while the old host's backup is uploading: an aws CLI
    // that, once the old backup's manifest is up, writes the new host's claim as the claim step would.
    const dir = tempDir("host-move-aws");
    const claim = path.join(dir, "claim");
    fs.writeFileSync(claim, "new2new2new2 new-host 1\n");
    const wrapper = path.join(dir, "aws");
    fs.writeFileSync(
      wrapper,
      `#!/bin/sh\n${AWS} "$@"; rc=$?\ncase "$*" in *put-object*/manifest.txt*) ${AWS} --endpoint-url ${s3.endpoint} s3api put-object --bucket ${s3.bucket} --key ${APP}/${BACKUP_HOST_KEY} --body ${claim} >/dev/null ;; esac\nexit $rc\n`,
      { mode: 0o755 },
    );
    const res = old.jobs.run("backup", ["--reason", "scheduled"], { ...old.env, ...old.jobs.withSettings({ SQLITE_PATH: old.db, AWS_CLI: wrapper }) });
    expect(res.status, res.stderr).toBe(0);
    expect(res.stderr).toContain(`WARNING: the claim of ${APP}'s backups not refreshed`);
    expect(claimed(), "still the new host's").toBe("new2new2new2");
  }, 300_000);
});
