/**
 * How each alert signal is measured, as data: the PromQL that gives the signal's value in its unit,
 * and the input series (promtool's notation) that hold the signal at a chosen level. The rules are
 * rendered from the first, and their promtool unit tests from the second, so a rule and its test can
 * never describe two different metrics. Pure: no resources.
 *
 * Where the values come from: request counts and response times from the proxy's access log
 * (`proxy_*`, the nginx log exporter reading the proxy's syslog stream), so every app has them
 * whether or not its backend exports metrics; host CPU, memory and disk from the node exporter;
 * database connections from the PostgreSQL exporter; backup times from the backup jobs' textfile.
 */
import type { AlertSignal } from "../../policies/monitoring/signals";
import { BACKUP_METRICS } from "../backups/metrics";

/** Scrape job names: the rules, the Prometheus config and the dashboards use the same ones. */
export const JOBS = {
  prometheus: "prometheus",
  alertmanager: "alertmanager",
  grafana: "grafana",
  node: "node",
  cadvisor: "cadvisor",
  backend: "backend",
  nginx: "nginx",
  proxyLog: "proxy-log",
  /** mtail, counting the backend's log lines (backendLogProgram.ts). */
  backendLog: "backend-log",
  postgres: "postgres",
  pgbouncer: "pgbouncer",
  redis: "redis",
  blackbox: "blackbox",
  /** Blackbox probes of the health endpoints through the proxy. */
  health: "health",
} as const;

/** The nginx log exporter's metric prefix (its namespace): `proxy_http_response_count_total`... */
export const PROXY_METRICS = {
  requests: "proxy_http_response_count_total",
  responseTime: "proxy_http_response_time_seconds_hist",
} as const;

/** Filesystems that are not disks (the node exporter reports them too). */
const NOT_DISKS = 'fstype!~"tmpfs|overlay|squashfs|nsfs|ramfs|fuse.lxcfs",mountpoint!~"/(proc|sys|dev|run)($|/.*)"';

/** One input series of a promtool test: a selector and its values in expanding notation. */
export interface InputSeries {
  readonly series: string;
  readonly values: string;
}

export type Labels = Readonly<Record<string, string>>;

/** A number as PromQL and promtool read it, without float noise (0.1 + 0.2 is 0.3). */
export const num = (x: number): string => String(Number(x.toPrecision(12)));

export const selector = (metric: string, labels: Labels): string =>
  `${metric}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(",")}}`;

/** A counter growing by `perMinute` each minute, for `minutes` minutes. */
export const counter = (perMinute: number, minutes: number): string => `0+${num(perMinute)}x${minutes}`;
/** A gauge holding `value` for `minutes` minutes. */
export const gauge = (value: number, minutes: number): string => `${num(value)}+0x${minutes}`;

export interface SignalModel {
  /** PromQL for the signal's value, in its unit (ALERT_SIGNALS). */
  value(app: string): string;
  /**
   * Series that hold the signal at `level` from minute 0 for `minutes` minutes. A signal that grows
   * with time (a backup's age) is at `level` at minute `at`.
   */
  series(level: number, app: string, minutes: number, at: number): InputSeries[];
  /** Labels of the value's series, beyond the rule's own. */
  outputLabels(app: string): Labels;
  /** Minutes until the value exists (a rate needs two samples). */
  readonly lag: number;
  /** Minutes until the value is exact at a steady level (a rate's window is full). */
  readonly settle: number;
}

const NODE: Labels = { instance: "node-exporter:9100", job: JOBS.node };
const DISK: Labels = { device: "/dev/sda1", fstype: "ext4", instance: NODE["instance"]!, job: JOBS.node, mountpoint: "/" };
const requests = (status: string): Labels => ({ job: JOBS.proxyLog, method: "GET", status });
/** Requests per minute in the proxy fixtures: 100 a second. */
const RPM = 6000;

const diskModel: SignalModel = {
  value: () => `100 * (1 - node_filesystem_avail_bytes{job="${JOBS.node}",${NOT_DISKS}} / node_filesystem_size_bytes{job="${JOBS.node}",${NOT_DISKS}})`,
  series: (level, _app, minutes) => [
    { series: selector("node_filesystem_size_bytes", DISK), values: gauge(1e11, minutes) },
    { series: selector("node_filesystem_avail_bytes", DISK), values: gauge(1e11 * (1 - level / 100), minutes) },
  ],
  outputLabels: () => DISK,
  lag: 0,
  settle: 0,
};

export const SIGNAL_MODELS: Readonly<Record<AlertSignal, SignalModel>> = {
  errorRate: {
    value: () =>
      `100 * sum(rate(${PROXY_METRICS.requests}{job="${JOBS.proxyLog}",status=~"5.."}[5m])) / sum(rate(${PROXY_METRICS.requests}{job="${JOBS.proxyLog}"}[5m]))`,
    series: (level, _app, minutes) => [
      { series: selector(PROXY_METRICS.requests, requests("200")), values: counter((RPM * (100 - level)) / 100, minutes) },
      { series: selector(PROXY_METRICS.requests, requests("502")), values: counter((RPM * level) / 100, minutes) },
    ],
    outputLabels: () => ({}),
    lag: 1,
    settle: 1,
  },
  latencyAverage: {
    value: () =>
      `sum(rate(${PROXY_METRICS.responseTime}_sum{job="${JOBS.proxyLog}"}[5m])) / sum(rate(${PROXY_METRICS.responseTime}_count{job="${JOBS.proxyLog}"}[5m]))`,
    series: (level, _app, minutes) => [
      { series: selector(`${PROXY_METRICS.responseTime}_count`, requests("200")), values: counter(RPM, minutes) },
      { series: selector(`${PROXY_METRICS.responseTime}_sum`, requests("200")), values: counter(RPM * level, minutes) },
    ],
    outputLabels: () => ({}),
    lag: 1,
    settle: 1,
  },
  latencyP95: {
    value: () => `histogram_quantile(0.95, sum by (le) (rate(${PROXY_METRICS.responseTime}_bucket{job="${JOBS.proxyLog}"}[5m])))`,
    // 92.5 % of requests at most level/2 and the rest at most 2 x level: the interpolated p95 is the level.
    series: (level, _app, minutes) =>
      [
        [num(level / 2), 0.925],
        [num(level * 2), 1],
        ["+Inf", 1],
      ].map(([le, share]) => ({ series: selector(`${PROXY_METRICS.responseTime}_bucket`, { ...requests("200"), le: String(le) }), values: counter(RPM * Number(share), minutes) })),
    outputLabels: () => ({}),
    lag: 1,
    settle: 1,
  },
  cpu: {
    value: () => `100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{job="${JOBS.node}",mode="idle"}[5m])))`,
    series: (level, _app, minutes) => [{ series: selector("node_cpu_seconds_total", { cpu: "0", ...NODE, mode: "idle" }), values: counter(60 * (1 - level / 100), minutes) }],
    outputLabels: () => ({ instance: NODE["instance"]! }),
    lag: 1,
    settle: 6,
  },
  memory: {
    value: () => `100 * (1 - node_memory_MemAvailable_bytes{job="${JOBS.node}"} / node_memory_MemTotal_bytes{job="${JOBS.node}"})`,
    series: (level, _app, minutes) => [
      { series: selector("node_memory_MemTotal_bytes", NODE), values: gauge(8e9, minutes) },
      { series: selector("node_memory_MemAvailable_bytes", NODE), values: gauge(8e9 * (1 - level / 100), minutes) },
    ],
    outputLabels: () => NODE,
    lag: 0,
    settle: 0,
  },
  disk: diskModel,
  diskCritical: diskModel,
  dbConnections: {
    value: () => `100 * sum(pg_stat_activity_count{job="${JOBS.postgres}"}) / max(pg_settings_max_connections{job="${JOBS.postgres}"})`,
    series: (level, _app, minutes) => [
      { series: selector("pg_settings_max_connections", { instance: "postgres-exporter:9187", job: JOBS.postgres }), values: gauge(100, minutes) },
      { series: selector("pg_stat_activity_count", { datname: "app", instance: "postgres-exporter:9187", job: JOBS.postgres, state: "active" }), values: gauge(level, minutes) },
    ],
    outputLabels: () => ({}),
    lag: 0,
    settle: 0,
  },
  backupAge: {
    // The monitoring data's backup is daily whatever the database's schedule: its own rule (MonitoringBackupStale).
    value: (app) => `(time() - max by (app, kind) (${BACKUP_METRICS.lastSuccess}{app="${app}",kind!="monitoring"})) / 3600`,
    series: (level, app, minutes, at) => [
      { series: selector(BACKUP_METRICS.lastSuccess, { app, instance: NODE["instance"]!, job: JOBS.node, kind: "database" }), values: gauge(at * 60 - level * 3600, minutes) },
    ],
    outputLabels: (app) => ({ app, kind: "database" }),
    lag: 0,
    settle: 0,
  },
};
