/**
 * What the install step puts on an app's Docker host, and the script that puts it there.
 *
 * Jobs run from systemd timers on the host, not from a scheduler container: the host already runs
 * systemd, a timer with `Persistent=true` runs a run the host missed while it was down as soon as it
 * is back, the jobs do not depend on any of the app's containers being up (a backup must still run
 * when the backend is broken), each run is in the journal (`journalctl -u runbook-backup-<app>`), and
 * no image has to carry pg_dump, sqlite3 and the aws CLI together. A run that does not happen is
 * still visible: `runbook_backup_last_attempt_timestamp_seconds` stops moving and the monitoring
 * area's "no backup in N hours" alert reads `runbook_backup_last_success_timestamp_seconds`.
 *
 * The installer runs as root (`sudo -n`): it writes the scripts, jobs.env, the writer's credentials
 * (read from its standard input, never from its command line, mode 0600), and the units, then
 * enables the timers. `INSTALL_ROOT` (tests) puts everything under another root and `SYSTEMCTL`
 * replaces systemctl.
 */
import { createHash } from "node:crypto";
import { shellQuote } from "../shared/shell";

export const SCRIPT_DIR = "/usr/local/lib/runbook-backup";
export const CONFIG_DIR = "/etc/runbook-backup";
export const UNIT_DIR = "/etc/systemd/system";

export const scriptDir = (appId: string): string => `${SCRIPT_DIR}/${appId}`;
export const configDir = (appId: string): string => `${CONFIG_DIR}/${appId}`;
export const backupUnit = (appId: string): string => `runbook-backup-${appId}`;
export const verifyUnit = (appId: string): string => `runbook-backup-verify-${appId}`;
/** The monitoring data's daily backup (monitoringData.ts). */
export const monitoringBackupUnit = (appId: string): string => `runbook-monitoring-backup-${appId}`;

export interface UnitsSpec {
  readonly appId: string;
  /** systemd `OnCalendar=` of the backup and of the verification (schedule.ts `toOnCalendar`). */
  readonly backupCalendar: string;
  readonly verifyCalendar: string;
  /** The monitoring data's backup, where the app backs it up. */
  readonly monitoringCalendar?: string;
}

/** The systemd units of an app's jobs, by file name. */
export function renderUnits(spec: UnitsSpec): Record<string, string> {
  const dir = scriptDir(spec.appId);
  const service = (description: string, exec: string[]) =>
    [
      "[Unit]",
      `Description=${description}`,
      "Wants=network-online.target",
      "After=network-online.target docker.service",
      "",
      "[Service]",
      "Type=oneshot",
      ...exec,
      "Nice=10",
      "IOSchedulingClass=idle",
      "PrivateTmp=true",
      "TimeoutStartSec=6h",
      "",
    ].join("\n");
  const timer = (description: string, calendar: string) =>
    ["[Unit]", `Description=${description}`, "", "[Timer]", `OnCalendar=${calendar}`, "Persistent=true", "RandomizedDelaySec=0", "", "[Install]", "WantedBy=timers.target", ""].join("\n");
  return {
    [`${backupUnit(spec.appId)}.service`]: service(`Backup of ${spec.appId} to its bucket (runbook-as-code)`, [
      `ExecStart=${dir}/backup.sh --reason scheduled`,
      `ExecStartPost=${dir}/prune.sh`,
    ]),
    [`${backupUnit(spec.appId)}.timer`]: timer(`Scheduled backup of ${spec.appId}`, spec.backupCalendar),
    [`${verifyUnit(spec.appId)}.service`]: service(`Verification of the newest backup of ${spec.appId} by a test restore (runbook-as-code)`, [`ExecStart=${dir}/verify.sh`]),
    [`${verifyUnit(spec.appId)}.timer`]: timer(`Scheduled backup verification of ${spec.appId}`, spec.verifyCalendar),
    ...(spec.monitoringCalendar !== undefined && {
      [`${monitoringBackupUnit(spec.appId)}.service`]: service(`Backup of the Prometheus and Grafana data of ${spec.appId} to its bucket (runbook-as-code)`, [`ExecStart=${dir}/monitoring-backup.sh`]),
      [`${monitoringBackupUnit(spec.appId)}.timer`]: timer(`Scheduled backup of the monitoring data of ${spec.appId}`, spec.monitoringCalendar),
    }),
  };
}

export interface InstallSpec {
  readonly appId: string;
  /** Scripts by file name (backup.sh, verify.sh, restore.sh, prune.sh). */
  readonly scripts: Readonly<Record<string, string>>;
  readonly jobConfig: string;
  readonly units: Readonly<Record<string, string>>;
  /** Where local copies go (made 0700). */
  readonly localDir: string;
}

/** A heredoc that writes `content` to `path` through a temporary file, then sets its mode. */
function writeFile(path: string, content: string, mode: string): string[] {
  const marker = `RUNBOOK_${createHash("sha256").update(content).digest("hex").slice(0, 16).toUpperCase()}`;
  if (content.split("\n").includes(marker)) throw new Error(`the content of ${path} holds its own heredoc marker`);
  const body = content.endsWith("\n") ? content : `${content}\n`;
  return [`cat > "$ROOT"${shellQuote(`${path}.new`)} <<'${marker}'`, `${body}${marker}`, `chmod ${mode} "$ROOT"${shellQuote(`${path}.new`)}`, `mv -f "$ROOT"${shellQuote(`${path}.new`)} "$ROOT"${shellQuote(path)}`];
}

/** The installer, run as root on the host with the writer's credentials on its standard input. */
export function renderInstallScript(spec: InstallSpec): string {
  const scripts = scriptDir(spec.appId);
  const config = configDir(spec.appId);
  const timers = Object.keys(spec.units).filter((u) => u.endsWith(".timer"));
  return [
    "#!/bin/sh",
    `# Installs the backup jobs of ${spec.appId}: rendered by runbook-as-code, do not edit by hand.`,
    "set -eu",
    "umask 022",
    'ROOT=${INSTALL_ROOT:-}',
    'SYSTEMCTL=${SYSTEMCTL:-systemctl}',
    `mkdir -p "$ROOT"${shellQuote(scripts)} "$ROOT"${shellQuote(config)} "$ROOT"${shellQuote(UNIT_DIR)}`,
    `mkdir -p "$ROOT"${shellQuote(spec.localDir)}`,
    `chmod 0700 "$ROOT"${shellQuote(spec.localDir)}`,
    "# The writer's credentials: from standard input, never from a command line; root only.",
    `umask 077`,
    `cat > "$ROOT"${shellQuote(`${config}/credentials.new`)}`,
    `mv -f "$ROOT"${shellQuote(`${config}/credentials.new`)} "$ROOT"${shellQuote(`${config}/credentials`)}`,
    "umask 022",
    ...writeFile(`${config}/jobs.env`, spec.jobConfig, "0644"),
    ...Object.entries(spec.scripts).flatMap(([name, text]) => writeFile(`${scripts}/${name}`, text, "0755")),
    ...Object.entries(spec.units).flatMap(([name, text]) => writeFile(`${UNIT_DIR}/${name}`, text, "0644")),
    // A job the app no longer has (the monitoring data's backup turned off) stops with this install.
    ...[monitoringBackupUnit(spec.appId)]
      .filter((unit) => !(`${unit}.timer` in spec.units))
      .flatMap((unit) => [
        `if [ -e "$ROOT"${shellQuote(`${UNIT_DIR}/${unit}.timer`)} ]; then "$SYSTEMCTL" disable --now ${shellQuote(`${unit}.timer`)}; fi`,
        `rm -f "$ROOT"${shellQuote(`${UNIT_DIR}/${unit}.timer`)} "$ROOT"${shellQuote(`${UNIT_DIR}/${unit}.service`)}`,
      ]),
    '"$SYSTEMCTL" daemon-reload',
    `"$SYSTEMCTL" enable --now ${timers.map(shellQuote).join(" ")}`,
    `echo ${shellQuote(`backup jobs of ${spec.appId} installed: ${timers.join(", ")}`)}`,
    "",
  ].join("\n");
}

export interface UninstallSpec {
  readonly appId: string;
  /** Where local copies are (kept). */
  readonly localDir: string;
}

/**
 * The uninstaller: the install step's `delete`, run as root (`sudo -n`) when the app leaves the stack.
 * It stops and disables the app's backup, verification and monitoring-data timers (each one there is)
 * and removes their unit files; a run already in progress is left to finish. It removes nothing else: the local backups, the app's volumes,
 * the scripts (restore.sh among them) and jobs.env with the writer's credentials, which restore.sh
 * reads, all stay, so an operator can still restore by hand. Running it twice does no harm.
 * The provider hands a delete the standard input stored with the step (the writer's credentials,
 * docs/engine-evidence.md item 18): the script reads nothing from it and closes it first.
 */
export function renderUninstallScript(spec: UninstallSpec): string {
  const units = [backupUnit(spec.appId), verifyUnit(spec.appId), monitoringBackupUnit(spec.appId)];
  const timers = units.map((u) => `${u}.timer`);
  const files = units.flatMap((u) => [`${u}.timer`, `${u}.service`]);
  const kept = [`${spec.localDir} (local backups)`, `${scriptDir(spec.appId)} (restore.sh and the other scripts)`, `${configDir(spec.appId)} (jobs.env and the credentials restore.sh reads)`, "the app's Docker volumes"];
  return [
    "#!/bin/sh",
    `# Removes the scheduled backup jobs of ${spec.appId}: rendered by runbook-as-code, do not edit by hand.`,
    "# Runs when the app leaves the stack: stops and disables the timers and removes their unit files.",
    "# Kept, so that an operator can still restore:",
    ...kept.map((k) => `#   ${k}`),
    "set -eu",
    "exec </dev/null",
    'ROOT=${INSTALL_ROOT:-}',
    'SYSTEMCTL=${SYSTEMCTL:-systemctl}',
    `UNITS="$ROOT"${shellQuote(UNIT_DIR)}`,
    `for timer in ${timers.map(shellQuote).join(" ")}; do`,
    '  if [ -e "$UNITS/$timer" ]; then "$SYSTEMCTL" disable --now "$timer"; fi',
    '  rm -f "$UNITS/timers.target.wants/$timer"',
    "done",
    `for unit in ${files.map(shellQuote).join(" ")}; do rm -f "$UNITS/$unit"; done`,
    '"$SYSTEMCTL" daemon-reload',
    `"$SYSTEMCTL" reset-failed ${units.map((u) => shellQuote(`${u}.service`)).join(" ")} >/dev/null 2>&1 || true`,
    `echo ${shellQuote(`backup jobs of ${spec.appId} removed: ${timers.join(", ")}; kept: ${kept.join("; ")}`)}`,
    "",
  ].join("\n");
}
