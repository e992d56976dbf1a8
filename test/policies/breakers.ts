/**
 * How to break each kind of runbook requirement in a deployment: a change to the app's resolved
 * spec (what a stack file could set) or a transformation of its resources (what a code change
 * could do). Shared by the catalog-wide variants and the property test over random apps.
 */
import * as pulumi from "@pulumi/pulumi";
import type { AppRequirements, Rule } from "../../apps/requirements";
import type { AppSpec, StackSpec } from "../../config/spec";
import { deployStack } from "../../program";

export type Mutable<T> = { -readonly [K in keyof T]: Mutable<T[K]> };
export type Breaker = { spec?: (app: Mutable<AppSpec>) => void; transform?: (name: string, props: Record<string, unknown>) => Record<string, unknown> | undefined };

/** The policy that enforces each kind of requirement. */
export const POLICY: Record<string, string> = {
  replicas: "runbook-replicas-minimum",
  limits: "runbook-limits-minimum",
  health: "runbook-health-checks-probe",
  healthEndpoints: "runbook-health-gate-endpoints",
  migration: "runbook-migration-command",
  tls: "runbook-tls-required",
  database: "runbook-database-engine",
  private: "runbook-services-private",
  cacheOnly: "runbook-cache-only",
  metricsNotPublic: "runbook-metrics-not-public",
  secrets: "runbook-secret-formats",
  backupSchedule: "backup-schedule-runbook",
  backupRetention: "backup-retention-runbook",
  backupVerification: "backup-verification-runbook",
  backupBeforeDeploy: "backup-predeploy-runbook",
  backupMaxAgeHours: "backup-age-runbook",
  backupVersioned: "backup-versioning-runbook",
  backupEncrypted: "backup-encryption-runbook",
  rotation: "secrets-rotation-period-runbook",
  alerts: "monitoring-alerts-runbook-thresholds",
  externalProbes: "monitoring-external-probes-runbook",
};

/** Resource names of a service's containers, as AppStack names them. */
const containerOf = (id: string, service: string) =>
  ({ backend: `${id}-backend-`, frontend: `${id}-frontend-`, database: `${id}-db`, cache: `${id}-redis`, proxy: `${id}-proxy` })[service] ?? `${id}-worker-${service.replace(/^worker:/, "")}-`;
const isContainer = (name: string, id: string, service: string) => name === containerOf(id, service) || (containerOf(id, service).endsWith("-") && name.startsWith(containerOf(id, service)) && /\d+$/.test(name));

/** How to break one requirement of app `id` (`key`: the service, or the secret's name). */
export function breaker(kind: string, id: string, key: string, value: unknown): Breaker {
  switch (kind) {
    case "replicas":
      return {
        spec: (a) => {
          const n = (value as number) - 1;
          if (key === "backend") a.backend.replicas = n;
          else if (key === "frontend") a.frontend!.replicas = n;
          else a.workers.find((w) => `worker:${w.name}` === key)!.replicas = n;
        },
      };
    case "limits":
      return { transform: (name, p) => (isContainer(name, id, key) ? { ...p, memory: 64, cpus: "0.25" } : undefined) };
    case "health":
      return { transform: (name, p) => (isContainer(name, id, key) ? { ...p, healthcheck: { tests: ["CMD", "python", "-c", "urlopen('http://127.0.0.1:1/elsewhere')"] } } : undefined) };
    case "healthEndpoints":
      return { transform: (name, p) => (name === `${id}-health-gate` ? { ...p, create: "check_endpoint /elsewhere || failed=1" } : undefined) };
    case "migration":
      return { transform: (name, p) => (name === `${id}-migrate` ? { ...p, create: "docker run --rm img true" } : undefined) };
    case "tls":
      return { spec: (a) => void delete a.proxy.tls };
    case "database":
      return {
        spec: (a) => {
          const want = value as { engine: string; majorVersion?: number };
          if (want.engine === "sqlite") a.database = { engine: "postgres", image: "postgres:16.4-alpine", database: id, user: id, port: 5432, limits: { cpus: 1, memoryMb: 1024 }, readReplicas: 0 };
          else if (want.majorVersion !== undefined && a.database.engine === "postgres") a.database.image = `postgres:${want.majorVersion - 1}.0-alpine`;
          else a.database = { engine: "sqlite", path: "/app/data/app.db", volume: "data", walMode: true };
        },
      };
    case "private":
      return { transform: (name, p) => ((value as string[]).some((s) => isContainer(name, id, s)) ? { ...p, ports: [{ internal: 1234, external: 41234 }] } : undefined) };
    case "cacheOnly":
      return { transform: (name, p) => ((value as string[]).some((s) => isContainer(name, id, s)) ? { ...p, volumes: [{ volumeName: `${id}-kept`, containerPath: "/data" }] } : undefined) };
    case "metricsNotPublic":
      return { spec: (a) => void delete a.backend.metricsPath };
    case "secrets":
      // A single-slot secret, or slot a of a two-slot one.
      return { transform: (name, p) => (new RegExp(`^${id}-secrets-${key.toLowerCase().replace(/_/g, "-")}(-a)?$`).test(name) ? { ...p, length: 8 } : undefined) };
    case "backupSchedule":
      // Monthly, at another hour: too far apart, and off the runbook's time.
      return { spec: (a) => void (a.backups.schedule = "0 3 1 * *") };
    case "backupRetention":
      return { spec: (a) => Object.assign(a.backups, { localRetentionDays: 7, cloudRetentionDays: 30 }) };
    case "backupVerification":
      return {
        spec: (a) => void (a.backups.verifySchedule = "0 4 1 * *"),
        // A verification that no longer runs integrity_check on the restored copy.
        transform: (name, p) => (name === `${id}-backups-install` ? { ...p, create: pulumi.output(p["create"] as pulumi.Input<string>).apply((c) => c.split("PRAGMA integrity_check").join("PRAGMA quick_check")) } : undefined),
      };
    case "backupBeforeDeploy":
      return { spec: (a) => void (a.backups.preDeploy = false) };
    case "backupMaxAgeHours":
      return { spec: (a) => void (a.backups.schedule = "0 2 * * 0") };
    case "backupVersioned":
      return { transform: (name, p) => (name === `${id}-backup-versioning` ? { ...p, versioningConfiguration: { status: "Suspended" } } : undefined) };
    case "backupEncrypted":
      return { transform: (name, p) => (name === `${id}-backup-encryption` ? { ...p, rules: [] } : undefined) };
    case "rotation":
      // Every generated value of the app (`*`) or of the named secret rotates far less often than required.
      return {
        transform: (_name, p) => {
          const keepers = p["keepers"] as Record<string, string> | undefined;
          if (keepers?.["runbook.app"] !== id || (key !== "*" && keepers["runbook.secret"] !== key) || keepers["runbook.rotationDays"] === undefined) return undefined;
          return { ...p, keepers: { ...keepers, "runbook.rotationDays": String((value as number) + 275) } };
        },
      };
    case "alerts":
      // A stack that loosens the threshold: the rule fires only at twice the runbook's value.
      return {
        spec: (a) => {
          const alerts = a.monitoring!.alerts as Record<string, { threshold: number }>;
          alerts[key] = { ...alerts[key]!, threshold: (value as { threshold: number }).threshold * 2 };
        },
      };
    case "externalProbes":
      // A stack that gives no URL for the services the runbook checks: nothing probes them.
      return { spec: (a) => void (a.monitoring!.externalProbes = []) };
  }
  throw new Error(`no breaker for ${kind}`);
}

/** Every rule of a requirements object as [kind, key, rule]: key is the service or secret, "" for a rule about the whole app. */
export function requirementCases(requirements: AppRequirements): [string, string, Rule<unknown>][] {
  return Object.entries(requirements).flatMap(([kind, value]): [string, string, Rule<unknown>][] => {
    if (kind === "serviceNames" || value === undefined) return [];
    if ("source" in (value as object)) return [[kind, "", value as Rule<unknown>]];
    return Object.entries(value as Record<string, Rule<unknown>>).map(([key, rule]) => [kind, key, rule]);
  });
}

/**
 * The program with `b` applied to app `id`; `alone`: that app only, the stack's other apps left out (their
 * resources bear on none of its requirements, and planning five apps for each of a hundred cases is most of
 * a suite's time).
 */
export function withBreaker(id: string, b: Breaker, { alone = false }: { readonly alone?: boolean } = {}) {
  const transform: pulumi.ResourceTransformation = (args) => {
    const props = b.transform?.(args.name, args.props as Record<string, unknown>);
    return props ? { props, opts: args.opts } : undefined;
  };
  return (spec: StackSpec) => {
    const apps = spec.apps.filter((a) => !alone || a.id === id).map((a) => {
      if (a.id !== id || !b.spec) return a;
      const copy = structuredClone(a) as Mutable<AppSpec>;
      b.spec(copy);
      return copy as AppSpec;
    });
    return deployStack({ ...spec, apps }, { transformations: [transform] });
  };
}
