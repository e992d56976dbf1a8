/**
 * renderPrometheusConfig: the app's prometheus.yml as a pure function. Targets are named by their
 * network aliases on the app's internal network in a deployment (127.0.0.1 ports in the tests):
 * the backend's replicas by DNS (every replica answers for the alias `backend`), the exporters,
 * and blackbox probes of every health endpoint through the proxy, and of every third-party service
 * the runbook checks (one job each, `external-<name>`, its series labelled `dependency="<name>"`).
 */
import { stringify } from "yaml";
import { DEPENDENCY_LABEL } from "../../policies/monitoring/signals";
import { JOBS } from "./signalModels";

export interface PrometheusConfigSpec {
  readonly app: string;
  readonly environment: string;
  readonly scrapeIntervalSeconds: number;
  readonly evaluationIntervalSeconds: number;
  /** How often each health endpoint is probed: the runbooks' 5-minute monitor, at 30 s or faster. */
  readonly probeIntervalSeconds: number;
  /** Rule files (globs) Prometheus loads. */
  readonly ruleFiles: readonly string[];
  readonly alertmanagers: readonly string[];
  /** `host:port` of each exporter and service, by job (JOBS). Jobs left out are not scraped. */
  readonly targets: Readonly<Partial<Record<Exclude<(typeof JOBS)[keyof typeof JOBS], "backend" | "health">, readonly string[]>>>;
  /** The backend's metrics endpoint, where the app has one: found by DNS (every replica), or listed. */
  readonly backend?: { readonly metricsPath: string } & ({ readonly dns: string; readonly port: number } | { readonly static: readonly string[] });
  /** Health endpoint URLs, probed through the proxy by the blackbox exporter at `blackbox`. */
  readonly probes: { readonly blackbox: string; readonly module: string; readonly urls: readonly string[] };
  /** Third-party services, probed by the same blackbox exporter at their own (slower) interval. */
  readonly external?: { readonly intervalSeconds: number; readonly probes: readonly { readonly name: string; readonly module: string; readonly url: string }[] };
}

/** The scrape job of external service `name`; its series also carry DEPENDENCY_LABEL. */
export const externalJob = (name: string) => `external-${name}`;

const seconds = (s: number) => `${s}s`;

export function renderPrometheusConfig(spec: PrometheusConfigSpec): string {
  if (spec.probeIntervalSeconds > 30) throw new Error("`probeIntervalSeconds` must be at most 30: health endpoints are probed every 30 s or faster");
  if (spec.probes.urls.length === 0) throw new Error("`probes.urls` must list at least one health endpoint");
  const staticJob = (job: string, targets: readonly string[]) => ({ job_name: job, static_configs: [{ targets: [...targets] }] });
  const scrape: Record<string, unknown>[] = Object.entries(spec.targets)
    .filter(([, targets]) => targets && targets.length > 0)
    .map(([job, targets]) => staticJob(job, targets!));
  if (spec.backend) {
    const b = spec.backend;
    scrape.push({
      job_name: JOBS.backend,
      metrics_path: b.metricsPath,
      ...("dns" in b ? { dns_sd_configs: [{ names: [b.dns], type: "A", port: b.port, refresh_interval: "30s" }] } : { static_configs: [{ targets: [...b.static] }] }),
    });
  }
  const probeJob = (job: string, module: string, intervalSeconds: number, targets: readonly string[], labels?: Record<string, string>) => ({
    job_name: job,
    metrics_path: "/probe",
    params: { module: [module] },
    scrape_interval: seconds(intervalSeconds),
    scrape_timeout: seconds(Math.min(10, intervalSeconds)),
    static_configs: [{ targets: [...targets], ...(labels && { labels }) }],
    relabel_configs: [
      { source_labels: ["__address__"], target_label: "__param_target" },
      { source_labels: ["__param_target"], target_label: "instance" },
      { target_label: "__address__", replacement: spec.probes.blackbox },
    ],
  });
  scrape.push(probeJob(JOBS.health, spec.probes.module, spec.probeIntervalSeconds, spec.probes.urls));
  for (const p of spec.external?.probes ?? []) {
    scrape.push(probeJob(externalJob(p.name), p.module, spec.external!.intervalSeconds, [p.url], { [DEPENDENCY_LABEL]: p.name }));
  }
  const config = {
    global: {
      scrape_interval: seconds(spec.scrapeIntervalSeconds),
      evaluation_interval: seconds(spec.evaluationIntervalSeconds),
      external_labels: { app: spec.app, environment: spec.environment },
    },
    rule_files: [...spec.ruleFiles],
    ...(spec.alertmanagers.length > 0 && { alerting: { alertmanagers: [{ static_configs: [{ targets: [...spec.alertmanagers] }] }] } }),
    scrape_configs: scrape,
  };
  return `# prometheus.yml for ${spec.app}: rendered by runbook-as-code, do not edit by hand.\n${stringify(config, { lineWidth: 0 })}`;
}
