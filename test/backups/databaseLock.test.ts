/**
 * The app's database lock, for real: flock(1), sqlite3 and the rendered backup, restore and SQLite
 * upkeep scripts, against a local S3 API. While another job holds the lock, a restore does not touch
 * the live file (its rows stay as they were) and replaces it only once the lock is free; a backup
 * and the weekly upkeep wait on the same lock file; a job that waits longer than DB_LOCK_WAIT gives
 * up without touching anything. (Why it matters: components/shared/databaseLock.ts.)
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseLockName, DEPLOY_LOCK_WAIT_SECONDS } from "../../components/shared/databaseLock";
import { maintenanceJobs } from "../../components/maintenance";
import { renderWindowBackupCommand, renderWindowBackupScript } from "../../components/maintenance/windowBackup";
import { stackSpec } from "../helpers";
import { dockerStandIn } from "../tools/dockerStandIn";
import { requireTool, runScript, sleep, tempDir } from "../tools/realTools";
import { installJobs, startS3, type Jobs, type S3Server } from "./servers";

const APP = "handwork";
let s3: S3Server;
let jobs: Jobs;
let db: string;
let backupId = "";

const sqlite = (file: string, sql: string) => {
  const res = spawnSync(requireTool("sqlite3"), ["-batch", file, sql], { encoding: "utf8" });
  if (res.status !== 0) throw new Error(`sqlite3 failed: ${res.stderr}`);
  return res.stdout.trim();
};
const fileHash = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");

/**
 * Another job holding the app's database lock (as any of the jobs does) until release() is called,
 * or, given `forSeconds`, until it lets go by itself after that long.
 */
async function holdLock(lockDir: string, forSeconds?: number): Promise<{ release: () => Promise<void> }> {
  fs.mkdirSync(lockDir, { recursive: true });
  const hold = forSeconds === undefined ? "read -r _" : `sleep ${forSeconds}`;
  const holder = spawn(requireTool("sh"), ["-c", `exec 9>>"$1"; flock 9; echo held; ${hold}`, "sh", path.join(lockDir, databaseLockName(APP))], { stdio: ["pipe", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.once("data", () => resolve());
    holder.once("exit", (code) => reject(new Error(`the lock holder exited (${code})`)));
  });
  return {
    release: () =>
      new Promise((resolve) => {
        if (holder.exitCode !== null) return resolve();
        holder.once("exit", () => resolve());
        holder.stdin!.end();
      }),
  };
}

/** Starts one of the jobs' scripts in the background, collecting its output. */
function start(script: string, args: string[], env: NodeJS.ProcessEnv = {}): { proc: ChildProcess; done: Promise<{ status: number | null; stdout: string; stderr: string }>; stderr: () => string } {
  let stdout = "";
  let stderr = "";
  const proc = spawn("sh", [path.join(jobs.dir, `${script}.sh`), ...args], { env: jobs.environment(env) });
  proc.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => proc.once("exit", (status) => resolve({ status, stdout, stderr })));
  return { proc, done, stderr: () => stderr };
}

/** Resolves once the script's stderr says it is waiting for the lock (bounded: 20 s). */
async function waitingForLock(job: { stderr: () => string; proc: ChildProcess }): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (job.stderr().includes("another job holds the database lock")) return;
    if (job.proc.exitCode !== null) throw new Error(`the job ended instead of waiting: ${job.stderr()}`);
    await sleep(100);
  }
  throw new Error(`the job never said it was waiting: ${job.stderr()}`);
}

beforeAll(async () => {
  s3 = await startS3();
  const dir = tempDir("lock-app");
  db = path.join(dir, "handwork_marketplace.db");
  sqlite(db, "PRAGMA journal_mode=WAL; CREATE TABLE jobs (id INTEGER PRIMARY KEY, title TEXT); WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < 500) INSERT INTO jobs (title) SELECT 'job ' || x FROM g;");
  jobs = installJobs({ appId: APP, engine: "sqlite", uploads: false, configDir: `/etc/runbook-backup/${APP}` }, s3, { SQLITE_PATH: db });
  const backup = jobs.run("backup", ["--reason", "manual"]);
  if (backup.status !== 0) throw new Error(backup.stderr);
  backupId = /backup-key: \S+\/(\S+)\/$/m.exec(backup.stdout)![1]!;
}, 120_000);

afterAll(async () => {
  await s3?.stop();
});

describe("the app's database lock (flock) between backup, restore and upkeep jobs", () => {
  it("a restore waits while another job holds the lock, leaving the live database untouched, and restores once it is free", async () => {
    sqlite(db, "INSERT INTO jobs (title) VALUES ('written after the backup');");
    const before = fileHash(db);
    const holder = await holdLock(jobs.lockDir);
    const restore = start("restore", ["--id", backupId, "--force"]);
    try {
      await waitingForLock(restore);
      await sleep(1_000);
      expect(restore.proc.exitCode, "still waiting").toBeNull();
      expect(sqlite(db, "SELECT count(*) FROM jobs"), "the live rows are as they were").toBe("501");
      expect(fileHash(db)).toBe(before);
    } finally {
      await holder.release();
    }
    const res = await restore.done;
    expect(res.status, res.stderr).toBe(0);
    expect(sqlite(db, "SELECT count(*) FROM jobs"), "the backup's rows").toBe("500");
    expect(sqlite(db, "PRAGMA integrity_check")).toBe("ok");
  }, 60_000);

  it("a restore that waits longer than DB_LOCK_WAIT gives up, non-zero, with the database as it was", async () => {
    sqlite(db, "INSERT INTO jobs (title) VALUES ('kept');");
    const before = fileHash(db);
    const holder = await holdLock(jobs.lockDir);
    try {
      const res = await start("restore", ["--id", backupId, "--force"], { DB_LOCK_WAIT: "1" }).done;
      expect(res.status).not.toBe(0);
      expect(res.stderr).toContain(`${APP}: gave up after 1 s waiting for the database lock ${path.join(jobs.lockDir, databaseLockName(APP))}; nothing was done`);
      expect(res.stdout).not.toContain("restored:");
    } finally {
      await holder.release();
    }
    expect(fileHash(db)).toBe(before);
    expect(sqlite(db, "SELECT title FROM jobs ORDER BY id DESC LIMIT 1")).toBe("kept");
  }, 60_000);

  it("a backup waits on the same lock before it opens the database, then backs up", async () => {
    const holder = await holdLock(jobs.lockDir);
    const backup = start("backup", ["--reason", "scheduled"]);
    try {
      await waitingForLock(backup);
      expect(fs.readdirSync(jobs.localDir).filter((d) => d.endsWith("-scheduled")), "no backup begun").toEqual([]);
    } finally {
      await holder.release();
    }
    const res = await backup.done;
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/backup-key: handwork\/\S+-scheduled\/$/m);
  }, 60_000);

  it("a backup started while another job holds the lock for 2 s waits within its --lock-wait, then backs up and uploads once the holder lets go", async () => {
    const holder = await holdLock(jobs.lockDir, 2);
    const t0 = Date.now();
    const backup = start("backup", ["--reason", "manual", "--lock-wait", "30"]);
    await waitingForLock(backup);
    const res = await backup.done;
    const waited = Date.now() - t0;
    await holder.release();
    expect(res.status, res.stderr).toBe(0);
    expect(res.stderr).toContain(`another job holds the database lock ${path.join(jobs.lockDir, databaseLockName(APP))}; waiting up to 30 s`);
    expect(res.stderr).not.toContain("gave up");
    expect(waited, "it waited for the holder").toBeGreaterThanOrEqual(1_000);
    const key = /^backup-key: (\S+)$/m.exec(res.stdout)![1]!;
    expect(key).toMatch(/^handwork\/\S+-manual\/$/);
    const uploaded = s3.aws(["s3", "ls", `s3://${s3.bucket}/${key}`]).stdout;
    expect(uploaded).toContain("manifest.txt");
    expect(uploaded).toContain("database.sqlite.gz");
  }, 60_000);

  it("a backup given --lock-wait 1 gives up after about a second while another job holds the lock (the argument wins over DB_LOCK_WAIT), naming the lock, with nothing read or uploaded", async () => {
    const lock = path.join(jobs.lockDir, databaseLockName(APP));
    const keys = () => s3.aws(["s3", "ls", "--recursive", `s3://${s3.bucket}/${APP}/`]).stdout.split("\n").map((l) => l.split(/\s+/)[3]).filter(Boolean).sort();
    const [hash, uploaded, local] = [fileHash(db), keys(), fs.readdirSync(jobs.localDir).sort()];
    const holder = await holdLock(jobs.lockDir);
    let res: Awaited<ReturnType<typeof start>["done"]>;
    const t0 = Date.now();
    try {
      res = await start("backup", ["--reason", "pre-deploy", "--lock-wait", "1"], { DB_LOCK_WAIT: "3600" }).done;
    } finally {
      await holder.release();
    }
    const seconds = (Date.now() - t0) / 1000;
    expect(res.status).not.toBe(0);
    expect(seconds, "about the second it was given, not DB_LOCK_WAIT's hour").toBeGreaterThanOrEqual(0.9);
    expect(seconds).toBeLessThan(15);
    expect(res.stderr).toContain(`${APP}: another job holds the database lock ${lock}; waiting up to 1 s`);
    expect(res.stderr).toContain(`${APP}: gave up after 1 s waiting for the database lock ${lock}; nothing was done`);
    expect(res.stdout).not.toContain("backup-key:");
    expect(fileHash(db), "the database untouched").toBe(hash);
    expect(keys(), "nothing uploaded").toEqual(uploaded);
    expect(fs.readdirSync(jobs.localDir).sort(), "no local backup begun").toEqual(local);
  }, 60_000);

  it.each([
    ["backup", ["--reason", "manual"]],
    ["restore", ["--id", "20260101T000000Z-manual", "--force"]],
  ] as const)("%s.sh refuses a --lock-wait that is not a whole number of seconds, naming the argument, before it does anything", (script, args) => {
    const local = fs.readdirSync(jobs.localDir).sort();
    for (const bad of ["-1", "1.5", "ten", "", "60s"]) {
      const res = jobs.run(script, [...args, "--lock-wait", bad]);
      expect(res.status, bad).toBe(2);
      expect(res.stderr).toBe(`${APP}: --lock-wait must be a whole number of seconds, 0 or more (got '${bad}')\n`);
    }
    const missing = jobs.run(script, [...args, "--lock-wait"]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("[--lock-wait SECONDS]");
    expect(fs.readdirSync(jobs.localDir).sort()).toEqual(local);
  }, 60_000);

  it("the weekly SQLite upkeep waits on the same lock before it opens the file", async () => {
    const app = stackSpec("prod").apps.find((a) => a.id === APP)!;
    if (app.database.engine !== "sqlite") throw new Error("not SQLite");
    const mount = app.backend.volumes.find((v) => v.name === (app.database as { volume: string }).volume)!.mountPath;
    const work = tempDir("lock-upkeep");
    const file = path.join(work, app.database.path.slice(mount.length + 1));
    fs.copyFileSync(db, file);
    const docker = dockerStandIn(work, { containers: [{ id: "b0b", name: `${APP}-backend-0-1a`, labels: { "runbook.app": APP, "runbook.service": "backend" }, image: app.backend.image, imageId: "sha256:be", mounts: { [mount]: work } }] });
    const script = maintenanceJobs(app).find((j) => j.name === "db-sqlite")!.script;
    const before = fileHash(file);
    const holder = await holdLock(jobs.lockDir);
    const gaveUp = await runScript(script, "", { ...docker.env, RUNBOOK_LOCK_DIR: jobs.lockDir, DB_LOCK_WAIT: "1" });
    await holder.release();
    expect(gaveUp.status).not.toBe(0);
    expect(gaveUp.stderr).toContain(`${APP}: gave up after 1 s waiting for the database lock`);
    expect(docker.calls(), "gave up before looking for the backend").toEqual([]);
    expect(fileHash(file), "VACUUM never ran").toBe(before);
    const ran = await runScript(script, "", { ...docker.env, RUNBOOK_LOCK_DIR: jobs.lockDir });
    expect(ran.status, ran.stderr).toBe(0);
    expect(ran.stdout).toContain("integrity_check ok");
  }, 60_000);

  /** The maintenance window's own backup of the app's SQLite file, through the docker stand-in, and where its copies go. */
  function windowBackup(name: string) {
    const app = stackSpec("prod").apps.find((a) => a.id === APP)!;
    const work = tempDir(name);
    const docker = dockerStandIn(work, { containers: [{ id: "b0b", name: `${APP}-backend-0-1a`, labels: { "runbook.app": APP, "runbook.service": "backend" }, image: app.backend.image, imageId: "sha256:be", mounts: {} }] });
    // `docker exec` runs here, so the path the backend would see is the test's file.
    const script = renderWindowBackupScript({ appId: APP, engine: "sqlite", path: db, runtime: app.backend.runtime });
    const home = path.join(work, "home");
    fs.mkdirSync(home);
    const copies = () => (fs.existsSync(path.join(home, "runbook-backups", APP)) ? fs.readdirSync(path.join(home, "runbook-backups", APP)) : []);
    const env = { ...process.env, ...docker.env, HOME: home, RUNBOOK_LOCK_DIR: jobs.lockDir };
    return { script, home, copies, docker, env };
  }

  it("the maintenance window's backup given --lock-wait 1 gives up while another job holds the lock, before it looks for the backend, touching nothing", async () => {
    const w = windowBackup("lock-window-gives-up");
    const before = fileHash(db);
    const holder = await holdLock(jobs.lockDir);
    let res: Awaited<ReturnType<typeof runScript>>;
    const t0 = Date.now();
    try {
      res = await new Promise((resolve) => {
        const child = spawn("sh", ["-c", w.script, "window-backup", "--dir", path.join(w.home, "runbook-backups"), "--lock-wait", "1"], { env: w.env });
        let [stdout, stderr] = ["", ""];
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.once("exit", (status) => resolve({ status: status ?? -1, stdout, stderr }));
      });
    } finally {
      await holder.release();
    }
    expect(res.status).not.toBe(0);
    expect((Date.now() - t0) / 1000).toBeGreaterThanOrEqual(0.9);
    expect(res.stderr).toContain(`${APP}: gave up after 1 s waiting for the database lock ${path.join(jobs.lockDir, databaseLockName(APP))}; nothing was done`);
    expect(res.stdout).not.toContain("pre-maintenance backup");
    expect(w.docker.calls(), "never looked for the backend").toEqual([]);
    expect(w.copies(), "no copy made").toEqual([]);
    expect(fileHash(db)).toBe(before);
  }, 60_000);

  it("the maintenance window's backup, as its deploy step runs it, waits while another job holds the lock and backs up once it is free, into the deploy user's directory and theirs", async () => {
    const w = windowBackup("lock-window-waits");
    const holder = await holdLock(jobs.lockDir);
    let stdout = "";
    let stderr = "";
    // The step's own command (as root here, so without sudo); SUDO_UID and SUDO_GID are what sudo sets for the deploy user.
    const proc = spawn("sh", ["-c", renderWindowBackupCommand(APP, w.script)], { env: { ...w.env, SUDO_UID: "65534", SUDO_GID: "65534" } });
    proc.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const done = new Promise<number | null>((resolve) => proc.once("exit", resolve));
    try {
      await waitingForLock({ proc, stderr: () => stderr });
      expect(stderr).toContain(`waiting up to ${DEPLOY_LOCK_WAIT_SECONDS} s`);
      await sleep(500);
      expect(proc.exitCode, "still waiting").toBeNull();
      expect(w.docker.calls(), "not yet looked for the backend").toEqual([]);
      expect(w.copies(), "no copy yet").toEqual([]);
    } finally {
      await holder.release();
    }
    expect(await done, stderr).toBe(0);
    const copy = /pre-maintenance backup (\S+)/.exec(stdout)![1]!;
    expect(path.dirname(copy)).toBe(path.join(w.home, "runbook-backups", APP));
    expect(sqlite(copy, "SELECT count(*) FROM jobs")).toBe(sqlite(db, "SELECT count(*) FROM jobs"));
    for (const p of [copy, path.dirname(copy), path.dirname(path.dirname(copy))]) expect([fs.statSync(p).uid, fs.statSync(p).gid], p).toEqual([65534, 65534]);
    expect(fs.statSync(copy).mode & 0o777).toBe(0o600);
  }, 60_000);
});
