/**
 * Grafana's provisioning as pure functions: the Prometheus data source (a fixed uid the dashboards
 * name), a dashboard provider that forbids UI edits (git stays the source of truth), and three
 * dashboards: host (CPU, memory, disk, containers), API (rate, errors, latency percentiles, health
 * probes) and backups (age, size, last verification, restore time). Panels draw the app's alert
 * thresholds, from the same MonitoringSpec the rules come from.
 */
import { stringify } from "yaml";
import type { BackendLogMetricsDefinition } from "../../apps/types";
import type { AlertSignal, AlertThreshold } from "../../policies/monitoring/signals";
import { BACKUP_METRICS } from "../backups/metrics";
import { BACKEND_LOG_METRICS, databaseErrorMetric } from "./backendLogProgram";
import { JOBS, PROXY_METRICS, SIGNAL_MODELS } from "./signalModels";

/** The data source's uid: every panel names it. */
export const DATASOURCE_UID = "prometheus";

export const GRAFANA_PATHS = {
  datasources: "/etc/grafana/provisioning/datasources/runbook.yml",
  dashboardProvider: "/etc/grafana/provisioning/dashboards/runbook.yml",
  dashboards: "/etc/grafana/dashboards",
} as const;

export interface GrafanaSpec {
  readonly app: string;
  readonly displayName: string;
  /** `http://host:port` of Prometheus, as Grafana reaches it. */
  readonly prometheusUrl: string;
  readonly scrapeIntervalSeconds: number;
  readonly alerts: Readonly<Partial<Record<AlertSignal, AlertThreshold>>>;
  readonly postgres: boolean;
  /** Counted backend log lines (mtail): panels of payments and database errors on the API dashboard. */
  readonly backendLog?: BackendLogMetricsDefinition;
}

export function renderGrafanaDatasources(spec: Pick<GrafanaSpec, "prometheusUrl" | "scrapeIntervalSeconds">): string {
  const datasource = {
    name: "Prometheus",
    uid: DATASOURCE_UID,
    type: "prometheus",
    access: "proxy",
    url: spec.prometheusUrl,
    isDefault: true,
    editable: false,
    jsonData: { timeInterval: `${spec.scrapeIntervalSeconds}s` },
  };
  return `# Grafana data sources: rendered by runbook-as-code, do not edit by hand.\n${stringify({ apiVersion: 1, datasources: [datasource] })}`;
}

export function renderGrafanaDashboardProvider(folder: string): string {
  const provider = {
    name: "runbook",
    orgId: 1,
    folder,
    type: "file",
    disableDeletion: true,
    // Dashboards come from git: an edit in the UI cannot be saved.
    allowUiUpdates: false,
    updateIntervalSeconds: 60,
    options: { path: GRAFANA_PATHS.dashboards, foldersFromFilesStructure: false },
  };
  return `# Grafana dashboard provider: rendered by runbook-as-code, do not edit by hand.\n${stringify({ apiVersion: 1, providers: [provider] })}`;
}

export interface PanelSpec {
  readonly title: string;
  readonly unit: string;
  /** PromQL, with the legend of each series. */
  readonly targets: readonly { readonly expr: string; readonly legend: string }[];
  /** Alert thresholds drawn on the panel: [value, colour]. */
  readonly thresholds?: readonly (readonly [number, string])[];
}

export interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly panels: readonly PanelSpec[];
}

const DATASOURCE = { type: "prometheus", uid: DATASOURCE_UID };

function panelJson(p: PanelSpec, i: number) {
  return {
    id: i + 1,
    type: "timeseries",
    title: p.title,
    datasource: DATASOURCE,
    gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
    fieldConfig: {
      defaults: {
        unit: p.unit,
        thresholds: { mode: "absolute", steps: [{ color: "green", value: null }, ...(p.thresholds ?? []).map(([value, color]) => ({ color, value }))] },
        custom: { thresholdsStyle: { mode: p.thresholds?.length ? "line" : "off" } },
      },
      overrides: [],
    },
    targets: p.targets.map((t, j) => ({ refId: String.fromCharCode(65 + j), datasource: DATASOURCE, expr: t.expr, legendFormat: t.legend })),
  };
}

export function dashboardJson(app: GrafanaSpec, d: Dashboard): string {
  const json = {
    uid: d.uid,
    title: `${app.displayName}: ${d.title}`,
    tags: ["runbook", app.app],
    editable: false,
    schemaVersion: 39,
    time: { from: "now-6h", to: "now" },
    refresh: "30s",
    timezone: "utc",
    panels: d.panels.map(panelJson),
  };
  return `${JSON.stringify(json, null, 2)}\n`;
}

const line = (t: AlertThreshold | undefined, color: string): (readonly [number, string])[] => (t ? [[t.threshold, color]] : []);

/** Panels of the backend's counted log lines: what the runbook's greps would show, per minute. */
function backendLogPanels(log: BackendLogMetricsDefinition | undefined): PanelSpec[] {
  if (!log) return [];
  const perMinute = (metric: string) => `sum(increase(${metric}{job="${JOBS.backendLog}"}[5m])) / 5`;
  const panels: PanelSpec[] = [];
  if (log.payments) {
    const rate = (m: string) => `sum(rate(${m}{job="${JOBS.backendLog}"}[10m]))`;
    panels.push(
      {
        title: "Payment log lines a minute (all, failed, succeeded)",
        unit: "short",
        targets: [
          { expr: perMinute(BACKEND_LOG_METRICS.payments), legend: "all" },
          { expr: perMinute(BACKEND_LOG_METRICS.paymentFailed), legend: "failed" },
          { expr: perMinute(BACKEND_LOG_METRICS.paymentSucceeded), legend: "succeeded" },
        ],
      },
      {
        title: "Failed payments, % of failed and succeeded (10m)",
        unit: "percent",
        targets: [{ expr: `100 * ${rate(BACKEND_LOG_METRICS.paymentFailed)} / (${rate(BACKEND_LOG_METRICS.paymentFailed)} + ${rate(BACKEND_LOG_METRICS.paymentSucceeded)})`, legend: "failed" }],
        thresholds: [[log.payments.errorRate.thresholdPercent, "red"]],
      },
    );
  }
  if (log.authFailures) {
    panels.push({ title: "Failed logins in the backend log (24 h)", unit: "short", targets: [{ expr: `sum(increase(${BACKEND_LOG_METRICS.authFailures}{job="${JOBS.backendLog}"}[24h]))`, legend: log.authFailures.pattern }] });
  }
  if (log.database?.length) {
    panels.push({ title: "Database errors in the backend log, a minute", unit: "short", targets: log.database.map((d) => ({ expr: perMinute(databaseErrorMetric(d.name)), legend: d.name })) });
  }
  panels.push({
    title: "Backend log lines a minute",
    unit: "short",
    targets: [{ expr: perMinute(BACKEND_LOG_METRICS.lines), legend: "all" }, ...(log.errors ? [{ expr: perMinute(BACKEND_LOG_METRICS.errors), legend: log.errors.pattern }] : [])],
  });
  return panels;
}

/** The app's dashboards; uids `system`, `api` and `backups` (the Handwork runbook links /d/system and /d/api). */
export function grafanaDashboards(app: GrafanaSpec): Dashboard[] {
  const a = app.alerts;
  const value = (s: AlertSignal) => SIGNAL_MODELS[s].value(app.app);
  const requests = `${PROXY_METRICS.requests}{job="${JOBS.proxyLog}"}`;
  const quantile = (q: number) => `histogram_quantile(${q}, sum by (le) (rate(${PROXY_METRICS.responseTime}_bucket{job="${JOBS.proxyLog}"}[5m])))`;
  const backup = (metric: string) => `max by (kind) (${metric}{app="${app.app}"})`;
  const containers = `container_label_runbook_app="${app.app}"`;
  return [
    {
      uid: "system",
      title: "System",
      panels: [
        { title: "CPU usage", unit: "percent", targets: [{ expr: value("cpu"), legend: "{{instance}}" }], thresholds: line(a.cpu, "orange") },
        { title: "Memory usage", unit: "percent", targets: [{ expr: value("memory"), legend: "{{instance}}" }], thresholds: line(a.memory, "orange") },
        { title: "Disk usage", unit: "percent", targets: [{ expr: value("disk"), legend: "{{mountpoint}}" }], thresholds: [...line(a.disk, "orange"), ...line(a.diskCritical, "red")] },
        { title: "Container memory", unit: "bytes", targets: [{ expr: `sum by (name) (container_memory_working_set_bytes{${containers}})`, legend: "{{name}}" }] },
        { title: "Container CPU", unit: "short", targets: [{ expr: `sum by (name) (rate(container_cpu_usage_seconds_total{${containers}}[5m]))`, legend: "{{name}}" }] },
        { title: "Container health (1 healthy, 0 starting or unhealthy)", unit: "short", targets: [{ expr: `min by (name) (container_health_state{${containers}})`, legend: "{{name}}" }] },
        ...(app.postgres ? [{ title: "Database connections of max", unit: "percent", targets: [{ expr: value("dbConnections"), legend: "connections" }], thresholds: line(a.dbConnections, "orange") }] : []),
      ],
    },
    {
      uid: "api",
      title: "API",
      panels: [
        { title: "Requests by status", unit: "reqps", targets: [{ expr: `sum by (status) (rate(${requests}[5m]))`, legend: "{{status}}" }] },
        { title: "Error rate (5xx)", unit: "percent", targets: [{ expr: value("errorRate"), legend: "5xx" }], thresholds: line(a.errorRate, "red") },
        {
          title: "Response time percentiles",
          unit: "s",
          targets: [
            { expr: quantile(0.5), legend: "p50" },
            { expr: quantile(0.95), legend: "p95" },
            { expr: quantile(0.99), legend: "p99" },
          ],
          thresholds: line(a.latencyP95, "orange"),
        },
        { title: "Average response time", unit: "s", targets: [{ expr: value("latencyAverage"), legend: "average" }], thresholds: line(a.latencyAverage, "orange") },
        { title: "Health probes through the proxy", unit: "short", targets: [{ expr: `probe_success{job="${JOBS.health}"}`, legend: "{{instance}}" }] },
        { title: "Scrape targets up", unit: "short", targets: [{ expr: "sum by (job) (up)", legend: "{{job}}" }] },
        ...backendLogPanels(app.backendLog),
      ],
    },
    {
      uid: "backups",
      title: "Backups",
      panels: [
        { title: "Age of the last successful backup", unit: "h", targets: [{ expr: value("backupAge"), legend: "{{kind}}" }], thresholds: line(a.backupAge, "red") },
        { title: "Size of the last backup", unit: "bytes", targets: [{ expr: backup(BACKUP_METRICS.lastSize), legend: "{{kind}}" }] },
        { title: "Duration of the last backup", unit: "s", targets: [{ expr: backup(BACKUP_METRICS.lastDuration), legend: "{{kind}}" }] },
        { title: "Last verification passed (1) or failed (0)", unit: "short", targets: [{ expr: backup(BACKUP_METRICS.verifyLastStatus), legend: "{{kind}}" }] },
        { title: "Hours since the last passed verification", unit: "h", targets: [{ expr: `(time() - ${backup(BACKUP_METRICS.verifyLastSuccess)}) / 3600`, legend: "{{kind}}" }] },
        { title: "Restore time of the last verification", unit: "s", targets: [{ expr: backup(BACKUP_METRICS.restoreDuration), legend: "{{kind}}" }] },
      ],
    },
  ];
}
