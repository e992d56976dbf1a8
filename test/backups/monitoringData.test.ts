/**
 * The monitoring data's backup and restore (reference app "3.1 Data Backup Strategy": daily backups
 * of `prometheus_data` and `grafana_data`; "3.2 ... Restore persistent Docker volumes from backups"),
 * run for real against a local S3 API: Prometheus blocks written by promtool, a Grafana data directory
 * with a SQLite grafana.db. A restore into empty volumes gives a real Prometheus the same samples and
 * Grafana the same rows; the WAL and unfinished blocks are never archived; a volume with data is kept;
 * a tampered archive is refused before anything is extracted; the database backups never see it.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MONITORING_ARCHIVES, renderMonitoringBackupScript, renderMonitoringRestoreScript } from "../../components/backups/monitoringData";
import type { ScriptSpec } from "../../components/backups/scriptCommon";
import { alertRules, renderAlertRules } from "../../components/monitoring/alertRules";
import { JOBS } from "../../components/monitoring/signalModels";
import { alertRulesSpec } from "../../components/monitoring/specs";
import { stringify } from "yaml";
import { stackSpec } from "../helpers";
import { freePort, requireTool, sleep, stopProcess, tempDir } from "../tools/realTools";
import { dockerStandIn } from "../tools/dockerStandIn";
import { AWS, installJobs, metricValue, startS3, type Jobs, type S3Server } from "./servers";

const HOUR = 3600;
let s3: S3Server;
let dir: string;
let jobs: Jobs;
const spec: ScriptSpec = { appId: "mon", engine: "sqlite", uploads: false, configDir: "/etc/runbook-backup/mon" };
const source = { prometheus: "", grafana: "", db: "" };
/** Blocks promtool made of the samples: two or three, as the five hours fall on its two-hour boundaries. */
let blockCount = 0;
/** The samples written into the blocks: [unix seconds, value]. */
const samples: [number, number][] = [];

function sh(cmd: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
  const res = spawnSync(cmd, args, { encoding: "utf8", ...options });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}
const sqlite = (db: string, sql: string) => sh(requireTool("sqlite3"), [db, sql]).stdout.trim();
const run = (script: "monitoring-backup" | "monitoring-restore", args: string[] = [], env: NodeJS.ProcessEnv = {}) =>
  sh("sh", [path.join(jobs.dir, `${script}.sh`), ...args], { env: jobs.environment(env) });
const s3cli = (args: string[]) => sh(AWS, ["--endpoint-url", s3.endpoint, ...args], { env: jobs.environment() });

beforeAll(async () => {
  s3 = await startS3();
  dir = tempDir("monitoring-data");
  // Prometheus: two persisted blocks from promtool, plus what a running server has beside them.
  source.prometheus = path.join(dir, "prometheus");
  const now = Math.floor(Date.now() / 1000);
  for (let i = 0; i < 6; i++) samples.push([now - 5 * HOUR + i * 1800, i * 10 + 1]);
  const openMetrics = path.join(dir, "samples.om");
  fs.writeFileSync(openMetrics, `${samples.map(([t, v]) => `runbook_test_requests{job="backend"} ${v} ${t}`).join("\n")}\n# EOF\n`);
  const created = sh(requireTool("promtool"), ["tsdb", "create-blocks-from", "openmetrics", openMetrics, source.prometheus]);
  expect(created.status, created.stderr).toBe(0);
  blockCount = fs.readdirSync(source.prometheus).filter((n) => /^[0-9A-Z]{26}$/.test(n)).length;
  expect(blockCount).toBeGreaterThanOrEqual(2);
  fs.mkdirSync(path.join(source.prometheus, "wal"));
  fs.writeFileSync(path.join(source.prometheus, "wal", "00000001"), "the head's write-ahead log, being written");
  fs.mkdirSync(path.join(source.prometheus, "chunks_head"));
  fs.writeFileSync(path.join(source.prometheus, "chunks_head", "000001"), "head chunks");
  fs.mkdirSync(path.join(source.prometheus, "01JDZZZZZZZZZZZZZZZZZZZZZZ.tmp-for-creation"));
  fs.writeFileSync(path.join(source.prometheus, "01JDZZZZZZZZZZZZZZZZZZZZZZ.tmp-for-creation", "meta.json"), "{}");
  fs.writeFileSync(path.join(source.prometheus, "lock"), "");
  fs.chmodSync(source.prometheus, 0o750);
  // Grafana: grafana.db (users, dashboards' versions, annotations live there) and its plugins.
  source.grafana = path.join(dir, "grafana");
  fs.mkdirSync(path.join(source.grafana, "plugins", "panel"), { recursive: true });
  fs.writeFileSync(path.join(source.grafana, "plugins", "panel", "plugin.json"), '{"id":"panel"}\n');
  source.db = path.join(source.grafana, "grafana.db");
  sqlite(source.db, "CREATE TABLE annotation (id INTEGER PRIMARY KEY, text TEXT); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) INSERT INTO annotation (text) SELECT 'deploy ' || i FROM n;");
  fs.chmodSync(source.db, 0o640);
  // The owners the images run as (Prometheus as nobody, Grafana as 472 in group root): a restore must
  // give them back, or the containers cannot write their own data. Only root can give them here.
  if (process.getuid?.() === 0) {
    expect(sh("chown", ["-R", "65534:65534", source.prometheus]).status).toBe(0);
    expect(sh("chown", ["-R", "472:0", source.grafana]).status).toBe(0);
  }
  // The app's database: its own backups share the bucket and prefix.
  const appDb = path.join(dir, "app.db");
  sqlite(appDb, "CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1), (2), (3);");
  jobs = installJobs(spec, s3, { SQLITE_PATH: appDb, PROMETHEUS_DIR: source.prometheus, GRAFANA_DIR: source.grafana });
  fs.writeFileSync(path.join(jobs.dir, "monitoring-backup.sh"), renderMonitoringBackupScript(spec), { mode: 0o755 });
  fs.writeFileSync(path.join(jobs.dir, "monitoring-restore.sh"), renderMonitoringRestoreScript(spec), { mode: 0o755 });
}, 120_000);

afterAll(async () => {
  await s3?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** A real Prometheus on a data directory; the samples of the test series it serves. */
async function servedSamples(dataDir: string): Promise<[number, number][]> {
  const port = await freePort();
  const config = path.join(dir, `prometheus-${port}.yml`);
  fs.writeFileSync(config, "global:\n  scrape_interval: 1h\n");
  const p: ChildProcess = spawn(requireTool("prometheus"), [`--config.file=${config}`, `--storage.tsdb.path=${dataDir}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: "ignore" });
  try {
    const deadline = Date.now() + 30_000;
    while ((await fetch(`http://127.0.0.1:${port}/-/ready`).then((r) => r.status, () => 0)) !== 200) {
      if (Date.now() > deadline) throw new Error("Prometheus did not get ready within 30 s");
      await sleep(200);
    }
    const url = `http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent('runbook_test_requests{job="backend"}[6h]')}`;
    const body = (await (await fetch(url)).json()) as { data: { result: { values: [number, string][] }[] } };
    return (body.data.result[0]?.values ?? []).map(([t, v]) => [Math.round(t), Number(v)]);
  } finally {
    await stopProcess(p);
  }
}

describe("the monitoring data's backup and restore, against a local S3 API", () => {
  let key = "";

  it("archives Prometheus' persisted blocks (never the WAL, head chunks or an unfinished block) and Grafana's data, off-site under <prefix>/monitoring/", () => {
    const databaseBackup = jobs.run("backup", ["--reason", "scheduled"]);
    expect(databaseBackup.status, databaseBackup.stderr).toBe(0);
    const res = run("monitoring-backup");
    expect(res.status, res.stderr).toBe(0);
    key = /^monitoring-backup-key: (\S+)\/$/m.exec(res.stdout)![1]!;
    expect(key).toMatch(/^mon\/monitoring\/\d{8}T\d{6}Z-monitoring$/);
    const listed = s3cli(["s3", "ls", "--recursive", `s3://${s3.bucket}/${key}/`]).stdout;
    for (const name of [...Object.values(MONITORING_ARCHIVES), "manifest.txt"]) expect(listed).toContain(`${key}/${name}`);

    const local = path.join(dir, "fetched");
    fs.mkdirSync(local);
    expect(s3cli(["s3", "cp", "--recursive", `s3://${s3.bucket}/${key}/`, local]).status).toBe(0);
    const members = sh("tar", ["-tzf", path.join(local, MONITORING_ARCHIVES.prometheus)]).stdout.split("\n").filter(Boolean);
    const blocks = fs.readdirSync(source.prometheus).filter((n) => /^[0-9A-Z]{26}$/.test(n));
    expect(blocks).toHaveLength(blockCount);
    expect(new Set(members.map((m) => m.split("/")[1]))).toEqual(new Set(blocks));
    expect(members.some((m) => /wal|chunks_head|tmp-for-creation|lock/.test(m))).toBe(false);
    const manifest = fs.readFileSync(path.join(local, "manifest.txt"), "utf8");
    expect(manifest).toContain(`prometheus_blocks\t${blockCount}\n`);
    expect(manifest).toMatch(/^prometheus_dir\t\d+:\d+ 750$/m);

    // Beside the database's backups, never among them: verify.sh still takes the database backup as the newest.
    const verify = jobs.run("verify");
    expect(verify.status, verify.stderr).toBe(0);
    expect(verify.stderr).not.toContain("monitoring");
    const metrics = jobs.metrics();
    expect(metricValue(metrics, "runbook_backup_last_status", "mon", "monitoring")).toBe(1);
    expect(metricValue(metrics, "runbook_backup_last_success_timestamp_seconds", "mon", "monitoring")).toBeGreaterThan(Date.now() / 1000 - 600);
    expect(metricValue(metrics, "runbook_backup_last_status", "mon", "database")).toBe(1);
  });

  it("restores into empty volumes: a real Prometheus serves every sample, Grafana's rows, files, owners and modes are as they were", async () => {
    const prometheus = path.join(dir, "new-host", "prometheus-data");
    const grafana = path.join(dir, "new-host", "grafana-data");
    fs.mkdirSync(prometheus, { recursive: true });
    fs.mkdirSync(grafana, { recursive: true });
    const res = run("monitoring-restore", ["--prometheus-volume", prometheus, "--grafana-volume", grafana]);
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toContain(`monitoring-restored: ${key}/`);
    expect(res.stderr).toContain(`Prometheus: restored ${blockCount} blocks into ${prometheus}`);
    expect(fs.existsSync(path.join(prometheus, "wal"))).toBe(false);

    expect(await servedSamples(prometheus)).toEqual(samples);
    const restoredDb = path.join(grafana, "grafana.db");
    expect(sqlite(restoredDb, "PRAGMA integrity_check;")).toBe("ok");
    expect(sqlite(restoredDb, "SELECT count(*), max(text) FROM annotation;")).toBe(sqlite(source.db, "SELECT count(*), max(text) FROM annotation;"));
    expect(fs.readFileSync(path.join(grafana, "plugins", "panel", "plugin.json"), "utf8")).toBe('{"id":"panel"}\n');
    expect(fs.statSync(prometheus).mode & 0o777).toBe(0o750);
    expect(fs.statSync(restoredDb).mode & 0o777).toBe(0o640);
    const owner = (p: string) => `${fs.statSync(p).uid}:${fs.statSync(p).gid}`;
    expect(owner(restoredDb), "grafana.db").toBe(owner(source.db));
    expect(owner(grafana), "Grafana's volume").toBe(owner(source.grafana));
    expect(owner(prometheus), "Prometheus' volume").toBe(owner(source.prometheus));
    const block = fs.readdirSync(source.prometheus).find((n) => /^[0-9A-Z]{26}$/.test(n))!;
    expect(owner(path.join(prometheus, block, "index")), "a block's index").toBe(owner(path.join(source.prometheus, block, "index")));
  }, 60_000);

  it("keeps a volume that already holds data, and restores into the one that does not", () => {
    const prometheus = path.join(dir, "kept", "prometheus-data");
    const grafana = path.join(dir, "kept", "grafana-data");
    fs.mkdirSync(path.join(prometheus, "wal"), { recursive: true });
    fs.writeFileSync(path.join(prometheus, "wal", "00000000"), "this server's own data");
    fs.mkdirSync(grafana, { recursive: true });
    const res = run("monitoring-restore", ["--prometheus-volume", prometheus, "--grafana-volume", grafana]);
    expect(res.status, res.stderr).toBe(0);
    expect(res.stderr).toContain(`Prometheus: ${prometheus} holds data: kept`);
    expect(fs.readdirSync(prometheus)).toEqual(["wal"]);
    expect(sqlite(path.join(grafana, "grafana.db"), "SELECT count(*) FROM annotation;")).toBe("500");
    // Run again (the step's command changed): both volumes hold data, so nothing is read from the
    // bucket, which need not even be there any more.
    const again = run("monitoring-restore", ["--prometheus-volume", prometheus, "--grafana-volume", grafana, "--from-bucket", "no-such-bucket"]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toContain(`Grafana: ${grafana}/grafana.db exists: kept`);
    expect(again.stdout).toContain("monitoring-restored: kept");
  });

  it("refuses an archive that does not match its manifest before touching a volume; no monitoring backup at all is a warning, a bucket it cannot list an error", () => {
    const tampered = path.join(dir, "tampered.tar.gz");
    fs.writeFileSync(tampered, "not the archive");
    expect(s3cli(["s3", "cp", tampered, `s3://${s3.bucket}/${key}/${MONITORING_ARCHIVES.prometheus}`]).status).toBe(0);
    const prometheus = path.join(dir, "tampered-host", "prometheus-data");
    const grafana = path.join(dir, "tampered-host", "grafana-data");
    const res = run("monitoring-restore", ["--prometheus-volume", prometheus, "--grafana-volume", grafana]);
    expect(res.status).not.toBe(0);
    expect(res.stderr).toMatch(/prometheus\.tar\.gz is \d+ bytes, the manifest says \d+|checksum of prometheus\.tar\.gz does not match/);
    expect(fs.existsSync(prometheus) && fs.readdirSync(prometheus).length > 0).toBe(false);

    const none = run("monitoring-restore", ["--prometheus-volume", prometheus, "--grafana-volume", grafana, "--from-prefix", "never-backed-up"]);
    expect(none.status, none.stderr).toBe(0);
    expect(none.stdout).toContain("monitoring-restored: none");
    expect(none.stderr).toContain("warning: no monitoring backup under");

    // A bucket that cannot be listed is no "no backup": the step fails rather than start both empty.
    const unlisted = run("monitoring-restore", ["--prometheus-volume", prometheus, "--grafana-volume", grafana, "--from-bucket", "no-such-bucket"]);
    expect(unlisted.status).not.toBe(0);
    expect(unlisted.stdout).not.toContain("monitoring-restored");
    expect(unlisted.stderr).toContain("cannot list s3://no-such-bucket/mon/monitoring/");
  });

  it("uploads nothing from a host that no longer takes the app's backups, and names its three timers to turn off", () => {
    const units = fs.mkdtempSync(path.join(dir, "units-"));
    fs.writeFileSync(path.join(units, "runbook-monitoring-backup-mon.timer"), "[Timer]\n");
    const res = run("monitoring-backup", [], { RUNBOOK_HOST_ID: "the-old-host", RUNBOOK_UNIT_DIR: units });
    expect(res.status).not.toBe(0);
    expect(res.stderr).toContain("no longer takes mon's backups");
    expect(res.stderr).toContain("systemctl disable --now runbook-backup-mon.timer runbook-backup-verify-mon.timer runbook-monitoring-backup-mon.timer.");
    expect(metricValue(jobs.metrics(), "runbook_backup_last_status", "mon", "monitoring")).toBe(0);
  });

  it("on a host without sqlite3, copies grafana.db with its hot journal while Grafana is paused: the restored file is the last committed state, not a transaction's half", async () => {
    // A Grafana writing when the backup comes: a transaction that has already overwritten pages of the
    // file (a one-page cache spills them), its journal holding the old ones.
    const live = path.join(dir, "grafana-live");
    fs.mkdirSync(live);
    const db = path.join(live, "grafana.db");
    sqlite(db, "CREATE TABLE annotation (id INTEGER PRIMARY KEY, text TEXT); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) INSERT INTO annotation (text) SELECT hex(randomblob(100)) FROM n;");
    const digest = (file: string) => sqlite(file, "SELECT count(*), sum(unicode(substr(text, 1, 1)) * id) FROM annotation;");
    const committed = digest(db);
    const writer = spawn(requireTool("sqlite3"), [db], { stdio: ["pipe", "ignore", "ignore"] });
    writer.stdin.write("PRAGMA cache_size=1;\nBEGIN;\nUPDATE annotation SET text = hex(randomblob(100));\n");
    try {
      const deadline = Date.now() + 20_000;
      while (!fs.existsSync(`${db}-journal`)) {
        if (Date.now() > deadline) throw new Error("no journal within 20 s");
        await sleep(50);
      }
      await sleep(500);
      const docker = dockerStandIn(path.join(dir, "paused-docker"), {
        containers: [
          { id: "prometheus-id", name: "mon-monitoring-prometheus-1a2b", labels: { "runbook.app": "mon", "runbook.service": "monitoring:prometheus" }, image: "prom/prometheus:v2.53.2", imageId: "sha256:p", mounts: { "/prometheus": source.prometheus } },
          { id: "grafana-id", name: "mon-monitoring-grafana-1a2b", labels: { "runbook.app": "mon", "runbook.service": "monitoring:grafana" }, image: "grafana/grafana:11.2.0", imageId: "sha256:g", mounts: { "/var/lib/grafana": live } },
        ],
      });
      const res = run("monitoring-backup", ["--id", "paused-copy"], { ...docker.env, ...jobs.withSettings({ DOCKER: "1" }), SQLITE3: path.join(dir, "no-sqlite3-here") });
      expect(res.status, res.stderr).toBe(0);
      expect(res.stderr).toContain("sqlite3 is not on this host: grafana.db is copied with its journal while Grafana is paused");
      const calls = docker.calls().map((c) => c.join(" "));
      const paused = calls.indexOf("pause grafana-id");
      expect(paused).toBeGreaterThanOrEqual(0);
      expect(calls[paused + 1]).toBe("unpause grafana-id");
    } finally {
      writer.kill("SIGKILL");
    }
    const restored = path.join(dir, "paused-restore");
    const res = run("monitoring-restore", ["--id", "paused-copy", "--prometheus-volume", path.join(restored, "prometheus"), "--grafana-volume", path.join(restored, "grafana")]);
    expect(res.status, res.stderr).toBe(0);
    expect(digest(path.join(restored, "grafana", "grafana.db"))).toBe(committed);
    expect(sqlite(path.join(restored, "grafana", "grafana.db"), "PRAGMA integrity_check;")).toBe("ok");
  }, 60_000);

  it("makes and fetches its archives on disk beside the local backups, never in a /tmp that cannot hold them, and leaves nothing there", () => {
    // A /tmp that cannot take the archives (Debian 13's tmpfs of half the memory, full): none at all here.
    const noTmp = { TMPDIR: path.join(dir, "no-such-tmp") };
    const stale = path.join(jobs.localDir, ".monitoring-work.killed");
    fs.mkdirSync(stale, { recursive: true });
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
    fs.utimesSync(stale, twoDaysAgo, twoDaysAgo);
    const backup = run("monitoring-backup", [], { ...jobs.withSettings({ PREFIX: "mon-disk" }), ...noTmp });
    expect(backup.status, backup.stderr).toBe(0);
    const prometheus = path.join(dir, "disk-host", "prometheus-data");
    const grafana = path.join(dir, "disk-host", "grafana-data");
    const restored = run("monitoring-restore", ["--prometheus-volume", prometheus, "--grafana-volume", grafana, "--from-prefix", "mon-disk"], noTmp);
    expect(restored.status, restored.stderr).toBe(0);
    expect(restored.stderr).toContain(`Prometheus: restored ${blockCount} blocks into ${prometheus}`);
    expect(fs.readdirSync(jobs.localDir).filter((n) => n.startsWith(".monitoring-work")), "work directories left, the killed run's among them").toEqual([]);
  });

  it("archives again when Prometheus removes a block while tar reads it, never keeping a partial block a restored Prometheus refuses", async () => {
    // Fresh blocks of the same samples, under a prefix of their own.
    const racing = path.join(dir, "racing", "prometheus");
    const created = sh(requireTool("promtool"), ["tsdb", "create-blocks-from", "openmetrics", path.join(dir, "samples.om"), racing]);
    expect(created.status, created.stderr).toBe(0);
    const blocks = fs.readdirSync(racing).filter((n) => /^[0-9A-Z]{26}$/.test(n)).sort();
    expect(blocks.length).toBeGreaterThan(1);
    // tar, except that the first archive of the blocks loses the first block the way compaction or
    // retention removes one (renamed `<ULID>.tmp-for-deletion`, then deleted: tsdb/db.go deleteBlocks)
    // once tar has begun it (its first 512-byte record written).
    const bin = path.join(dir, "racing", "bin");
    fs.mkdirSync(bin);
    const victim = path.join(racing, blocks[0]!);
    fs.writeFileSync(path.join(bin, "remove-block.sh"), `if [ -d '${victim}' ]; then mv '${victim}' '${victim}.tmp-for-deletion' && rm -rf '${victim}.tmp-for-deletion'; fi\n`);
    fs.writeFileSync(
      path.join(bin, "tar"),
      [
        "#!/bin/sh",
        `case " $* " in *" -T "*) if [ ! -e '${bin}/raced' ]; then : > '${bin}/raced'; exec /usr/bin/tar -b 1 --checkpoint=1 --checkpoint-action='exec=sh ${bin}/remove-block.sh' "$@"; fi ;; esac`,
        'exec /usr/bin/tar "$@"',
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    const env = { ...jobs.withSettings({ PREFIX: "mon-race", PROMETHEUS_DIR: racing }), PATH: `${bin}:${process.env["PATH"] ?? ""}` };
    const res = run("monitoring-backup", [], env);
    expect(res.status, res.stderr).toBe(0);
    expect(fs.existsSync(path.join(bin, "raced")), "the stand-in removed a block").toBe(true);
    expect(res.stderr).toContain("archiving again");

    // Every block in the archive is whole, and they are the blocks still there.
    const key = /^monitoring-backup-key: (\S+)\/$/m.exec(res.stdout)![1]!;
    const local = path.join(dir, "racing", "fetched");
    expect(s3cli(["s3", "cp", "--recursive", `s3://${s3.bucket}/${key}/`, local]).status).toBe(0);
    const members = sh("tar", ["-tzf", path.join(local, MONITORING_ARCHIVES.prometheus)]).stdout.split("\n").filter(Boolean);
    const archived = [...new Set(members.map((m) => m.split("/")[1]!))].sort();
    expect(archived).toEqual(blocks.slice(1));
    for (const b of archived) for (const file of ["meta.json", "index", "chunks/000001"]) expect(members, `${b}/${file}`).toContain(`./${b}/${file}`);

    // A real Prometheus starts on the restored blocks and serves what they hold.
    const prometheus = path.join(dir, "racing", "new-host", "prometheus-data");
    const grafana = path.join(dir, "racing", "new-host", "grafana-data");
    const restored = run("monitoring-restore", ["--prometheus-volume", prometheus, "--grafana-volume", grafana, "--from-prefix", "mon-race"]);
    expect(restored.status, restored.stderr).toBe(0);
    const served = await servedSamples(prometheus);
    expect(served.length).toBeGreaterThan(0);
    for (const sample of served) expect(samples).toContainEqual(sample);
  }, 120_000);

  it("finishes a restore that broke off: the next run restores whole blocks into a volume with its owner, rather than keep a partial one", async () => {
    const backup = run("monitoring-backup", [], jobs.withSettings({ PREFIX: "mon-resume" }));
    expect(backup.status, backup.stderr).toBe(0);
    // tar, except that the first extraction of the Prometheus archive stops with its blocks' indexes
    // not yet written (a full disk, a dropped connection).
    const bin = path.join(dir, "resume", "bin");
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(
      path.join(bin, "tar"),
      [
        "#!/bin/sh",
        `case " $* " in *" -xzf "*/${MONITORING_ARCHIVES.prometheus}" "*) if [ ! -e '${bin}/broke' ]; then : > '${bin}/broke'; /usr/bin/tar "$@"; for b in "$2"/*/; do rm -f "\${b}index"; done; echo "tar: No space left on device" >&2; exit 2; fi ;; esac`,
        'exec /usr/bin/tar "$@"',
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    const prometheus = path.join(dir, "resume", "new-host", "prometheus-data");
    const grafana = path.join(dir, "resume", "new-host", "grafana-data");
    fs.mkdirSync(prometheus, { recursive: true, mode: 0o755 });
    fs.mkdirSync(grafana, { recursive: true, mode: 0o755 });
    const args = ["--prometheus-volume", prometheus, "--grafana-volume", grafana, "--from-prefix", "mon-resume"];
    const broke = run("monitoring-restore", args, { PATH: `${bin}:${process.env["PATH"] ?? ""}` });
    expect(broke.status).not.toBe(0);
    expect(fs.existsSync(path.join(bin, "broke")), "the stand-in broke the extraction off").toBe(true);

    const again = run("monitoring-restore", args);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toContain(`Prometheus: restored ${blockCount} blocks into ${prometheus}`);
    expect(fs.readdirSync(prometheus).filter((n) => n.startsWith(".")), "nothing left of the broken run").toEqual([]);
    const owner = (p: string) => `${fs.statSync(p).uid}:${fs.statSync(p).gid} ${(fs.statSync(p).mode & 0o777).toString(8)}`;
    expect(owner(prometheus)).toBe(owner(source.prometheus));
    expect(await servedSamples(prometheus)).toEqual(samples);
  }, 120_000);
});

describe("the backup alerts, fed the metrics files the monitoring data's backup wrote", () => {
  const app = stackSpec("prod").apps.find((a) => a.id === "reference")!;
  const appSpec: ScriptSpec = { appId: app.id, engine: "postgres", uploads: false, configDir: `/etc/runbook-backup/${app.id}` };

  /** Runs monitoring-backup.sh of the reference app with these settings (a jobs directory of its own) and returns its metrics file. */
  function monitoringBackup(settings: Record<string, string>, succeeds: boolean): string {
    const own = installJobs(appSpec, s3, settings);
    try {
      fs.writeFileSync(path.join(own.dir, "monitoring-backup.sh"), renderMonitoringBackupScript(appSpec), { mode: 0o755 });
      const res = sh("sh", [path.join(own.dir, "monitoring-backup.sh")], { env: own.environment() });
      expect(res.status === 0, res.stderr).toBe(succeeds);
      return own.metrics();
    } finally {
      fs.rmSync(own.dir, { recursive: true, force: true });
    }
  }

  /** promtool on the app's rendered rules, the file's samples as the node exporter's (timestamps at minute 0): whether `alert` fires at `minute`. */
  function fires(written: string, alert: string, minute: number): string {
    // As Prometheus stores what the node exporter scraped: the file's names and labels, plus the target's.
    const input_series = written
      .split("\n")
      .filter((l) => l !== "" && !l.startsWith("#"))
      .map((l) => {
        const [, name, labels, value] = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(l)!;
        return { series: `${name}{${labels},instance="node-exporter:9100",job="${JOBS.node}"}`, values: `${name!.endsWith("_timestamp_seconds") ? 0 : value}+0x${minute + 10}` };
      });
    const rule = alertRules(alertRulesSpec(app)).find((r) => r.alert === alert)!;
    const work = fs.mkdtempSync(path.join(dir, "alert-"));
    fs.writeFileSync(path.join(work, "rules.yml"), renderAlertRules(alertRulesSpec(app)));
    const tests = [{ interval: "1m", input_series, alert_rule_test: [{ eval_time: `${minute}m`, alertname: rule.alert, exp_alerts: [{ exp_labels: rule.labels, exp_annotations: rule.annotations }] }] }];
    fs.writeFileSync(path.join(work, "tests.yml"), stringify({ rule_files: ["rules.yml"], evaluation_interval: "1m", tests }, { lineWidth: 0 }));
    const promtool = spawnSync(requireTool("promtool"), ["test", "rules", "tests.yml"], { cwd: work, encoding: "utf8", timeout: 60_000 });
    return `${promtool.stdout}${promtool.stderr}`;
  }

  it("fires MonitoringBackupStale when the job has failed every time it ran: there is no success to age", () => {
    expect(app.monitoring && app.backups.monitoringData).toBeTruthy();
    // A host where the job cannot read Prometheus' data (no container, no sqlite3: the same status).
    const written = monitoringBackup({ PROMETHEUS_DIR: path.join(dir, "no-prometheus"), GRAFANA_DIR: source.grafana }, false);
    expect(metricValue(written, "runbook_backup_last_status", app.id, "monitoring")).toBe(0);
    expect(metricValue(written, "runbook_backup_last_success_timestamp_seconds", app.id, "monitoring")).toBeUndefined();
    expect(fires(written, "MonitoringBackupStale", 10)).toContain("SUCCESS");
  });

  it("still fires BackupMetricsMissing when only the monitoring data's backup has succeeded: the database has never been backed up", () => {
    const written = monitoringBackup({ PREFIX: "reference-missing", PROMETHEUS_DIR: source.prometheus, GRAFANA_DIR: source.grafana }, true);
    expect(metricValue(written, "runbook_backup_last_status", app.id, "monitoring")).toBe(1);
    expect(metricValue(written, "runbook_backup_last_success_timestamp_seconds", app.id, "database")).toBeUndefined();
    expect(fires(written, "BackupMetricsMissing", 61)).toContain("SUCCESS");
  });
});
