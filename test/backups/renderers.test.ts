/**
 * The pure modules of the backups area, on plain inputs: schedules (checked against cron-parser and
 * systemd's own calendar parser), the lifecycle, the writer and bucket policies, jobs.env, the units
 * and the installer (run for real under a scratch root), and shellcheck on every rendered script.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { CronExpressionParser } from "cron-parser";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { renderTlsOnlyBucketPolicy, renderWriterPolicy, WRITER_DENIED_ACTIONS } from "../../components/backups/accessPolicies";
import { renderBackupScript } from "../../components/backups/backupScript";
import { renderInstallScript, renderUninstallScript, renderUnits } from "../../components/backups/hostInstall";
import { parseJobConfig, renderJobConfig } from "../../components/backups/jobConfig";
import { lifecycleRules } from "../../components/backups/lifecycle";
import { BACKUP_METRIC_HELP, BACKUP_METRICS } from "../../components/backups/metrics";
import { MONITORING_DATA_SCHEDULE, renderMonitoringBackupScript, renderMonitoringRestoreScript } from "../../components/backups/monitoringData";
import { renderPruneScript } from "../../components/backups/pruneScript";
import { renderRestoreScript } from "../../components/backups/restoreScript";
import { maxGapHours, scheduleProblem, toOnCalendar } from "../../components/backups/schedule";
import { renderVerifyScript } from "../../components/backups/verifyScript";
import { requireTool, tempDir } from "../tools/realTools";

describe("schedules", () => {
  it.each([
    ["0 2 * * *", "*-*-* 02:00:00 UTC", 24],
    ["0 * * * *", "*-*-* *:00:00 UTC", 1],
    ["*/15 * * * *", "*-*-* *:00,15,30,45:00 UTC", 0.25],
    ["30 5 * * *", "*-*-* 05:30:00 UTC", 24],
    ["0 3 * * 0", "Sun *-*-* 03:00:00 UTC", 168],
    ["0 2 * * 7", "Sun *-*-* 02:00:00 UTC", 168],
    ["30 4 * * MON-FRI", "Mon,Tue,Wed,Thu,Fri *-*-* 04:30:00 UTC", 72],
    ["0 0 1,15 * *", "*-*-01,15 00:00:00 UTC", 408],
    ["0 3 1 * *", "*-*-01 03:00:00 UTC", 744],
  ])("%s runs as systemd's %s, at most %d h apart", (cron, calendar, gap) => {
    expect(toOnCalendar(cron)).toBe(calendar);
    expect(maxGapHours(cron)).toBe(gap);
  });

  it.each([
    ["@daily", "must be a cron expression of five fields"],
    ["0 2 * * * *", "must be a cron expression of five fields"],
    ["61 2 * * *", "is not a valid cron expression"],
    ["0 2 L * *", "uses a day-of-month form (L, W or #) that a systemd timer cannot express"],
    ["0 2 1 * 1", "restricts both the day of the month and the day of the week"],
  ])("refuses %s", (cron, message) => {
    expect(scheduleProblem(cron)).toContain(message);
  });

  const cronArb = fc
    // At most four runs a day: cron-parser's iteration over eight years below stays quick.
    .tuple(fc.integer({ min: 0, max: 59 }).map(String), fc.oneof(fc.integer({ min: 0, max: 23 }).map(String), fc.constantFrom("*/6", "*/12", "1,13")), fc.oneof(fc.constant("*"), fc.integer({ min: 1, max: 28 }).map(String)), fc.oneof(fc.constant("*"), fc.constantFrom("1,7", "3")), fc.oneof(fc.constant("*"), fc.constantFrom("1", "1-5", "0,6")))
    .filter(([, , dom, , dow]) => dom === "*" || dow === "*")
    .map((f) => f.join(" "));

  it("measures the longest gap as cron-parser's own iteration does, for any schedule", () => {
    fc.assert(
      fc.property(cronArb, (cron) => {
        const it = CronExpressionParser.parse(cron, { tz: "UTC", currentDate: new Date("2028-01-01T00:00:00Z") });
        let previous = it.next().getTime();
        let longest = 0;
        while (previous < Date.UTC(2036, 0, 1)) {
          const next = it.next().getTime();
          if (next > Date.UTC(2036, 0, 1)) break;
          longest = Math.max(longest, next - previous);
          previous = next;
        }
        expect(maxGapHours(cron)).toBeCloseTo(longest / 3_600_000, 6);
      }),
      { numRuns: 25, seed: 8 },
    );
  });

  it("fires at the times cron does, as systemd-analyze reads the calendar", () => {
    const analyze = requireTool("systemd-analyze");
    for (const cron of ["0 2 * * *", "30 4 * * MON-FRI", "0 0 1,15 * *", "*/20 3 * 1,7 *"]) {
      const res = spawnSync(analyze, ["calendar", "--iterations=5", "--base-time=2028-01-01 00:00:00 UTC", toOnCalendar(cron)], { encoding: "utf8", env: { ...process.env, TZ: "UTC" } });
      expect(res.status, res.stderr).toBe(0);
      const systemd = [...res.stdout.matchAll(/(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC/g)].map((m) => new Date(`${m[1]!.replace(" ", "T")}Z`).getTime());
      const it = CronExpressionParser.parse(cron, { tz: "UTC", currentDate: new Date("2028-01-01T00:00:00Z") });
      expect(systemd, cron).toEqual(Array.from({ length: 5 }, () => it.next().getTime()));
    }
  });
});

describe("the bucket lifecycle", () => {
  it.each([
    [90, 30, [30, 60]],
    [45, 10, [30]],
    [30, 30, []],
    [365, 60, [30, 60]],
  ])("expires after %d days, noncurrent after %d, transitions at %j, and aborts incomplete uploads", (expire, noncurrent, transitions) => {
    const [main, markers] = lifecycleRules({ cloudRetentionDays: expire, noncurrentDays: noncurrent });
    expect(main!.expiration).toEqual({ days: expire });
    expect(main!.noncurrentVersionExpiration).toEqual({ noncurrentDays: noncurrent });
    expect((main!.transitions ?? []).map((t) => t.days)).toEqual(transitions);
    expect(main!.transitions?.[1]?.storageClass ?? "GLACIER_IR").toBe("GLACIER_IR");
    expect(main!.abortIncompleteMultipartUpload).toEqual({ daysAfterInitiation: 7 });
    expect(markers!.expiration).toEqual({ expiredObjectDeleteMarker: true });
  });

  it("refuses days that are not whole and positive", () => {
    expect(() => lifecycleRules({ cloudRetentionDays: 0, noncurrentDays: 30 })).toThrow("`cloudRetentionDays` must be a whole number of at least 1");
    expect(() => lifecycleRules({ cloudRetentionDays: 90, noncurrentDays: 1.5 })).toThrow("`noncurrentDays` must be a whole number of at least 1");
  });
});

describe("access policies", () => {
  const bucketArn = "arn:aws:s3:::lms-prod-backups-1";
  const kmsKeyArn = "arn:aws:kms:eu-west-1:111111111111:key/abc";

  it("lets the writer put and get under its own prefix only, use its key, and never delete or change retention", () => {
    const doc = renderWriterPolicy({ bucketArn, prefix: "lms", kmsKeyArn });
    const allow = doc.Statement.filter((s) => s.Effect === "Allow");
    expect(allow.flatMap((s) => s.Action).sort()).toEqual(["kms:Decrypt", "kms:GenerateDataKey", "s3:GetObject", "s3:ListBucket", "s3:PutObject"]);
    expect(allow.find((s) => s.Action.includes("s3:PutObject"))!.Resource).toEqual([`${bucketArn}/lms/*`]);
    expect(allow.find((s) => s.Action.includes("s3:ListBucket"))!.Condition).toEqual({ StringLike: { "s3:prefix": ["lms/*", "lms/", "lms"] } });
    expect(allow.find((s) => s.Action.includes("kms:Decrypt"))!.Resource).toEqual([kmsKeyArn]);
    const deny = doc.Statement.find((s) => s.Effect === "Deny")!;
    expect(deny.Action).toEqual(WRITER_DENIED_ACTIONS);
    expect(deny.Action).toEqual(expect.arrayContaining(["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention", "s3:PutObjectRetention", "s3:PutLifecycleConfiguration"]));
    expect(deny.Resource).toEqual([bucketArn, `${bucketArn}/*`]);
  });

  it("gives a recovery stack read access to its source's prefix and key, and nothing more", () => {
    const source = { bucketArn: "arn:aws:s3:::old-backups", prefix: "lms", kmsKeyArn: "arn:aws:kms:eu-west-1:111111111111:key/old" };
    const doc = renderWriterPolicy({ bucketArn, prefix: "lms", kmsKeyArn, readSources: [source] });
    const onSource = doc.Statement.filter((s) => s.Effect === "Allow" && s.Sid.startsWith("RestoreSource0"));
    expect(onSource.flatMap((s) => s.Action).sort()).toEqual(["kms:Decrypt", "s3:GetObject", "s3:ListBucket"]);
    expect(onSource.flatMap((s) => s.Resource)).toEqual(["arn:aws:s3:::old-backups/lms/*", "arn:aws:s3:::old-backups", source.kmsKeyArn]);
    expect(doc.Statement.find((s) => s.Effect === "Deny")!.Resource).toContain("arn:aws:s3:::old-backups/*");
  });

  it("refuses a prefix with slashes", () => {
    expect(() => renderWriterPolicy({ bucketArn, prefix: "lms/", kmsKeyArn })).toThrow("`prefix` must be lowercase letters, digits and '-', without slashes");
  });

  it("denies every request without TLS, for everyone", () => {
    expect(renderTlsOnlyBucketPolicy(bucketArn).Statement).toEqual([
      { Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: ["s3:*"], Resource: [bucketArn, `${bucketArn}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } },
    ]);
  });
});

describe("what the host receives", () => {
  it("reads jobs.env back as written, for any value", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^[A-Z][A-Z0-9_]{0,12}$/), fc.string().filter((s) => !/[\r\n]/.test(s))), (settings) => {
        expect(parseJobConfig(renderJobConfig(settings))).toEqual(settings);
      }),
      { seed: 3 },
    );
  });

  it("exports every metric the monitoring area reads, with help", () => {
    expect(Object.values(BACKUP_METRICS).sort()).toEqual([
      "runbook_backup_last_attempt_timestamp_seconds",
      "runbook_backup_last_duration_seconds",
      "runbook_backup_last_size_bytes",
      "runbook_backup_last_status",
      "runbook_backup_last_success_timestamp_seconds",
      "runbook_backup_restore_duration_seconds",
      "runbook_backup_verify_last_status",
      "runbook_backup_verify_last_success_timestamp_seconds",
    ]);
    for (const name of Object.values(BACKUP_METRICS)) expect(BACKUP_METRIC_HELP[name]).toMatch(/\.$/);
  });

  const specs = (["postgres", "sqlite"] as const).flatMap((engine) => [false, true].map((uploads) => ({ appId: "app", engine, uploads, configDir: "/etc/runbook-backup/app" })));

  it("renders every script shellcheck-clean as POSIX sh, for both engines, with and without uploads", () => {
    const dir = tempDir("backup-shellcheck");
    const files: string[] = [];
    for (const spec of specs) {
      for (const [name, render] of Object.entries({ backup: renderBackupScript, verify: renderVerifyScript, restore: renderRestoreScript, prune: renderPruneScript })) {
        const file = path.join(dir, `${name}-${spec.engine}-${spec.uploads}.sh`);
        fs.writeFileSync(file, render(spec));
        files.push(file);
      }
    }
    for (const [name, render] of Object.entries({ "monitoring-backup": renderMonitoringBackupScript, "monitoring-restore": renderMonitoringRestoreScript })) {
      const file = path.join(dir, `${name}.sh`);
      fs.writeFileSync(file, render(specs[0]!));
      files.push(file);
    }
    const units = renderUnits({ appId: "app", backupCalendar: "*-*-* 02:00:00 UTC", verifyCalendar: "*-*-* 05:30:00 UTC", monitoringCalendar: "*-*-* 03:15:00 UTC" });
    const installer = path.join(dir, "install.sh");
    fs.writeFileSync(installer, renderInstallScript({ appId: "app", scripts: { "backup.sh": renderBackupScript(specs[0]!) }, jobConfig: renderJobConfig({ BUCKET: "b" }), units, localDir: "/var/backups/runbook/app" }));
    const res = spawnSync(requireTool("shellcheck"), ["--shell=sh", "--severity=style", ...files, installer], { encoding: "utf8" });
    expect(res.status, res.stdout).toBe(0);
  });

  it("installs the scripts, jobs.env, the credentials from stdin (root only) and the timers, under a scratch root", () => {
    const root = tempDir("install-root");
    const log = path.join(root, "systemctl.log");
    const fakeSystemctl = path.join(root, "systemctl");
    fs.writeFileSync(fakeSystemctl, `#!/bin/sh\necho "$*" >> ${log}\n`, { mode: 0o755 });
    const units = renderUnits({ appId: "lms", backupCalendar: toOnCalendar("0 2 * * *"), verifyCalendar: toOnCalendar("30 5 * * *") });
    const spec = { appId: "lms", engine: "postgres" as const, uploads: false, configDir: "/etc/runbook-backup/lms" };
    const script = renderInstallScript({ appId: "lms", scripts: { "backup.sh": renderBackupScript(spec), "prune.sh": renderPruneScript(spec) }, jobConfig: renderJobConfig({ BUCKET: "lms-bucket", PREFIX: "lms" }), units, localDir: "/var/backups/runbook/lms" });
    const res = spawnSync("sh", ["-c", script], { input: "AWS_ACCESS_KEY_ID=AKIAEXAMPLE\nAWS_SECRET_ACCESS_KEY='not-a-real-secret'\n", encoding: "utf8", env: { ...process.env, INSTALL_ROOT: root, SYSTEMCTL: fakeSystemctl } });
    expect(res.status, res.stderr).toBe(0);
    const at = (p: string) => path.join(root, p);
    expect(fs.readFileSync(at("/usr/local/lib/runbook-backup/lms/backup.sh"), "utf8")).toBe(renderBackupScript(spec));
    expect(fs.statSync(at("/usr/local/lib/runbook-backup/lms/backup.sh")).mode & 0o777).toBe(0o755);
    expect(parseJobConfig(fs.readFileSync(at("/etc/runbook-backup/lms/jobs.env"), "utf8"))).toEqual({ BUCKET: "lms-bucket", PREFIX: "lms" });
    expect(fs.readFileSync(at("/etc/runbook-backup/lms/credentials"), "utf8")).toContain("AWS_SECRET_ACCESS_KEY='not-a-real-secret'");
    expect(fs.statSync(at("/etc/runbook-backup/lms/credentials")).mode & 0o777).toBe(0o600);
    expect(fs.statSync(at("/var/backups/runbook/lms")).mode & 0o777).toBe(0o700);
    expect(fs.readFileSync(at("/etc/systemd/system/runbook-backup-lms.timer"), "utf8")).toContain("OnCalendar=*-*-* 02:00:00 UTC\nPersistent=true\n");
    expect(fs.readFileSync(at("/etc/systemd/system/runbook-backup-lms.service"), "utf8")).toContain("ExecStart=/usr/local/lib/runbook-backup/lms/backup.sh --reason scheduled\nExecStartPost=/usr/local/lib/runbook-backup/lms/prune.sh\n");
    expect(fs.readFileSync(log, "utf8")).toBe("daemon-reload\nenable --now runbook-backup-lms.timer runbook-backup-verify-lms.timer\n");
    // The secret never reaches the installer's text, its output or its command line.
    expect(script).not.toContain("not-a-real-secret");
    expect(`${res.stdout}${res.stderr}`).not.toContain("not-a-real-secret");
  });

  it("installs the monitoring data's daily timer where the app backs it up, and stops and removes it once the app no longer does", () => {
    const root = tempDir("install-monitoring");
    const log = path.join(root, "systemctl.log");
    const fakeSystemctl = path.join(root, "systemctl");
    fs.writeFileSync(fakeSystemctl, `#!/bin/sh\necho "$*" >> ${log}\n`, { mode: 0o755 });
    const spec = { appId: "ref", engine: "postgres" as const, uploads: false, configDir: "/etc/runbook-backup/ref" };
    const install = (monitoringCalendar?: string) => {
      const units = renderUnits({ appId: "ref", backupCalendar: toOnCalendar("0 * * * *"), verifyCalendar: toOnCalendar("30 5 * * *"), ...(monitoringCalendar && { monitoringCalendar }) });
      const script = renderInstallScript({ appId: "ref", scripts: { "backup.sh": renderBackupScript(spec) }, jobConfig: renderJobConfig({ BUCKET: "b" }), units, localDir: "/var/backups/runbook/ref" });
      return spawnSync("sh", ["-c", script], { input: "", encoding: "utf8", env: { ...process.env, INSTALL_ROOT: root, SYSTEMCTL: fakeSystemctl } });
    };
    const timer = path.join(root, "/etc/systemd/system/runbook-monitoring-backup-ref.timer");
    expect(install(toOnCalendar(MONITORING_DATA_SCHEDULE)).status).toBe(0);
    expect(fs.readFileSync(timer, "utf8")).toContain("OnCalendar=*-*-* 03:15:00 UTC\n");
    expect(fs.readFileSync(path.join(root, "/etc/systemd/system/runbook-monitoring-backup-ref.service"), "utf8")).toContain("ExecStart=/usr/local/lib/runbook-backup/ref/monitoring-backup.sh\n");
    expect(fs.readFileSync(log, "utf8")).toContain("enable --now runbook-backup-ref.timer runbook-backup-verify-ref.timer runbook-monitoring-backup-ref.timer\n");
    fs.rmSync(log);
    const off = install(undefined);
    expect(off.status, off.stderr).toBe(0);
    expect(fs.existsSync(timer)).toBe(false);
    expect(fs.readFileSync(log, "utf8")).toBe("disable --now runbook-monitoring-backup-ref.timer\ndaemon-reload\nenable --now runbook-backup-ref.timer runbook-backup-verify-ref.timer\n");
    // The uninstaller stops it too.
    expect(renderUninstallScript({ appId: "ref", localDir: "/var/backups/runbook/ref" })).toContain("runbook-monitoring-backup-ref.timer");
  });

  it("writes units systemd accepts", () => {
    const dir = tempDir("units");
    const units = renderUnits({ appId: "lms", backupCalendar: toOnCalendar("0 2 * * *"), verifyCalendar: toOnCalendar("30 5 * * *"), monitoringCalendar: toOnCalendar(MONITORING_DATA_SCHEDULE) });
    expect(Object.keys(units)).toContain("runbook-monitoring-backup-lms.timer");
    for (const [name, text] of Object.entries(units)) fs.writeFileSync(path.join(dir, name), text.replaceAll("/usr/local/lib/runbook-backup/lms", dir));
    for (const script of ["backup.sh", "verify.sh", "prune.sh", "monitoring-backup.sh"]) fs.writeFileSync(path.join(dir, script), "#!/bin/sh\n", { mode: 0o755 });
    const res = spawnSync(requireTool("systemd-analyze"), ["verify", ...Object.keys(units).map((u) => path.join(dir, u))], { encoding: "utf8" });
    expect(`${res.stdout}${res.stderr}`.split("\n").filter((l) => l && !/docker\.service|network-online|Failed to .*bus|Unit .* not found/i.test(l))).toEqual([]);
  });
});
