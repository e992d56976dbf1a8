/**
 * The scripts as they run on a Docker host (`DOCKER=1`), with a recording stand-in for the docker
 * CLI on PATH: volumes are found by `docker volume inspect`, the app's containers by their labels,
 * and a forced restore stops the app's backends and workers while it replaces the data and starts
 * them again afterwards, also when the restore fails; a rollback's restore (`--keep-stopped`) leaves
 * them stopped once the data is replaced (the deploy replaces them), and starts them again when it
 * fails before the data is touched.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireTool, tempDir } from "../tools/realTools";
import { installJobs, startS3, type Jobs, type S3Server } from "./servers";

const APP = "fdts";
let s3: S3Server;
let jobs: Jobs;
let volumes: string;
let log: string;
let env: NodeJS.ProcessEnv;

const FAKE_DOCKER = `#!/bin/sh
echo "$*" >> "$FAKE_DOCKER_LOG"
case "$1" in
  ps)
    case "$*" in
      *runbook.role=backend*) printf 'backend-a\\nbackend-b\\n' ;;
      *runbook.role=worker*) ;;
      *runbook.service=database*) ;;
    esac ;;
  volume) eval "last=\\\${$#}"; printf '%s/%s\\n' "$FAKE_VOLUME_ROOT" "$last" ;;
  stop|start) echo "$2" ;;
  *) echo "unexpected docker $*" >&2; exit 1 ;;
esac
`;

beforeAll(async () => {
  s3 = await startS3();
  const dir = tempDir("docker-host");
  volumes = path.join(dir, "volumes");
  fs.mkdirSync(path.join(volumes, "fdts-data"), { recursive: true });
  fs.mkdirSync(path.join(volumes, "fdts-uploads", "avatars"), { recursive: true });
  fs.writeFileSync(path.join(volumes, "fdts-uploads", "avatars", "a.png"), "png");
  const db = path.join(volumes, "fdts-data", "database.sqlite");
  spawnSync(requireTool("sqlite3"), [db, "CREATE TABLE docs (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO docs (body) VALUES ('one'), ('two');"]);
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, "docker"), FAKE_DOCKER, { mode: 0o755 });
  // gzip that fails on demand: a restore that fails after stopping the app and before touching the data.
  const gzip = ["/usr/bin/gzip", "/bin/gzip"].find((p) => fs.existsSync(p))!;
  fs.writeFileSync(path.join(bin, "gzip"), `#!/bin/sh\n[ -z "\${FAKE_GZIP_FAIL:-}" ] || { echo "gzip: stand-in failure" >&2; exit 1; }\nexec ${gzip} "$@"\n`, { mode: 0o755 });
  log = path.join(dir, "docker.log");
  env = { ...process.env, PATH: `${bin}:${process.env["PATH"]}`, FAKE_DOCKER_LOG: log, FAKE_VOLUME_ROOT: volumes };
  jobs = installJobs({ appId: APP, engine: "sqlite", uploads: true, configDir: `/etc/runbook-backup/${APP}` }, s3, { DOCKER: "1", SQLITE_VOLUME: "fdts-data", SQLITE_FILE: "database.sqlite", UPLOADS_VOLUME: "fdts-uploads" }, env);
}, 60_000);

afterAll(async () => {
  await s3?.stop();
});

const calls = () => fs.readFileSync(log, "utf8").trim().split("\n");

describe("the scripts on a Docker host", () => {
  it("backs up the SQLite file and the uploads found at their volumes' mount points", () => {
    const backup = jobs.run("backup", ["--reason", "scheduled"]);
    expect(backup.status, backup.stderr).toBe(0);
    expect(calls()).toEqual(["volume inspect --format {{ .Mountpoint }} fdts-data", "volume inspect --format {{ .Mountpoint }} fdts-uploads"]);
  });

  it("stops the app's backends and workers for a forced restore, and starts them again", () => {
    fs.writeFileSync(log, "");
    spawnSync(requireTool("sqlite3"), [path.join(volumes, "fdts-data", "database.sqlite"), "DELETE FROM docs;"]);
    fs.writeFileSync(path.join(volumes, "fdts-data", "database.sqlite-wal"), "stale");
    const restore = jobs.run("restore", ["--latest", "--force"]);
    expect(restore.status, restore.stderr).toBe(0);
    expect(calls()).toEqual([
      "volume inspect --format {{ .Mountpoint }} fdts-data",
      "ps -q --filter label=runbook.app=fdts --filter label=runbook.role=backend",
      "ps -q --filter label=runbook.app=fdts --filter label=runbook.role=worker",
      "stop backend-a",
      "stop backend-b",
      "volume inspect --format {{ .Mountpoint }} fdts-uploads",
      "start backend-a",
      "start backend-b",
    ]);
    expect(fs.existsSync(path.join(volumes, "fdts-data", "database.sqlite-wal"))).toBe(false);
    expect(spawnSync(requireTool("sqlite3"), [path.join(volumes, "fdts-data", "database.sqlite"), "SELECT body FROM docs ORDER BY id;"], { encoding: "utf8" }).stdout).toBe("one\ntwo\n");
  });

  it("--keep-stopped: a rollback's restore leaves the backends stopped once the data is replaced", () => {
    const db = path.join(volumes, "fdts-data", "database.sqlite");
    spawnSync(requireTool("sqlite3"), [db, "INSERT INTO docs (body) VALUES ('written by the newer release');"]);
    fs.writeFileSync(log, "");
    const restore = jobs.run("restore", ["--latest", "--force", "--keep-stopped"]);
    expect(restore.status, restore.stderr).toBe(0);
    expect(calls().filter((c) => /^(stop|start) /.test(c))).toEqual(["stop backend-a", "stop backend-b"]);
    expect(restore.stderr).toMatch(/stay stopped \(--keep-stopped\): backend-a backend-b/);
    expect(spawnSync(requireTool("sqlite3"), [db, "SELECT body FROM docs ORDER BY id;"], { encoding: "utf8" }).stdout).toBe("one\ntwo\n");
  });

  it("--keep-stopped: starts the backends again when the restore fails before the data is touched", () => {
    const db = path.join(volumes, "fdts-data", "database.sqlite");
    spawnSync(requireTool("sqlite3"), [db, "INSERT INTO docs (body) VALUES ('kept');"]);
    fs.writeFileSync(log, "");
    const restore = jobs.run("restore", ["--latest", "--force", "--keep-stopped"], { FAKE_GZIP_FAIL: "1" });
    expect(restore.status).not.toBe(0);
    expect(calls().filter((c) => /^(stop|start) /.test(c))).toEqual(["stop backend-a", "stop backend-b", "start backend-a", "start backend-b"]);
    expect(spawnSync(requireTool("sqlite3"), [db, "SELECT body FROM docs ORDER BY id;"], { encoding: "utf8" }).stdout).toBe("one\ntwo\nkept\n");
  });

  it("--once: a rollback's restore that completed is not done again when its step runs again", () => {
    const db = path.join(volumes, "fdts-data", "database.sqlite");
    const state = path.join(path.dirname(volumes), "state");
    const once = ["--latest", "--force", "--keep-stopped", "--once", "rollback-2-20261122T095900Z-pre-deploy"];
    spawnSync(requireTool("sqlite3"), [db, "INSERT INTO docs (body) VALUES ('before the rollback');"]);
    const first = jobs.run("restore", once, { STATE_DIR: state });
    expect(first.status, first.stderr).toBe(0);
    expect(fs.readFileSync(path.join(state, "restores", "rollback-2-20261122T095900Z-pre-deploy"), "utf8")).toMatch(/^\S+ \d+\n$/);
    // The older release writes; then an unrelated input change makes the provider run the step again.
    spawnSync(requireTool("sqlite3"), [db, "INSERT INTO docs (body) VALUES ('written after the rollback');"]);
    fs.writeFileSync(log, "");
    const again = jobs.run("restore", once, { STATE_DIR: state });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain("restored: none");
    expect(calls().filter((c) => /^(stop|start) /.test(c))).toEqual([]);
    expect(spawnSync(requireTool("sqlite3"), [db, "SELECT body FROM docs ORDER BY id;"], { encoding: "utf8" }).stdout).toBe("one\ntwo\nwritten after the rollback\n");
  });

  it("starts the app again when the restore fails after stopping it", () => {
    fs.writeFileSync(log, "");
    // The uploads volume's mount point is a file: extracting into it fails after the database was replaced.
    fs.rmSync(path.join(volumes, "fdts-uploads"), { recursive: true });
    fs.writeFileSync(path.join(volumes, "fdts-uploads"), "not a directory");
    const restore = jobs.run("restore", ["--latest", "--force"]);
    expect(restore.status).toBe(1);
    expect(calls().slice(-2)).toEqual(["start backend-a", "start backend-b"]);
  });
});
