/**
 * Stack config -> StackSpec: validate (every problem at once), then layer the stack's settings
 * over the catalog and DEFAULTS. Pure: no Pulumi runtime, no resources.
 */
import type { z } from "zod";
import { catalog, catalogIds } from "../apps";
import type { AppDefinition, ResourceLimits } from "../apps/types";
import { resolveBackups } from "./backups";
import { DEFAULTS, PROJECT, PROTECTED_ENVIRONMENTS } from "./defaults";
import { ConfigError, keyPath, type ConfigProblem } from "./errors";
import { resolveHostsAndFirewall } from "./hosts";
import { resolveDns } from "./dns";
import { stackConfigSchema, type StackConfig } from "./schema";
import { crossFieldProblems } from "./crossField";
import { resolveRotation } from "./secrets";
import { resolveAdoption } from "./adoption";
import { resolveMonitoring, type MonitoringSpec } from "./monitoring";
import { resolveReleases } from "./releases";
import { resolveMaintenance } from "./maintenance";
import { resolveReadReplicas } from "./readReplicas";
import { resolvePooler, type PoolerSpec } from "./pooler";
import { resolveLogging } from "./logging";
import { dockerHostApps, resolveFargate } from "./fargate";
import type { AppSpec, HostSpec, StackSpec } from "./spec";

const withMonitoring = (monitoring: MonitoringSpec | undefined) => (monitoring ? { monitoring } : {});
const withPooler = (pooler: PoolerSpec | undefined) => (pooler ? { pooler } : {});

type AppConfig = StackConfig["apps"][string];
type LimitsOverride = Partial<ResourceLimits> | undefined;

/** The raw config of a stack: the project's keys without the `runbook:` prefix. */
export type RawConfig = Readonly<Record<string, unknown>>;

/**
 * @param options.now the rotation clock (ms since the Unix epoch); the real time when not given. The
 *   Pulumi entry passes `rotationClock(...)`, the offline plan its `--now`.
 */
export function parseStackConfig(raw: RawConfig, project: string = PROJECT, options: { readonly now?: number } = {}): StackSpec {
  const now = options.now ?? Date.now();
  const result = stackConfigSchema.safeParse(raw, { reportInput: true });
  const problems = [
    ...(result.success ? [] : toProblems(result.error.issues, project)),
    ...crossFieldProblems(raw).map((p) => ({ path: keyPath(project, p.path), message: p.message })),
  ];
  if (problems.length > 0 || !result.success) throw new ConfigError(sortProblems(problems));
  const cfg = result.data as StackConfig;
  return {
    project,
    environment: cfg.environment,
    apps: Object.entries(cfg.apps).map(([id, app]) => resolveApp(catalog[id]!, app, cfg, now)),
  };
}

function toProblems(issues: readonly z.core.$ZodIssue[], project: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") {
      const appMap = issue.path.length === 1 && ["apps", "secrets", "alerting"].includes(String(issue.path[0]));
      for (const key of issue.keys) {
        problems.push({
          path: keyPath(project, [...issue.path, key]),
          message: appMap ? `unknown app; the catalog has ${catalogIds.join(", ")}` : "unknown key",
        });
      }
      continue;
    }
    let message = issue.message;
    if ("input" in issue && issue.input === undefined && issue.code !== "custom") {
      message = issue.message.startsWith("is required") ? issue.message : `is required (${issue.message})`;
    }
    problems.push({ path: keyPath(project, issue.path), message });
  }
  return problems;
}

/** Stable order, duplicates dropped: the same input always prints the same lines. */
function sortProblems(problems: readonly ConfigProblem[]): ConfigProblem[] {
  const unique = new Map(problems.map((p) => [`${p.path}\u0000${p.message}`, p]));
  return [...unique.values()].sort((a, b) => a.path.localeCompare(b.path) || a.message.localeCompare(b.message));
}

function mergeLimits(base: ResourceLimits, override: LimitsOverride): ResourceLimits {
  return { ...base, ...Object.fromEntries(Object.entries(override ?? {}).filter(([, v]) => v !== undefined)) };
}

export function parseHost(url: string, hostKey?: string): HostSpec {
  const parsed = new URL(url);
  if (parsed.protocol === "ssh:") {
    return {
      kind: "ssh",
      dockerHost: url,
      user: decodeURIComponent(parsed.username),
      host: parsed.hostname,
      port: parsed.port ? Number(parsed.port) : 22,
      ...(hostKey !== undefined && { hostKey }),
    };
  }
  return { kind: "local", dockerHost: url };
}

/**
 * Catalog env values may name what only a deployment knows: `{{domain}}` (the public host name) and
 * `{{tls}}` (`true` when the proxy terminates TLS). The LMS derives ALLOWED_HOSTS and
 * SECURE_SSL_REDIRECT from them, so a stack without TLS never redirects to an https that is not there.
 */
export function fillEnv(env: Readonly<Record<string, string>>, deployment: { domain: string; tls: boolean }): Record<string, string> {
  const values: Record<string, string> = { domain: deployment.domain, tls: String(deployment.tls) };
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => [
      k,
      v.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => {
        const value = values[name];
        if (value === undefined) throw new Error(`env ${k}: unknown placeholder ${whole}; known are {{domain}} and {{tls}}`);
        return value;
      }),
    ]),
  );
}

/** One app of the catalog (or any valid AppDefinition) under a stack's settings. */
export function resolveApp(def: AppDefinition, app: AppConfig, cfg: StackConfig, now: number = Date.now()): AppSpec {
  const secrets = cfg.secrets?.[def.id] ?? {};
  const external = def.backend.secretEnv.filter((s) => s.source === "external").map((s) => s.name);
  const cacheEnabled = def.cache !== undefined && (app.cache?.enabled ?? !def.cache.optional);
  const proxy = app.proxy ?? {};
  const publicHost = app.domain ?? DEFAULTS.publicHost;
  // On Fargate the load balancer always terminates TLS (config/fargate.ts).
  const deployment = { domain: publicHost, tls: proxy.tls !== undefined || app.fargate !== undefined };
  return {
    id: def.id,
    displayName: def.displayName,
    runbook: def.runbook,
    environment: cfg.environment,
    host: parseHost(app.host ?? DEFAULTS.host, app.hostKey),
    publicHost,
    protectState: PROTECTED_ENVIRONMENTS.includes(cfg.environment),
    logRotation: app.logRotation ?? DEFAULTS.logRotation,
    backend: {
      image: `${app.backend.repository ?? def.backend.image}:${app.backend.tag}`,
      port: def.backend.port,
      healthPath: def.backend.healthPath,
      runtime: def.backend.runtime,
      limits: mergeLimits(def.backend.limits, app.backend.limits),
      env: fillEnv({ ...def.backend.env, ...app.backend.env }, deployment),
      replicas: app.backend.replicas ?? def.backend.replicas,
      ...(def.backend.metricsPath !== undefined && { metricsPath: def.backend.metricsPath }),
      ...(def.backend.migrationCommand !== undefined && { migrationCommand: def.backend.migrationCommand }),
      ...(def.backend.releaseTask !== undefined && { releaseTask: def.backend.releaseTask }),
      secretEnv: def.backend.secretEnv,
      volumes: def.backend.volumes,
      needsEgress: def.backend.needsEgress,
      ...(def.backend.databaseCheck && { databaseCheck: def.backend.databaseCheck }),
      ...(def.backend.failedLoginsQuery && { failedLoginsQuery: def.backend.failedLoginsQuery }),
    },
    ...(def.frontend && {
      frontend: {
        image: `${app.frontend?.repository ?? def.frontend.image}:${app.frontend?.tag}`,
        port: def.frontend.port,
        healthPath: def.frontend.healthPath,
        runtime: def.frontend.runtime,
        limits: mergeLimits(def.frontend.limits, app.frontend?.limits),
        env: def.frontend.env,
        replicas: app.frontend?.replicas ?? def.frontend.replicas,
        ...(def.frontend.adminPort !== undefined && { adminPort: def.frontend.adminPort }),
      },
    }),
    database:
      def.database.engine === "postgres"
        ? {
            engine: "postgres",
            image: `${def.database.image}:${app.database?.tag ?? def.database.tag}`,
            database: def.database.database,
            user: def.database.user,
            port: def.database.port,
            limits: mergeLimits(def.database.limits, app.database?.limits),
            readReplicas: resolveReadReplicas(app.database),
            ...withPooler(resolvePooler(app.database?.pooler)),
          }
        : def.database,
    ...(def.cache &&
      cacheEnabled && {
        cache: {
          image: `${def.cache.image}:${app.cache?.tag ?? def.cache.tag}`,
          port: def.cache.port,
          limits: mergeLimits(def.cache.limits, app.cache?.limits),
          persistent: def.cache.persistent,
        },
      }),
    workers: def.workers.map((w) => ({
      name: w.name,
      command: w.command,
      healthcheck: w.healthcheck,
      replicas: app.workers?.[w.name]?.replicas ?? w.replicas,
      limits: mergeLimits(w.limits, app.workers?.[w.name]?.limits),
    })),
    proxy: {
      image: `${DEFAULTS.proxy.image}:${proxy.tag ?? DEFAULTS.proxy.tag}`,
      httpPort: proxy.httpPort ?? DEFAULTS.proxy.httpPort,
      httpsPort: proxy.httpsPort ?? DEFAULTS.proxy.httpsPort,
      ...(proxy.tls && { tls: proxy.tls }),
      // An incident lockdown turns the maintenance page on, unless the stack says `maintenance: false`.
      // A maintenance window (apps.<id>.maintenance.window) turns it on too.
      maintenance: proxy.maintenance ?? (app.firewall?.lockdown === true || app.maintenance?.window === true || DEFAULTS.proxy.maintenance),
      rateLimit: proxy.rateLimit ?? DEFAULTS.proxy.rateLimit,
      clientMaxBodyMb: proxy.clientMaxBodyMb ?? DEFAULTS.proxy.clientMaxBodyMb,
      limits: DEFAULTS.proxy.limits,
      routes: def.routes.filter((r) => r.service === "backend" || (def.frontend && def.frontend.adminPort === undefined)),
      healthEndpoints: def.healthEndpoints,
    },
    healthGate: {
      attempts: app.healthGate?.attempts ?? DEFAULTS.healthGate.attempts,
      intervalSeconds: app.healthGate?.intervalSeconds ?? DEFAULTS.healthGate.intervalSeconds,
    },
    externalSecrets: Object.fromEntries(Object.entries(secrets).map(([k, v]) => [k, v.secure])),
    unsetExternalSecrets: external.filter((name) => !(name in secrets)),
    backups: resolveBackups(def, app.backups, PROTECTED_ENVIRONMENTS.includes(cfg.environment)),
    rotation: resolveRotation(def, app.rotation, now),
    // Hosts and firewall: the firewall, and for a host the stack creates its machine and host.
    ...resolveHostsAndFirewall(def.id, app, dockerHostApps(cfg.apps), DEFAULTS),
    ...resolveDns(app, app.domain, DEFAULTS.host),
    // Monitoring and alerts:
    ...withMonitoring(resolveMonitoring(def, app.monitoring, cfg.alerting?.[def.id])),
    // Releases and rollback:
    ...resolveReleases(def, app),
    // Maintenance, scaling and diagnostics:
    ...resolveMaintenance(def.id, app, dockerHostApps(cfg.apps), DEFAULTS.host),
    // Adoption:
    ...resolveAdoption(app.adopt),
    // Centralized logging:
    ...resolveLogging(app.logging),
    // Container orchestration:
    ...resolveFargate(app.fargate, { protectState: PROTECTED_ENVIRONMENTS.includes(cfg.environment), ...(def.database.engine === "postgres" && { databaseLimits: def.database.limits }) }),
  };
}

export { ConfigError };
