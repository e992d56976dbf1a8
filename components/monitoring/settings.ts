/**
 * What the monitoring containers run: pinned images, limits, ports, network aliases and file paths,
 * and the health check each image can run. Pure data and functions: no resources.
 */
import type { ResourceLimits } from "../../apps/types";
import type { HealthcheckSpec } from "../app/containerDefaults";
import { BACKEND_LOG } from "./backendLogProgram";
import { TOOLS_PATH } from "./deployScripts";
import { PROXY_LOG } from "./proxyLogExporterConfig";

export type MonitoringService =
  | "prometheus"
  | "alertmanager"
  | "grafana"
  | "node-exporter"
  | "cadvisor"
  | "blackbox"
  | "nginx-exporter"
  | "proxy-log-exporter"
  | "backend-log-exporter"
  | "postgres-exporter"
  | "pgbouncer-exporter"
  | "redis-exporter";

export const DEFAULTS = {
  /** Pinned images. Prometheus stays on the 2.x LTS line, which the tests' promtool (Debian 12: 2.42) checks. */
  images: {
    prometheus: "prom/prometheus:v2.53.2",
    alertmanager: "prom/alertmanager:v0.27.0",
    grafana: "grafana/grafana:11.2.2",
    "node-exporter": "prom/node-exporter:v1.8.2",
    // v0.60.5 or later: `container_health_state` follows the container's health (google/cadvisor#3760).
    cadvisor: "ghcr.io/google/cadvisor:v0.60.5",
    blackbox: "prom/blackbox-exporter:v0.25.0",
    "nginx-exporter": "nginx/nginx-prometheus-exporter:1.3.0",
    "proxy-log-exporter": "quay.io/martinhelmich/prometheus-nginxlog-exporter:v1.11.0",
    /**
     * mtail, built on the Docker host from BACKEND_LOG_IMAGE (Debian 12's package, the version the tests
     * run): google/mtail publishes binaries, no image.
     */
    "backend-log-exporter": "runbook/mtail:3.0.0-rc50-debian12",
    "postgres-exporter": "quay.io/prometheuscommunity/postgres-exporter:v0.15.0",
    // Reads PGBOUNCER_EXPORTER_CONNECTION_STRING (kingpin `.Envar`), so the stats password is never on its command line.
    "pgbouncer-exporter": "quay.io/prometheuscommunity/pgbouncer-exporter:v0.12.1",
    "redis-exporter": "oliver006/redis_exporter:v1.62.0-alpine",
    /** Static BusyBox for the health checks of exporters built FROM scratch. */
    busybox: "busybox:1.36.1-musl",
  } satisfies Record<MonitoringService | "busybox", string>,
  limits: {
    prometheus: { cpus: 1, memoryMb: 1024 },
    alertmanager: { cpus: 0.25, memoryMb: 128 },
    grafana: { cpus: 0.5, memoryMb: 512 },
    "node-exporter": { cpus: 0.25, memoryMb: 128 },
    cadvisor: { cpus: 0.5, memoryMb: 256 },
    blackbox: { cpus: 0.25, memoryMb: 128 },
    "nginx-exporter": { cpus: 0.25, memoryMb: 128 },
    "proxy-log-exporter": { cpus: 0.25, memoryMb: 128 },
    "backend-log-exporter": { cpus: 0.25, memoryMb: 128 },
    "postgres-exporter": { cpus: 0.25, memoryMb: 128 },
    "pgbouncer-exporter": { cpus: 0.25, memoryMb: 128 },
    "redis-exporter": { cpus: 0.25, memoryMb: 128 },
  } satisfies Record<MonitoringService, ResourceLimits>,
  scrapeIntervalSeconds: 15,
  /** The runbooks' health monitor runs every 5 minutes (LMS cron `*\/5`); the probes run every 15 s. */
  probeIntervalSeconds: 15,
  /** Third parties are probed every 30 s: four requests a minute from each host would be more than a check needs. */
  externalProbeIntervalSeconds: 30,
} as const;

/** Ports inside the containers. The exporters in the proxy's network namespace answer on the proxy's address. */
export const PORTS: Readonly<Record<MonitoringService, number>> = {
  prometheus: 9090,
  alertmanager: 9093,
  grafana: 3000,
  "node-exporter": 9100,
  cadvisor: 8080,
  blackbox: 9115,
  "nginx-exporter": 9113,
  "proxy-log-exporter": PROXY_LOG.exporterPort,
  "backend-log-exporter": BACKEND_LOG.port,
  "postgres-exporter": 9187,
  "pgbouncer-exporter": 9127,
  "redis-exporter": 9121,
};

/** Services reached by their own alias on the app's internal network; the others share the proxy's. */
export const IN_PROXY_NAMESPACE: readonly MonitoringService[] = ["nginx-exporter", "proxy-log-exporter"];

/** UIs an operator opens through an ssh tunnel: published on 127.0.0.1 only. */
export const UIS = ["prometheus", "alertmanager", "grafana"] as const;

export const PATHS = {
  prometheusConfig: "/etc/prometheus/prometheus.yml",
  rules: "/etc/prometheus/rules/runbook.yml",
  prometheusData: "/prometheus",
  alertmanagerConfig: "/etc/alertmanager/alertmanager.yml",
  grafanaData: "/var/lib/grafana",
  blackboxConfig: "/etc/blackbox_exporter/config.yml",
  proxyLogConfig: "/etc/prometheus-nginxlog-exporter/config.yml",
  backendLogProgram: `${BACKEND_LOG.programDir}/${BACKEND_LOG.programFile}`,
} as const;

const TIMING = { interval: "15s", timeout: "5s", retries: 5, startPeriod: "30s" } as const;

/** A health check that GETs a URL of the container with BusyBox wget (the image's, or the tools volume's). */
export function httpProbe(url: string, fromScratch = false): HealthcheckSpec {
  const wget = fromScratch ? [`${TOOLS_PATH}/busybox`, "wget"] : ["wget"];
  return { tests: ["CMD", ...wget, "-q", "-O", "/dev/null", url], ...TIMING };
}

/** Each service's health endpoint on 127.0.0.1 inside its container. */
export const HEALTH_PATHS: Readonly<Record<MonitoringService, string>> = {
  prometheus: "/-/healthy",
  alertmanager: "/-/healthy",
  grafana: "/api/health",
  "node-exporter": "/metrics",
  cadvisor: "/healthz",
  blackbox: "/-/healthy",
  "nginx-exporter": "/metrics",
  "proxy-log-exporter": "/metrics",
  "backend-log-exporter": "/metrics",
  "postgres-exporter": "/metrics",
  "pgbouncer-exporter": "/metrics",
  "redis-exporter": "/metrics",
};

/**
 * The monitoring containers an app runs: the stack's exporters and UIs, one exporter per stateful
 * service (PgBouncer's where the pooler is on), and the backend log exporter where the app's catalog
 * entry counts log lines.
 */
export function monitoringServices(app: { readonly database: { readonly engine: string; readonly pooler?: unknown }; readonly cache?: unknown; readonly monitoring?: { readonly backendLog?: unknown } }): MonitoringService[] {
  return [
    "node-exporter",
    "cadvisor",
    "blackbox",
    "nginx-exporter",
    "proxy-log-exporter",
    ...(app.monitoring?.backendLog !== undefined ? (["backend-log-exporter"] as const) : []),
    ...(app.database.engine === "postgres" ? (["postgres-exporter"] as const) : []),
    ...(app.database.engine === "postgres" && app.database.pooler ? (["pgbouncer-exporter"] as const) : []),
    ...(app.cache !== undefined ? (["redis-exporter"] as const) : []),
    "prometheus",
    "alertmanager",
    "grafana",
  ];
}
