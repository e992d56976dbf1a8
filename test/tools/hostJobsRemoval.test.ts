/**
 * Removing an app's scheduled jobs, run for real under a stand-in root: the backups and maintenance
 * installers as the deploy steps render them for every app of the committed stacks, then the steps'
 * delete scripts. A stand-in `systemctl` keeps enablement as systemd does (a link in
 * timers.target.wants) and refuses to enable or disable a unit whose file does not exist. After the
 * delete no unit file of the app and no enabled timer remain; the local backups, restore.sh, jobs.env
 * and the credentials stay; a second delete changes nothing and succeeds.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { scriptSpec } from "../../components/backups/backupJobs";
import { renderInstallScript as renderBackupInstall, renderUninstallScript as renderBackupUninstall, renderUnits } from "../../components/backups/hostInstall";
import { renderJobConfig } from "../../components/backups/jobConfig";
import { renderRestoreScript } from "../../components/backups/restoreScript";
import { toOnCalendar } from "../../components/backups/schedule";
import { maintenanceJobs } from "../../components/maintenance";
import { renderInstallScript as renderMaintenanceInstall, renderUninstallScript as renderMaintenanceUninstall } from "../../components/maintenance/units";
import type { AppSpec } from "../../config/spec";
import { stackSpec } from "../helpers";
import { tempDir } from "./realTools";

const UNITS = "/etc/systemd/system";
const WANTS = `${UNITS}/timers.target.wants`;
const CREDENTIALS = "AWS_ACCESS_KEY_ID=AKIAEXAMPLE\nAWS_SECRET_ACCESS_KEY='not-a-real-secret'\n";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A root directory with a `systemctl` that keeps enablement as links, as systemd does. */
function standInRoot(prefix: string) {
  const root = tempDir(prefix);
  dirs.push(root);
  const systemctl = path.join(root, "systemctl");
  fs.writeFileSync(
    systemctl,
    [
      "#!/bin/sh",
      `echo "$*" >> "$INSTALL_ROOT/systemctl.log"`,
      'verb=$1; shift; [ "${1:-}" = --now ] && shift',
      'case $verb in',
      '  daemon-reload) exit 0;;',
      '  reset-failed) exit 0;;',
      "  enable|disable)",
      `    mkdir -p "$INSTALL_ROOT${WANTS}"`,
      '    for u in "$@"; do',
      `      [ -e "$INSTALL_ROOT${UNITS}/$u" ] || { echo "Failed to $verb unit: Unit file $u does not exist." >&2; exit 1; }`,
      `      if [ "$verb" = enable ]; then ln -sf "${UNITS}/$u" "$INSTALL_ROOT${WANTS}/$u"; else rm -f "$INSTALL_ROOT${WANTS}/$u"; fi`,
      "    done;;",
      '  *) echo "stand-in systemctl: $verb is not modelled" >&2; exit 1;;',
      "esac",
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  const run = (script: string, input = "") => spawnSync("sh", ["-c", script], { input, encoding: "utf8", env: { ...process.env, INSTALL_ROOT: root, SYSTEMCTL: systemctl } });
  const at = (p: string) => path.join(root, p);
  /** The app's unit files and enabled timers still on the host: what a removal must leave empty. */
  const leftovers = (pattern: RegExp) =>
    [UNITS, WANTS].flatMap((d) => (fs.existsSync(at(d)) ? fs.readdirSync(at(d)).filter((f) => pattern.test(f)).map((f) => `${d}/${f}`) : []));
  return { root, run, at, leftovers };
}

const apps = ["prod", "staging"].flatMap((s) => stackSpec(s).apps.map((a) => [`${s}/${a.id}`, a] as const));

function backupInstaller(app: AppSpec): string {
  const spec = scriptSpec(app);
  return renderBackupInstall({
    appId: app.id,
    scripts: { "restore.sh": renderRestoreScript(spec), "backup.sh": "#!/bin/sh\n" },
    jobConfig: renderJobConfig({ BUCKET: `${app.id}-bucket`, PREFIX: app.id, LOCAL_DIR: app.backups.localDir }),
    units: renderUnits({ appId: app.id, backupCalendar: toOnCalendar(app.backups.schedule), verifyCalendar: toOnCalendar(app.backups.verifySchedule) }),
    localDir: app.backups.localDir,
  });
}

describe("removing an app's backup jobs", () => {
  it.each(apps)("%s: disables and removes the timers, keeps the backups, restore.sh and its configuration; twice is harmless", (_, app) => {
    const host = standInRoot(`backup-removal-${app.id}`);
    const mine = new RegExp(`^runbook-backup-(verify-)?${app.id}\\.(timer|service)$`);
    const install = host.run(backupInstaller(app), CREDENTIALS);
    expect(install.status, install.stderr).toBe(0);
    // The check can fail: right after the install, the timers are there and enabled.
    expect(host.leftovers(mine)).toEqual(expect.arrayContaining([`${WANTS}/runbook-backup-${app.id}.timer`, `${UNITS}/runbook-backup-verify-${app.id}.service`]));
    const backup = host.at(`${app.backups.localDir}/20260101T020000Z-scheduled/manifest.json`);
    fs.mkdirSync(path.dirname(backup), { recursive: true });
    fs.writeFileSync(backup, "{}\n");

    // The provider gives the delete the step's stored stdin (the credentials): it must not need or echo them.
    for (const attempt of [1, 2]) {
      const res = host.run(renderBackupUninstall({ appId: app.id, localDir: app.backups.localDir }), CREDENTIALS);
      expect(res.status, `delete #${attempt}: ${res.stderr}`).toBe(0);
      expect(res.stderr).toBe("");
      expect(`${res.stdout}`).not.toContain("not-a-real-secret");
      expect(host.leftovers(mine), `delete #${attempt}`).toEqual([]);
      expect(fs.readFileSync(backup, "utf8")).toBe("{}\n");
      expect(fs.statSync(host.at(`/usr/local/lib/runbook-backup/${app.id}/restore.sh`)).mode & 0o777).toBe(0o755);
      expect(fs.existsSync(host.at(`/etc/runbook-backup/${app.id}/jobs.env`))).toBe(true);
      expect(fs.existsSync(host.at(`/etc/runbook-backup/${app.id}/credentials`))).toBe(true);
    }
    const log = fs.readFileSync(host.at("systemctl.log"), "utf8");
    expect(log).toContain(`disable --now runbook-backup-${app.id}.timer`);
    // The second delete found nothing to disable.
    expect(log.split("\n").filter((l) => l.startsWith("disable"))).toHaveLength(2);
  });
});

describe("removing an app's maintenance jobs", () => {
  it.each(apps)("%s: disables and removes exactly its timers and job scripts, keeps other units and the release record; twice is harmless", (_, app) => {
    const host = standInRoot(`maintenance-removal-${app.id}`);
    const jobs = maintenanceJobs(app);
    const mine = new RegExp(`^runbook-${app.id}-(${jobs.map((j) => j.name).join("|")})\\.(timer|service)$`);
    // Another app's unit and the release record must survive.
    fs.mkdirSync(host.at(UNITS), { recursive: true });
    fs.writeFileSync(host.at(`${UNITS}/runbook-other-prune.timer`), "[Timer]\n");
    const record = host.at(`/var/lib/runbook/${app.id}/releases.json`);
    fs.mkdirSync(path.dirname(record), { recursive: true });
    fs.writeFileSync(record, "[]\n");
    const install = host.run(renderMaintenanceInstall(app.id, jobs));
    expect(install.status, install.stderr).toBe(0);
    expect(host.leftovers(mine)).toHaveLength(jobs.length * 3);

    for (const attempt of [1, 2]) {
      const res = host.run(renderMaintenanceUninstall(app.id, jobs));
      expect(res.status, `delete #${attempt}: ${res.stderr}`).toBe(0);
      expect(res.stderr).toBe("");
      expect(host.leftovers(mine), `delete #${attempt}`).toEqual([]);
      expect(fs.existsSync(host.at(`/usr/local/lib/runbook/${app.id}`)), "the job scripts are gone").toBe(false);
      expect(fs.existsSync(host.at(`${UNITS}/runbook-other-prune.timer`))).toBe(true);
      expect(fs.readFileSync(record, "utf8")).toBe("[]\n");
    }
  });
});
