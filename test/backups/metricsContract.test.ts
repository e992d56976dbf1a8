/**
 * One contract between the backup jobs and the alert rules: the metrics file a real backup and
 * verification write (SQLite app with uploads, local S3 API) is fed, names and labels as written,
 * to promtool with the app's own rendered alert rules. BackupTooOld must fire once the written
 * backup is older than the threshold and not before; BackupMetricsMissing and
 * BackupVerificationFailed stay quiet on what the jobs wrote. A renamed metric or label on either
 * side makes one of these fail.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { BACKUP_METRICS, TEXTFILE_DIR } from "../../components/backups/metrics";
import { alertRules, renderAlertRules } from "../../components/monitoring/alertRules";
import { JOBS } from "../../components/monitoring/signalModels";
import { shellQuote } from "../../components/shared/shell";
import { alertRulesSpec } from "../../components/monitoring/specs";
import { ALERT_SIGNALS } from "../../policies/monitoring/signals";
import { stackSpec } from "../helpers";
import { requireTool, tempDir } from "../tools/realTools";
import { installJobs, startS3, type Jobs, type S3Server } from "./servers";

/** Every app of the committed stacks that runs monitoring, for the name and directory checks. */
const apps = ["prod", "staging"].flatMap((stack) => stackSpec(stack).apps.map((a) => ({ stack, app: a })));
/** The app whose jobs run for real here: SQLite with uploads, so both kinds are written. */
const handwork = stackSpec("prod").apps.find((a) => a.id === "handwork")!;

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of a Prometheus text-format file (no timestamps; the textfile collector refuses them). */
function parseTextfile(text: string): Sample[] {
  return text
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(l);
      if (!m) throw new Error(`not a sample line: ${l}`);
      const labels = Object.fromEntries([...(m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1]!, x[2]!]));
      return { name: m[1]!, labels, value: Number(m[3]) };
    });
}

const selector = (name: string, labels: Readonly<Record<string, string>>) =>
  `${name}{${Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v}"`)
    .join(",")}}`;

let s3: S3Server;
let jobs: Jobs;
let written = "";
const dir = tempDir("metrics-contract");

beforeAll(async () => {
  s3 = await startS3();
  const data = path.join(dir, "data");
  const uploads = path.join(dir, "uploads");
  fs.mkdirSync(data);
  fs.mkdirSync(path.join(uploads, "listing-1"), { recursive: true });
  fs.writeFileSync(path.join(uploads, "listing-1", "photo.jpg"), Buffer.alloc(4_000, 7));
  const db = path.join(data, "handwork_marketplace.db");
  const res = spawnSync(requireTool("sqlite3"), [db], {
    input: "PRAGMA journal_mode=WAL; CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT); INSERT INTO users (email) VALUES ('a@example.com'), ('b@example.com');",
    encoding: "utf8",
  });
  if (res.status !== 0) throw new Error(`sqlite3 failed: ${res.stderr}`);
  jobs = installJobs({ appId: handwork.id, engine: "sqlite", uploads: true, configDir: `/etc/runbook-backup/${handwork.id}` }, s3, { SQLITE_PATH: db, UPLOADS_DIR: uploads });
  const backup = jobs.run("backup", ["--reason", "scheduled"]);
  if (backup.status !== 0) throw new Error(`backup failed: ${backup.stderr}`);
  const verify = jobs.run("verify");
  if (verify.status !== 0) throw new Error(`verify failed: ${verify.stderr}`);
  written = jobs.metrics();
}, 120_000);

afterAll(async () => {
  await s3?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("the backup jobs' metrics and the alert rules that read them", () => {
  it("writes exactly the metric names the rules and the dashboard read, each labelled with the app and the kind", () => {
    const samples = parseTextfile(written);
    expect([...new Set(samples.map((s) => s.name))].sort()).toEqual(Object.values(BACKUP_METRICS).sort());
    for (const s of samples) expect(Object.keys(s.labels).sort(), s.name).toEqual(["app", "kind"]);
    expect(new Set(samples.map((s) => s.labels["kind"]))).toEqual(new Set(["database", "uploads"]));
    expect(ALERT_SIGNALS.backupAge.metric).toBe(BACKUP_METRICS.lastSuccess);
    // Every backup metric a rule of any app names is one the jobs write.
    for (const { app } of apps.filter((a) => a.app.monitoring)) {
      const named = alertRules(alertRulesSpec(app)).flatMap((r) => r.expr.match(/runbook_backup_[a-z_]+/g) ?? []);
      expect(named.length, app.id).toBeGreaterThan(0);
      for (const name of named) expect(Object.values(BACKUP_METRICS) as string[], `${app.id}: ${name}`).toContain(name);
    }
  });

  it("mounts, for every app's node exporter, the directory its backup jobs write to", async () => {
    const { runUnderMocks } = await import("../../plan/mockRuntime");
    const { inputs } = await import("../helpers");
    for (const stack of ["prod", "staging"]) {
      const spec = stackSpec(stack);
      const { resources } = await runUnderMocks(spec, `metrics-dir-${stack}`);
      for (const app of spec.apps.filter((a) => a.monitoring)) {
        const exporter = resources.find((r) => r.name === `${app.id}-monitoring-node-exporter`)!;
        const mounts = inputs(exporter)["volumes"] as { hostPath?: string; containerPath: string }[];
        const textfile = mounts.find((v) => v.containerPath === "/textfile");
        expect(textfile?.hostPath, `${stack}/${app.id}`).toBe(app.backups.metricsDir);
        // The same directory the installed jobs are told to write to.
        const install = resources.find((r) => r.name === `${app.id}-backups-install`)!;
        expect(String(inputs(install)["create"]), `${stack}/${app.id}`).toContain(`METRICS_DIR=${shellQuote(app.backups.metricsDir)}`);
      }
    }
    expect(handwork.backups.metricsDir).toBe(TEXTFILE_DIR);
  });

  it("fires BackupTooOld on the written file once the backup is older than the threshold, and not before; the other backup rules stay quiet", () => {
    const spec = alertRulesSpec(handwork);
    const hours = spec.alerts.backupAge!.threshold;
    const rule = alertRules(spec).find((r) => r.alert === ALERT_SIGNALS.backupAge.alert)!;
    // As Prometheus stores what the node exporter scraped: the file's own names and labels, plus
    // the target's. Times become "the backup ended at minute 0" of promtool's clock.
    const target = { instance: "node-exporter:9100", job: JOBS.node };
    const minutes = (hours + 2) * 60;
    const input_series = parseTextfile(written).map((s) => ({
      series: selector(s.name, { ...s.labels, ...target }),
      values: `${s.name.endsWith("_timestamp_seconds") ? 0 : s.value}+0x${minutes}`,
    }));
    const tests = [
      {
        interval: "1m",
        input_series,
        alert_rule_test: [
          { eval_time: `${hours * 60 - 5}m`, alertname: rule.alert, exp_alerts: [] },
          {
            eval_time: `${hours * 60 + 5}m`,
            alertname: rule.alert,
            exp_alerts: ["database", "uploads"].map((kind) => ({ exp_labels: { ...rule.labels, app: handwork.id, kind }, exp_annotations: rule.annotations })),
          },
          { eval_time: "90m", alertname: "BackupMetricsMissing", exp_alerts: [] },
          { eval_time: "10m", alertname: "BackupVerificationFailed", exp_alerts: [] },
        ],
      },
    ];
    fs.writeFileSync(path.join(dir, "rules.yml"), renderAlertRules(spec));
    fs.writeFileSync(path.join(dir, "tests.yml"), stringify({ rule_files: ["rules.yml"], evaluation_interval: "1m", tests }, { lineWidth: 0 }));
    const res = spawnSync(requireTool("promtool"), ["test", "rules", "tests.yml"], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    expect(`${res.stdout}${res.stderr}`).toContain("SUCCESS");
    expect(res.status).toBe(0);

    // The same test on a file whose writer renamed the label `kind`: the rule no longer matches it.
    const renamed = input_series.map((s) => ({ ...s, series: s.series.replace("kind=", "type=") }));
    fs.writeFileSync(path.join(dir, "tests-renamed.yml"), stringify({ rule_files: ["rules.yml"], evaluation_interval: "1m", tests: [{ ...tests[0]!, input_series: renamed }] }, { lineWidth: 0 }));
    expect(spawnSync(requireTool("promtool"), ["test", "rules", "tests-renamed.yml"], { cwd: dir, encoding: "utf8", timeout: 60_000 }).status).not.toBe(0);
  });
});
