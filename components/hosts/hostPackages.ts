/**
 * What a host the stack creates installs from the distribution's packages (Debian or Ubuntu, apt),
 * as a pure function of the app: the tools its host-side scripts call outside any container, and
 * nothing more. Commands the scripts run inside the app's containers (`docker exec ... psql`,
 * `pg_dump`, `python3`) need nothing on the host.
 *
 * - every host: `docker.io` (the Docker daemon and CLI every deploy step and job drives), `curl`
 *   (the health gate), `sudo` (steps and jobs run as root), `unattended-upgrades` (security updates);
 * - every app, whose backup jobs run on the host (components/backups): `awscli` (uploads, downloads,
 *   the Object Lock MD5 header) and `openssl` (that MD5);
 * - a SQLite app: `sqlite3`, which the backup, verification and restore scripts and the weekly
 *   `db-sqlite` jobs run on the host against the volume's file (components/backups/backupScript.ts,
 *   components/maintenance/databaseScripts.ts; diagnostics use it when it is there; the monitoring
 *   data's backup uses it for Grafana's grafana.db where it is there, and pauses Grafana to copy the
 *   file where it is not: monitoringData.ts);
 * - a TLS app whose maintenance runs: `certbot`, which the `certificates` job runs
 *   (components/maintenance/hostScripts.ts).
 * The rest the scripts call (sh, tar, gzip, coreutils, find, awk, sed, systemctl, journalctl) is in
 * every Debian and Ubuntu image: HOST_BASE_COMMANDS.
 */
import type { AppSpec } from "../../config/spec";

export interface HostPackage {
  /** The Debian/Ubuntu package name. */
  readonly name: string;
  /** The commands the host's scripts call from it. */
  readonly commands: readonly string[];
  /** Why this host needs it. */
  readonly why: string;
}

/** Commands every Debian and Ubuntu image has (Essential or priority required/important packages, systemd). */
export const HOST_BASE_COMMANDS: readonly string[] = [
  // dash, coreutils, util-linux, findutils, grep, sed, mawk, tar, gzip, diffutils, procps, hostname
  "sh", "cat", "chmod", "chown", "cp", "date", "df", "dirname", "basename", "du", "echo", "env", "expr", "false", "head", "id",
  "ln", "ls", "mkdir", "mktemp", "mv", "printf", "readlink", "rm", "rmdir", "sha256sum", "sleep", "sort", "stat", "tail", "tee",
  "test", "[", "touch", "tr", "true", "uniq", "wc", "xargs", "find", "grep", "sed", "awk", "tar", "gzip", "gunzip", "zcat", "cmp",
  "timeout", "nproc", "numfmt", "base64", "cut", "split", "sync", "kill", "ps", "hostname", "uname", "flock", "mountpoint", "blkid",
  "mkfs.ext4", "mount", "usermod", "systemctl", "journalctl", "systemd-analyze", "cloud-init", "apt-get", "dpkg", "nice",
];

export const HOST_BASE_PACKAGES: readonly HostPackage[] = [
  { name: "docker.io", commands: ["docker"], why: "the Docker daemon and CLI" },
  { name: "curl", commands: ["curl"], why: "the health gate" },
  // In Debian's and Ubuntu's cloud images already; named so a minimal image gets it too (cloud-init
  // writes the deploy user's sudoers rule before the setup runs, and sudo reads it once installed).
  { name: "sudo", commands: ["sudo"], why: "the install steps and jobs run as root (`sudo -n`)" },
  { name: "unattended-upgrades", commands: [], why: "security updates" },
];

/** The packages the host of `app` installs, base first, each once. */
export function hostPackages(app: Pick<AppSpec, "database" | "proxy" | "maintenance">): HostPackage[] {
  const packages: HostPackage[] = [
    ...HOST_BASE_PACKAGES,
    { name: "awscli", commands: ["aws"], why: "the backup jobs' uploads and downloads" },
    { name: "openssl", commands: ["openssl"], why: "the backup jobs' Content-MD5 (Object Lock)" },
  ];
  if (app.database.engine === "sqlite") packages.push({ name: "sqlite3", commands: ["sqlite3"], why: "SQLite backups, verification, restore and upkeep on the volume's file" });
  if (app.proxy.tls && app.maintenance.enabled) packages.push({ name: "certbot", commands: ["certbot"], why: "the certificates job (TLS renewal)" });
  return packages;
}
