/**
 * `apps.<id>.backups`: every default pinned after resolution (written out here, so a changed default
 * fails), the runbook's numbers as each app's defaults, and every problem reported with its full key
 * path, all at once.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { BACKUP_DEFAULTS } from "../../config/backups";
import { ConfigError } from "../../config/errors";
import { parseStackConfig } from "../../config/resolve";
import type { AppSpec } from "../../config/spec";
import { ROOT } from "../helpers";

const APPS = ["fairlens", "fdts", "reference", "lms", "handwork"];

function minimal(app: string, environment = "staging", backups?: Record<string, unknown>): AppSpec {
  const cfg: Record<string, unknown> = { backend: { tag: "1.0.0" }, ...(backups && { backups }) };
  if (["fairlens", "reference", "handwork"].includes(app)) cfg["frontend"] = { tag: "1.0.0" };
  return parseStackConfig({ environment, apps: { [app]: cfg } }).apps[0]!;
}

function problemsOf(backups: Record<string, unknown>, app = "lms"): string[] {
  try {
    minimal(app, "prod", backups);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
}

/** [BACKUP_DEFAULTS leaf it pins, what it reads from a resolved app, the value for an app whose runbook is silent] */
const pinned: [string, (a: AppSpec) => unknown, unknown][] = [
  ["schedule", (a) => a.backups.schedule, "0 2 * * *"],
  ["verifySchedule", (a) => a.backups.verifySchedule, "30 5 * * *"],
  ["localRetentionDays", (a) => a.backups.localRetentionDays, 30],
  ["cloudRetentionDays", (a) => a.backups.cloudRetentionDays, 90],
  ["noncurrentVersionDays", (a) => a.backups.noncurrentVersionDays, 30],
  ["keepMin", (a) => a.backups.keepMin, 3],
  ["localDir", (a) => a.backups.localDir.replace(`/${a.id}`, ""), "/var/backups/runbook"],
  ["metricsDir", (a) => a.backups.metricsDir, "/var/lib/node_exporter/textfile"],
  ["preDeploy", (a) => a.backups.preDeploy, true],
  ["monitoringData", (a) => a.backups.monitoringData, true],
];

describe("backup defaults after resolution", () => {
  it.each(["fairlens", "fdts", "handwork"].flatMap((app) => pinned.map(([leaf, read, value]) => [app, leaf, read, value] as const)))("%s: %s defaults to the pinned value", (app, _leaf, read, value) => {
    expect(read(minimal(app))).toEqual(value);
  });

  it("pins every leaf of BACKUP_DEFAULTS", () => {
    expect([...pinned.map(([leaf]) => leaf), "hourlySchedule"].sort()).toEqual(Object.keys(BACKUP_DEFAULTS).sort());
    expect(BACKUP_DEFAULTS.hourlySchedule).toBe("0 * * * *");
  });

  it("takes each runbook's schedule and retention as the app's default", () => {
    expect(minimal("lms").backups).toMatchObject({ schedule: "0 2 * * *", localRetentionDays: 30, cloudRetentionDays: 90 });
    expect(minimal("reference").backups.schedule).toBe("0 * * * *");
  });

  it("locks and protects the backups of prod only, and keeps each app's local copies in a directory of its own", () => {
    for (const app of APPS) {
      expect(minimal(app, "prod").backups.locked, app).toBe(true);
      expect(minimal(app).backups.locked, app).toBe(false);
      expect(minimal(app).backups.localDir, app).toBe(`/var/backups/runbook/${app}`);
      expect(minimal(app).backups.restoreFrom, app).toBeUndefined();
    }
  });

  it("resolves a recovery source from another stack or a named bucket", () => {
    expect(minimal("lms", "prod", { restoreFrom: { stack: "acme/runbook/prod" } }).backups.restoreFrom).toEqual({ kind: "stack", stack: "acme/runbook/prod" });
    expect(minimal("fdts", "prod", { restoreFrom: { bucket: "old-fdts-backups", kmsKeyArn: "arn:aws:kms:eu-west-1:111111111111:key/abc-1", backup: "20260101T020000Z-scheduled" } }).backups.restoreFrom).toEqual({
      kind: "bucket",
      bucket: "old-fdts-backups",
      prefix: "fdts",
      kmsKeyArn: "arn:aws:kms:eu-west-1:111111111111:key/abc-1",
      backup: "20260101T020000Z-scheduled",
    });
  });

  it("states the defaults in the README's config reference", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    for (const row of [
      "| `apps.<id>.backups.schedule` | cron (UTC, 5 fields) | `0 2 * * *`; reference app `0 * * * *` |",
      "| `apps.<id>.backups.verifySchedule` | cron (UTC, 5 fields) | `30 5 * * *` (daily) |",
      "| `apps.<id>.backups.localRetentionDays`, `.cloudRetentionDays` | 1–3650 | 30, 90 |",
      "| `apps.<id>.backups.noncurrentVersionDays` | 1–3650 | 30 |",
      "| `apps.<id>.backups.preDeploy` | boolean | `true` |",
      "| `apps.<id>.backups.monitoringData` | boolean | `true` |",
    ]) {
      expect(readme).toContain(row);
    }
  });
});

describe("backup settings that are refused, each with its key path", () => {
  it.each([
    [{ schedule: "@daily" }, 'runbook:apps.lms.backups.schedule: must be a cron expression of five fields (minute hour day-of-month month day-of-week), such as "0 2 * * *"; got "@daily"'],
    [{ verifySchedule: "0 25 * * *" }, 'runbook:apps.lms.backups.verifySchedule: is not a valid cron expression ("0 25 * * *"): Constraint error, got value 25 expected range 0-23'],
    [{ schedule: "0 2 1 * MON" }, "runbook:apps.lms.backups.schedule: restricts both the day of the month and the day of the week"],
    [{ cloudRetentionDays: 0 }, "runbook:apps.lms.backups.cloudRetentionDays: must be at least 1 (day)"],
    [{ localRetentionDays: 120 }, "runbook:apps.lms.backups.cloudRetentionDays: must be at least localRetentionDays (120): the off-site copy keeps what the host keeps, and Object Lock holds objects for the local retention"],
    [{ localDir: "backups" }, "runbook:apps.lms.backups.localDir: must be an absolute path on the Docker host"],
    [{ restoreFrom: { stack: "prod" } }, "runbook:apps.lms.backups.restoreFrom"],
    [{ keep: 3 }, "runbook:apps.lms.backups.keep: unknown key"],
  ])("%j", (backups, expected) => {
    const problems = problemsOf(backups);
    expect(problems.some((p) => p.startsWith(expected)), problems.join("\n")).toBe(true);
  });

  it("reports every problem of a stack at once", () => {
    expect(problemsOf({ schedule: "nope", cloudRetentionDays: 10, localRetentionDays: 20 }).map((p) => p.split(":").slice(0, 2).join(":"))).toEqual([
      "runbook:apps.lms.backups.cloudRetentionDays",
      "runbook:apps.lms.backups.schedule",
    ]);
  });
});
