/**
 * What an app's monitoring files are rendered from, derived from its resolved AppSpec: the rules'
 * spec, prometheus.yml's targets (network aliases on the app's internal network) and Grafana's.
 * Pure: the Monitoring component and the tests build the same texts from the same specs.
 */
import type { AppSpec } from "../../config/spec";
import type { AlertRulesSpec } from "./alertRules";
import { externalModule, HEALTH_MODULE, type BlackboxConfigSpec } from "./blackboxConfig";
import type { GrafanaSpec } from "./grafanaProvisioning";
import type { PrometheusConfigSpec } from "./prometheusConfig";
import { DEFAULTS, IN_PROXY_NAMESPACE, PATHS, PORTS, type MonitoringService } from "./settings";

/** `docs/operations.md#<id>`: where an alert's summary sends the operator. */
export const operationsUrl = (app: string) => `docs/operations.md#${app}`;

/** How Prometheus reaches a service: its alias, or the proxy's for the exporters in its network namespace. */
export const serviceAddress = (s: MonitoringService) => `${IN_PROXY_NAMESPACE.includes(s) ? "proxy" : s}:${PORTS[s]}`;

function monitoringOf(app: AppSpec) {
  if (!app.monitoring) throw new Error(`\`app.monitoring\` must be set: monitoring is off for ${app.id}`);
  return app.monitoring;
}

export function alertRulesSpec(app: AppSpec): AlertRulesSpec {
  const m = monitoringOf(app);
  return {
    app: app.id,
    displayName: app.displayName,
    runbook: app.runbook,
    alerts: m.alerts,
    slo: m.slo,
    tls: app.proxy.tls !== undefined,
    postgres: app.database.engine === "postgres",
    ...(app.database.engine === "postgres" && app.database.readReplicas > 0 && { readReplicas: app.database.readReplicas }),
    pooler: app.database.engine === "postgres" && app.database.pooler !== undefined,
    cache: app.cache !== undefined,
    externalProbes: m.externalProbes,
    ...(m.backendLog && { backendLog: m.backendLog }),
    docsUrl: operationsUrl(app.id),
  };
}

/** The blackbox exporter's modules: the health endpoints through the proxy, and each external service probed. */
export function blackboxSpec(app: AppSpec): BlackboxConfigSpec {
  const m = monitoringOf(app);
  return {
    publicHost: app.publicHost,
    tls: app.proxy.tls !== undefined,
    timeoutSeconds: 10,
    ...(m.externalProbes.length > 0 && { external: m.externalProbes.map((p) => ({ name: p.name, expect: p.expect, timeoutSeconds: p.timeoutSeconds })) }),
  };
}

export function prometheusSpec(app: AppSpec): PrometheusConfigSpec {
  const m = monitoringOf(app);
  return {
    app: app.id,
    environment: app.environment,
    scrapeIntervalSeconds: DEFAULTS.scrapeIntervalSeconds,
    evaluationIntervalSeconds: DEFAULTS.scrapeIntervalSeconds,
    probeIntervalSeconds: DEFAULTS.probeIntervalSeconds,
    ruleFiles: [PATHS.rules],
    alertmanagers: [serviceAddress("alertmanager")],
    targets: {
      prometheus: [`localhost:${PORTS.prometheus}`],
      alertmanager: [serviceAddress("alertmanager")],
      grafana: [serviceAddress("grafana")],
      node: [serviceAddress("node-exporter")],
      cadvisor: [serviceAddress("cadvisor")],
      blackbox: [serviceAddress("blackbox")],
      nginx: [serviceAddress("nginx-exporter")],
      "proxy-log": [serviceAddress("proxy-log-exporter")],
      ...(m.backendLog && { "backend-log": [serviceAddress("backend-log-exporter")] }),
      ...(app.database.engine === "postgres" && { postgres: [serviceAddress("postgres-exporter")] }),
      ...(app.database.engine === "postgres" && app.database.pooler && { pgbouncer: [serviceAddress("pgbouncer-exporter")] }),
      ...(app.cache && { redis: [serviceAddress("redis-exporter")] }),
    },
    ...(app.backend.metricsPath !== undefined && { backend: { metricsPath: app.backend.metricsPath, dns: "backend", port: app.backend.port } }),
    probes: {
      blackbox: serviceAddress("blackbox"),
      module: HEALTH_MODULE,
      urls: app.proxy.healthEndpoints.map((p) => (app.proxy.tls ? `https://proxy:443${p}` : `http://proxy:80${p}`)),
    },
    ...(m.externalProbes.length > 0 && {
      external: { intervalSeconds: DEFAULTS.externalProbeIntervalSeconds, probes: m.externalProbes.map((p) => ({ name: p.name, module: externalModule(p.name), url: p.url })) },
    }),
  };
}

export function grafanaSpec(app: AppSpec): GrafanaSpec {
  const m = monitoringOf(app);
  return {
    app: app.id,
    displayName: app.displayName,
    prometheusUrl: `http://${serviceAddress("prometheus")}`,
    scrapeIntervalSeconds: DEFAULTS.scrapeIntervalSeconds,
    alerts: m.alerts,
    postgres: app.database.engine === "postgres",
    ...(m.backendLog && { backendLog: m.backendLog }),
  };
}
