/**
 * The alert signals a runbook can set a threshold for, and how a threshold is stated: shared by the
 * app catalog (each app's `requirements.alerts`), the program (which renders one Prometheus rule per
 * signal) and the policies (which check the rendered rules against the requirement). Pack-internal:
 * the pack stands alone.
 */

export type AlertSeverity = "critical" | "warning" | "info";

/** Higher is more urgent: a rule may page harder than the runbook asks, never softer. */
export const SEVERITY_RANK: Readonly<Record<AlertSeverity, number>> = { info: 0, warning: 1, critical: 2 };

export type AlertSignal = "errorRate" | "latencyAverage" | "latencyP95" | "cpu" | "memory" | "disk" | "diskCritical" | "dbConnections" | "backupAge";

/** A runbook's alert threshold: the alert fires once the signal has stayed above it for `forMinutes`. */
export interface AlertThreshold {
  /** In the signal's unit (ALERT_SIGNALS): percent, seconds or hours. */
  readonly threshold: number;
  /** Prometheus `for:`. Where the runbook gives no duration, the catalog says which default it took. */
  readonly forMinutes: number;
  readonly severity: AlertSeverity;
  /** The runbook section an operator follows when the alert fires, where the runbook has one. */
  readonly procedure?: string;
}

export interface SignalInfo {
  /** The alert's name in the rendered rules. */
  readonly alert: string;
  readonly unit: "%" | "s" | "h";
  /** What is measured, for messages and summaries. */
  readonly what: string;
  /** The metric a rule for the signal must read (the policies check it is the one measured). */
  readonly metric: string;
}

export const ALERT_SIGNALS: Readonly<Record<AlertSignal, SignalInfo>> = {
  errorRate: { alert: "HighErrorRate", unit: "%", what: "requests answered with a 5xx", metric: "proxy_http_response_count_total" },
  latencyAverage: { alert: "HighAverageResponseTime", unit: "s", what: "average response time", metric: "proxy_http_response_time_seconds_hist_sum" },
  latencyP95: { alert: "HighResponseTimeP95", unit: "s", what: "95th percentile response time", metric: "proxy_http_response_time_seconds_hist_bucket" },
  cpu: { alert: "HighCpuUsage", unit: "%", what: "host CPU usage", metric: "node_cpu_seconds_total" },
  memory: { alert: "HighMemoryUsage", unit: "%", what: "host memory usage", metric: "node_memory_MemAvailable_bytes" },
  disk: { alert: "DiskUsageHigh", unit: "%", what: "disk usage", metric: "node_filesystem_avail_bytes" },
  diskCritical: { alert: "DiskUsageCritical", unit: "%", what: "disk usage", metric: "node_filesystem_avail_bytes" },
  dbConnections: { alert: "DatabaseConnectionsHigh", unit: "%", what: "database connections of max_connections", metric: "pg_stat_activity_count" },
  backupAge: { alert: "BackupTooOld", unit: "h", what: "hours since the last successful backup", metric: "runbook_backup_last_success_timestamp_seconds" },
};

export const ALERT_SIGNAL_NAMES = Object.keys(ALERT_SIGNALS) as AlertSignal[];

/** The label every rendered rule carries that answers a runbook signal: how the policies find it. */
export const SIGNAL_LABEL = "signal";

/** The label naming a third-party service on its probe's series and on its alert rule: how the policies find them. */
export const DEPENDENCY_LABEL = "dependency";
