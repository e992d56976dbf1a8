/**
 * The metrics every backup, verification and restore job writes for Prometheus, through the node
 * exporter's textfile collector: one file per app (`runbook_backup_<app>.prom`), replaced atomically
 * (written to a temporary file in the same directory, then renamed). This module is the one source
 * of the names: the scripts render them from here, and the monitoring area's alert rules and
 * dashboard read them from here (test/backups/metricsContract.test.ts feeds a real job's file to
 * the rendered rules under promtool).
 *
 * Every gauge carries `{app="<catalog id>", kind="database"|"uploads"|"monitoring"}` (monitoring: the
 * daily backup of Prometheus' and Grafana's data, monitoringData.ts; no verification metrics).
 */

/** Where the node exporter's textfile collector reads `*.prom` files (Debian's prometheus-node-exporter default). */
export const TEXTFILE_DIR = "/var/lib/node_exporter/textfile";

/** The file one app's jobs write in the textfile directory. */
export function metricsFileName(appId: string): string {
  return `runbook_backup_${appId}.prom`;
}

/** What a backup covers: the app's database, its uploads volume, or its monitoring data. */
export type BackupKind = "database" | "uploads" | "monitoring";
export const BACKUP_KINDS: readonly BackupKind[] = ["database", "uploads", "monitoring"];

export const BACKUP_METRICS = {
  /** Unix time of the last backup that finished and was uploaded. */
  lastSuccess: "runbook_backup_last_success_timestamp_seconds",
  /** Unix time the last backup started (a run that never finishes still moves this). */
  lastAttempt: "runbook_backup_last_attempt_timestamp_seconds",
  /** Seconds the last backup took, start to upload. */
  lastDuration: "runbook_backup_last_duration_seconds",
  /** Bytes of the last backup's archive. */
  lastSize: "runbook_backup_last_size_bytes",
  /** 1 when the last backup succeeded, 0 when it failed. */
  lastStatus: "runbook_backup_last_status",
  /** Unix time of the last verification that restored the newest backup and matched its manifest. */
  verifyLastSuccess: "runbook_backup_verify_last_success_timestamp_seconds",
  /** 1 when the last verification passed, 0 when it failed. */
  verifyLastStatus: "runbook_backup_verify_last_status",
  /** Seconds the last verification's test restore took. */
  restoreDuration: "runbook_backup_restore_duration_seconds",
} as const;

export type BackupMetricName = (typeof BACKUP_METRICS)[keyof typeof BACKUP_METRICS];

/** HELP text of each metric, as the textfile carries it. */
export const BACKUP_METRIC_HELP: Readonly<Record<BackupMetricName, string>> = {
  [BACKUP_METRICS.lastSuccess]: "Unix time of the last backup that finished and was uploaded.",
  [BACKUP_METRICS.lastAttempt]: "Unix time the last backup started.",
  [BACKUP_METRICS.lastDuration]: "Seconds the last backup took, from start to upload.",
  [BACKUP_METRICS.lastSize]: "Bytes of the last backup archive.",
  [BACKUP_METRICS.lastStatus]: "1 when the last backup succeeded, 0 when it failed.",
  [BACKUP_METRICS.verifyLastSuccess]: "Unix time of the last verification that restored the newest backup and matched its manifest.",
  [BACKUP_METRICS.verifyLastStatus]: "1 when the last verification passed, 0 when it failed.",
  [BACKUP_METRICS.restoreDuration]: "Seconds the last verification's test restore took.",
};
