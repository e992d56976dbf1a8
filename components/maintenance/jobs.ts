/** Which scheduled jobs an app gets, from its spec: a pure function. */
import type { AppSpec } from "../../config/spec";
import { renderPostgresMaintenanceScript, renderSqliteMaintenanceScript, type SqlitePragmas } from "./databaseScripts";
import { renderCertificateRenewalScript, renderLogRetentionScript, renderPruneScript } from "./hostScripts";
import { renderImageScanScript } from "./imageScan";
import { renderOsUpdatesScript } from "./osUpdates";
import { SCHEDULES, type ScheduledJob } from "./units";

export const MAINTENANCE_JOB_DEFAULTS = {
  /** LMS "Maintenance Tasks" L547: `find /var/log -name "*.log" -mtime +30 -delete`. */
  logRetentionDays: 30,
  /** Images no release names are kept this long (a week of deploys to roll back through the record). */
  imageRetentionDays: 7,
} as const;

/**
 * Per-connection pragmas a runbook gives, by catalog id (Handwork "Database Performance" L447-450).
 * `journal_mode=WAL` is the catalog's `walMode`; these are the others.
 */
export const SQLITE_PRAGMAS: Readonly<Record<string, { readonly pragmas: SqlitePragmas; readonly source: { readonly runbook: string; readonly lines: readonly number[] } }>> = {
  handwork: {
    pragmas: [
      { name: "synchronous", value: "NORMAL" },
      { name: "cache_size", value: "10000" },
      { name: "temp_store", value: "memory" },
    ],
    source: { runbook: "004_e051784874df9289.txt", lines: [448, 449, 450] },
  },
};

const repositoryOf = (image: string) => image.replace(/:[^:/]+$/, "");

export function maintenanceJobs(app: AppSpec): ScheduledJob[] {
  const jobs: ScheduledJob[] = [];
  const db = app.database;
  const volume = db.engine === "sqlite" ? app.backend.volumes.find((v) => v.name === db.volume) : undefined;
  if (db.engine === "postgres") {
    jobs.push(
      { name: "db-vacuum-analyze", description: "PostgreSQL VACUUM (ANALYZE)", onCalendar: SCHEDULES.weekly, source: `${app.runbook} Maintenance Tasks (VACUUM ANALYZE)`, script: renderPostgresMaintenanceScript({ appId: app.id, database: db.database, user: db.user, task: "vacuum-analyze" }) },
      { name: "db-reindex", description: "PostgreSQL REINDEX DATABASE", onCalendar: SCHEDULES.monthly, source: `${app.runbook} Maintenance Tasks (REINDEX)`, script: renderPostgresMaintenanceScript({ appId: app.id, database: db.database, user: db.user, task: "reindex" }) },
    );
  }
  // A SQLite file outside the backend's volumes keeps nothing between releases (the runbook policies
  // refuse such an app): no upkeep job for it.
  if (db.engine === "sqlite" && volume && db.path.startsWith(`${volume.mountPath}/`)) {
    jobs.push({
      name: "db-sqlite",
      description: "SQLite VACUUM, ANALYZE and PRAGMA integrity_check",
      onCalendar: SCHEDULES.weekly,
      source: `${app.runbook} Weekly Maintenance (VACUUM; ANALYZE)`,
      script: renderSqliteMaintenanceScript({ appId: app.id, path: db.path, mountPath: volume.mountPath, walMode: db.walMode, pragmas: SQLITE_PRAGMAS[app.id]?.pragmas ?? [] }),
    });
    jobs.push({
      name: "db-sqlite-reindex",
      description: "SQLite REINDEX",
      onCalendar: SCHEDULES.monthly,
      source: `${app.runbook} Monthly Index Optimization (REINDEX)`,
      script: renderSqliteMaintenanceScript({ appId: app.id, path: db.path, mountPath: volume.mountPath, walMode: db.walMode, pragmas: SQLITE_PRAGMAS[app.id]?.pragmas ?? [], task: "reindex" }),
    });
  }
  const images = [app.backend.image, ...(app.frontend ? [app.frontend.image] : [])];
  jobs.push(
    { name: "prune", description: "image and volume pruning that keeps the recorded releases", onCalendar: SCHEDULES.prune, source: "FDTS Weekly Maintenance L180-181", script: renderPruneScript({ appId: app.id, repositories: [...new Set(images.map(repositoryOf))], retentionDays: MAINTENANCE_JOB_DEFAULTS.imageRetentionDays }) },
    { name: "image-scan", description: "vulnerability scan (trivy) of the images the app runs", onCalendar: SCHEDULES.weekly, source: "FDTS Weekly Maintenance L194-201 (Security scan)", script: renderImageScanScript({ appId: app.id }) },
    { name: "logs", description: `log retention of ${MAINTENANCE_JOB_DEFAULTS.logRetentionDays} days`, onCalendar: SCHEDULES.logs, source: "LMS Maintenance Tasks L547", script: renderLogRetentionScript({ appId: app.id, days: MAINTENANCE_JOB_DEFAULTS.logRetentionDays }) },
  );
  if (app.maintenance.osUpdates !== "off") {
    jobs.push({ name: "os-updates", description: `package updates (${app.maintenance.osUpdates}), the Docker engine left out`, onCalendar: SCHEDULES.weekly, source: "FDTS Weekly Maintenance L173-176 (Update system packages)", script: renderOsUpdatesScript({ appId: app.id, mode: app.maintenance.osUpdates }) });
  }
  if (app.proxy.tls) {
    jobs.push({ name: "certificates", description: "TLS certificate renewal and proxy reload", onCalendar: SCHEDULES.certificates, source: "FairLens Routine Maintenance L175", script: renderCertificateRenewalScript({ appId: app.id, certificateFile: app.proxy.tls.certificateFile }) });
  }
  return jobs;
}
