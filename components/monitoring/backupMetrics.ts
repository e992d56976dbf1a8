/**
 * The backup metrics contract: gauges the backup and verification jobs write to the node exporter's
 * textfile collector directory on the host (`runbook_backup_<app>.prom`), each labelled
 * `{app="<id>", kind="database"|"uploads"}`. The alert rules and the backups dashboard read these
 * names. The backups area defines the same names in components/backups/metrics.ts; they are one
 * contract, to be unified into one module when the two areas meet.
 */
export const BACKUP_METRICS = {
  lastSuccessTimestamp: "runbook_backup_last_success_timestamp_seconds",
  lastAttemptTimestamp: "runbook_backup_last_attempt_timestamp_seconds",
  lastDurationSeconds: "runbook_backup_last_duration_seconds",
  lastSizeBytes: "runbook_backup_last_size_bytes",
  /** 1 when the last backup succeeded, 0 when it failed. */
  lastStatus: "runbook_backup_last_status",
  verifyLastSuccessTimestamp: "runbook_backup_verify_last_success_timestamp_seconds",
  /** 1 when the last verification (restore test) passed, 0 when it failed. */
  verifyLastStatus: "runbook_backup_verify_last_status",
  restoreDurationSeconds: "runbook_backup_restore_duration_seconds",
} as const;

export type BackupKind = "database" | "uploads";

/** Where the jobs write the files on the Docker host; the node exporter reads it (mounted read-only). */
export const TEXTFILE_DIRECTORY = "/var/lib/node_exporter/textfile";

/** The file one app's jobs write in TEXTFILE_DIRECTORY. */
export const backupMetricsFile = (app: string): string => `runbook_backup_${app}.prom`;
