/**
 * The scheduled jobs as systemd units, and the install script a deploy step runs on the host.
 *
 * systemd timers rather than cron: `Persistent=true` runs a job missed while the host was down at the
 * next boot (cron skips it); a oneshot service never overlaps itself; each run's output is in the
 * journal under the unit's name and a failed run leaves the unit `failed` (`systemctl --failed`, the
 * node exporter's systemd collector); `systemctl list-timers` shows the next run; and
 * `systemd-analyze calendar` checks a schedule before it is installed (the tests run it on every one).
 * Schedules are UTC (the LMS runbook's windows are UTC; FDTS names no timezone).
 */
import { createHash } from "node:crypto";
import { shellQuote } from "../shared/shell";

export interface ScheduledJob {
  /** Short name: `db-vacuum-analyze`, `prune`... */
  readonly name: string;
  readonly description: string;
  /** systemd OnCalendar expression. */
  readonly onCalendar: string;
  /** The job's script (POSIX sh). */
  readonly script: string;
  /** Where the schedule comes from (runbook section and line), for the unit's documentation. */
  readonly source: string;
}

/** The schedules (UTC). Weekly: FDTS "Every Sunday at 2 AM" (L169); monthly: LMS first Sunday 02:00-04:00 (L532). */
export const SCHEDULES = {
  weekly: "Sun *-*-* 02:00:00 UTC",
  monthly: "Sun *-*-01..07 03:00:00 UTC",
  prune: "Sun *-*-* 04:00:00 UTC",
  logs: "*-*-* 04:30:00 UTC",
  // certbot renews only within 30 days of expiry; twice a day is what its own timer does.
  certificates: "*-*-* 00,12:17:00 UTC",
} as const;

const JOB = /^[a-z][a-z0-9-]*$/;

export const UNIT_DIR = "/etc/systemd/system";

export const unitName = (appId: string, job: string) => `runbook-${appId}-${job}`;
export const scriptPath = (appId: string, job: string) => `/usr/local/lib/runbook/${appId}/${job}.sh`;

export function renderService(appId: string, job: ScheduledJob): string {
  return [
    "[Unit]",
    `Description=${appId}: ${job.description} (runbook-as-code)`,
    `Documentation=${job.source}`,
    "After=docker.service",
    "Requires=docker.service",
    "",
    "[Service]",
    "Type=oneshot",
    `ExecStart=/bin/sh ${scriptPath(appId, job.name)}`,
    "Nice=10",
    "IOSchedulingClass=idle",
    "",
  ].join("\n");
}

export function renderTimer(appId: string, job: ScheduledJob): string {
  return [
    "[Unit]",
    `Description=${appId}: ${job.description}, on schedule (runbook-as-code)`,
    "",
    "[Timer]",
    `OnCalendar=${job.onCalendar}`,
    "Persistent=true",
    "RandomizedDelaySec=300",
    "",
    "[Install]",
    "WantedBy=timers.target",
    "",
  ].join("\n");
}

/** A file written by a heredoc whose end marker cannot occur in the content. */
function writeFile(path: string, content: string, mode: string): string[] {
  const marker = `RUNBOOK_EOF_${createHash("sha256").update(content).digest("hex").slice(0, 16)}`;
  if (content.split("\n").includes(marker)) throw new Error(`content of ${path} holds its own heredoc marker`);
  return [`as_root tee "$ROOT"${shellQuote(path)} >/dev/null <<'${marker}'`, ...content.replace(/\n$/, "").split("\n"), marker, `as_root chmod ${mode} "$ROOT"${shellQuote(path)}`];
}

/** Shared head of the install and uninstall scripts: strict mode, root or password-less sudo, overrides. */
function preamble(appId: string, doing: string): string[] {
  return [
    "set -eu",
    'as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }',
    'if [ "$(id -u)" -ne 0 ] && ! sudo -n true 2>/dev/null; then',
    `  echo "${appId}: ${doing} the maintenance timers needs root or password-less sudo for the deploy user" >&2; exit 1`,
    "fi",
    'ROOT=${INSTALL_ROOT:-}',
    'SYSTEMCTL=${SYSTEMCTL:-systemctl}',
  ];
}

/**
 * The install script: writes every job's script, service and timer, removes the app's timers that
 * are no longer wanted, reloads systemd and enables the timers. Needs root or password-less sudo.
 * `INSTALL_ROOT` (tests) puts every file under another root and `SYSTEMCTL` replaces systemctl.
 */
export function renderInstallScript(appId: string, jobs: readonly ScheduledJob[]): string {
  if (!JOB.test(appId)) throw new Error(`\`appId\` must be a catalog id (got ${appId})`);
  const names = new Set<string>();
  for (const job of jobs) {
    if (!JOB.test(job.name)) throw new Error(`job name ${job.name} must be lowercase letters, digits and '-'`);
    if (names.has(job.name)) throw new Error(`job ${job.name} is scheduled twice`);
    names.add(job.name);
  }
  const timers = jobs.map((j) => `${unitName(appId, j.name)}.timer`);
  return [
    "#!/bin/sh",
    `# Installs ${appId}'s scheduled maintenance (systemd timers): rendered by runbook-as-code.`,
    ...preamble(appId, "installing"),
    `as_root mkdir -p "$ROOT"/usr/local/lib/runbook/${appId} "$ROOT"${UNIT_DIR}`,
    ...jobs.flatMap((job) => [
      ...writeFile(scriptPath(appId, job.name), job.script, "0755"),
      ...writeFile(`${UNIT_DIR}/${unitName(appId, job.name)}.service`, renderService(appId, job), "0644"),
      ...writeFile(`${UNIT_DIR}/${unitName(appId, job.name)}.timer`, renderTimer(appId, job), "0644"),
    ]),
    `wanted=${shellQuote(timers.join(" "))}`,
    `for unit in "$ROOT"${UNIT_DIR}/runbook-${appId}-*.timer; do`,
    '  [ -e "$unit" ] || continue',
    '  name=$(basename "$unit")',
    '  case " $wanted " in *" $name "*) continue;; esac',
    '  as_root "$SYSTEMCTL" disable --now "$name" >/dev/null 2>&1 || true',
    '  as_root rm -f "$unit" "${unit%.timer}.service"',
    "done",
    'as_root "$SYSTEMCTL" daemon-reload',
    ...(timers.length ? [`as_root "$SYSTEMCTL" enable --now ${timers.join(" ")}`] : []),
    `echo "${appId}: maintenance timers installed: ${timers.length ? timers.join(", ") : "none"}"`,
    "",
  ].join("\n");
}

/**
 * The uninstall script, the install step's `delete`: run when the app leaves the stack or its
 * maintenance is turned off. It stops and disables the timers the install wrote (named one by one,
 * never by a pattern that could match another app's units), removes their unit files and the job
 * scripts, and reloads systemd; a job already running is left to finish. It removes no data: the
 * app's volumes and database, its logs, its release record (/var/lib/runbook/<app>) and its backups
 * (the backups area's own step keeps those) all stay. Running it twice does no harm.
 */
export function renderUninstallScript(appId: string, jobs: readonly ScheduledJob[]): string {
  if (!JOB.test(appId)) throw new Error(`\`appId\` must be a catalog id (got ${appId})`);
  for (const job of jobs) if (!JOB.test(job.name)) throw new Error(`job name ${job.name} must be lowercase letters, digits and '-'`);
  const names = jobs.map((j) => unitName(appId, j.name));
  const kept = `the app's volumes and database, its logs, its release record (/var/lib/runbook/${appId}) and its backups`;
  return [
    "#!/bin/sh",
    `# Removes ${appId}'s scheduled maintenance (systemd timers): rendered by runbook-as-code.`,
    "# Runs when the app leaves the stack or its maintenance is turned off.",
    `# Kept: ${kept}.`,
    ...preamble(appId, "removing"),
    ...(names.length
      ? [
          `UNITS="$ROOT"${UNIT_DIR}`,
          `for name in ${names.join(" ")}; do`,
          '  if [ -e "$UNITS/$name.timer" ]; then as_root "$SYSTEMCTL" disable --now "$name.timer"; fi',
          '  as_root rm -f "$UNITS/timers.target.wants/$name.timer" "$UNITS/$name.timer" "$UNITS/$name.service"',
          "done",
        ]
      : []),
    ...jobs.map((j) => `as_root rm -f "$ROOT"${shellQuote(scriptPath(appId, j.name))}`),
    `as_root rmdir "$ROOT"/usr/local/lib/runbook/${appId} 2>/dev/null || true`,
    'as_root "$SYSTEMCTL" daemon-reload',
    ...(names.length ? [`as_root "$SYSTEMCTL" reset-failed ${names.map((n) => `${n}.service`).join(" ")} >/dev/null 2>&1 || true`] : []),
    `echo "${appId}: maintenance timers removed: ${names.length ? names.map((n) => `${n}.timer`).join(", ") : "none"}; kept: ${kept}"`,
    "",
  ].join("\n");
}
