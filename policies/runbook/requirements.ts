/**
 * The types of the runbook requirements: defined here, in the policy pack, so the pack stands alone;
 * the app catalog (apps/) imports them to state each app's requirements.
 *
 * What an app's runbook requires, as data, apart from what the program deploys by default. A stack
 * may set any value (more replicas, smaller limits in staging...); the policy pack reads these
 * requirements (shipped as policies/requirements.json, generated from the catalog by
 * `npm run generate:requirements`) and decides whether the stack still meets its runbook.
 *
 * Every rule names the runbook line it comes from, so a refusal can say which procedure it protects:
 * "lms: web replicas 1 < 3 required in production (003 'Horizontal Scaling')".
 */
import type { AlertSignal, AlertThreshold } from "../monitoring/signals";

/** The place in the runbook a requirement is read from. */
export interface RunbookLine {
  /** The section heading, exactly as the runbook writes it. */
  readonly section: string;
  /** 1-based line number in the runbook file. */
  readonly line: number;
  /** The words of that line the requirement rests on. */
  readonly quote: string;
}

/**
 * One requirement: the value production must meet, where it comes from, and the runbook's own
 * staging rule where it sets one. Without a staging rule, staging is held to `value` as advice only.
 */
export interface Rule<T> {
  readonly value: T;
  readonly source: RunbookLine;
  readonly staging?: T;
  /** Where the runbook sets the staging rule (required with `staging`). */
  readonly stagingSource?: RunbookLine;
}

/**
 * A service of an app, as containers are labelled (`runbook.service`): `backend`, `frontend`,
 * `database`, `cache`, `proxy`, `pooler` (PgBouncer), `worker:<name>`, or `monitoring:<name>` (Prometheus, the exporters...).
 */
export type ServiceName = "backend" | "frontend" | "database" | "database-replica" | "cache" | "proxy" | "pooler" | `worker:${string}` | `monitoring:${string}` | `logging:${string}`;

export interface MinimumLimits {
  /** Fewest CPUs the service may be limited to. */
  readonly cpus?: number;
  /** Smallest memory limit, in MiB. */
  readonly memoryMb?: number;
}

/** What a container's own health check must probe. */
export interface HealthProbe {
  /** The port the check must call. */
  readonly port?: number;
  /** The path the check must request, exactly as the runbook names it. */
  readonly path?: string;
  /** Words the check command must contain (a worker's check must reach its queue, say). */
  readonly contains?: readonly string[];
}

export interface MigrationRequirement {
  /** The migration command, argv as the runbook gives it. */
  readonly command: readonly string[];
  /** A release task the runbook runs after migrations (collectstatic, seeding reference data...). */
  readonly then?: readonly string[];
}

export type DatabaseRequirement =
  | { readonly engine: "postgres"; /** Where the runbook names one. */ readonly majorVersion?: number }
  | { readonly engine: "sqlite" };

/** How a generated secret is made: bytes of randomness and their text encoding, as the runbook's command does. */
export type SecretFormat =
  | { readonly encoding: "base64" | "hex"; readonly bytes: number }
  | { readonly encoding: "alphanumeric"; readonly length: number };

export interface AppRequirements {
  /** Names the runbook uses for services in messages (`web` for the LMS backend). */
  readonly serviceNames?: Partial<Record<ServiceName, string>>;
  /** Fewest replicas per service. */
  readonly replicas?: Partial<Record<ServiceName, Rule<number>>>;
  /** Smallest CPU and memory limits per service. */
  readonly limits?: Partial<Record<ServiceName, Rule<MinimumLimits>>>;
  /** What each service's container health check must probe. */
  readonly health?: Partial<Record<ServiceName, Rule<HealthProbe>>>;
  /** Endpoints the health gate must poll through the proxy. */
  readonly healthEndpoints?: Rule<readonly string[]>;
  readonly migration?: Rule<MigrationRequirement>;
  /** The proxy terminates TLS (443 published, http redirected). */
  readonly tls?: Rule<boolean>;
  readonly database?: Rule<DatabaseRequirement>;
  /** Services that must never be reachable from outside the host: no published port, not on a public network. */
  readonly private?: Rule<readonly ServiceName[]>;
  /** Services that hold no state: no volume mounted, nothing persisted. */
  readonly cacheOnly?: Rule<readonly ServiceName[]>;
  /** A metrics path the proxy must never serve to the public. */
  readonly metricsNotPublic?: Rule<string>;
  /** How each generated secret is made, by variable name. */
  readonly secrets?: Readonly<Record<string, Rule<SecretFormat>>>;

  // Backups: requirement fields of that area go below this line.
  /** Scheduled backups at most this many hours apart, at the runbook's time where it gives one. */
  readonly backupSchedule?: Rule<BackupScheduleRequirement>;
  /** Days backups are kept on the host and in the cloud, at least. */
  readonly backupRetention?: Rule<BackupRetentionRequirement>;
  /** How often, and how deeply, the newest backup is proved by a test restore. */
  readonly backupVerification?: Rule<BackupVerificationRequirement>;
  /** A backup is taken before every deploy, before migrations run. */
  readonly backupBeforeDeploy?: Rule<boolean>;
  /**
   * Hours without a successful backup after which the runbook alerts: the schedule must run more
   * often than this (the monitoring area alerts on the same number).
   */
  readonly backupMaxAgeHours?: Rule<number>;
  /** Off-site copies are versioned. */
  readonly backupVersioned?: Rule<boolean>;
  /** Off-site copies are encrypted at rest (and reached over TLS only). */
  readonly backupEncrypted?: Rule<boolean>;

  // Monitoring and alerts: requirement fields of that area go below this line.
  /**
   * Alert thresholds by signal (units in policies/monitoring/signals.ts): the app's rule for the
   * signal must fire at this threshold or below, within `forMinutes` or sooner, at this severity or higher.
   */
  readonly alerts?: Readonly<Partial<Record<AlertSignal, Rule<AlertThreshold>>>>;
  /**
   * Third-party services (by the catalog's name: `algorand`, `stripe`...) the runbook checks the app
   * can reach: each has a blackbox probe in the app's Prometheus and an alert when it fails.
   */
  readonly externalProbes?: Rule<readonly string[]>;

  // Hosts and firewall: requirement fields of that area go below this line.

  // Secret rotation: requirement fields of that area go below this line.
  /**
   * Longest period between two rotations, in days, by secret name; `*` for every generated secret
   * of the app (FairLens: "**Quarterly**: Review and rotate secrets/keys"). The program rotates each
   * secret every period (90 days where the runbook names none), so a stack meets this by default.
   */
  readonly rotation?: Readonly<Record<string, Rule<number>>>;
}

export interface BackupScheduleRequirement {
  /** The longest gap between two scheduled backups, in hours (daily: 24). */
  readonly maxIntervalHours: number;
  /** The runbook's time, as a five-field cron expression in UTC, where it gives one. */
  readonly cron?: string;
}

export interface BackupRetentionRequirement {
  /** Days a backup stays on the host. */
  readonly localDays?: number;
  /** Days a backup stays in the cloud bucket. */
  readonly cloudDays?: number;
}

export interface BackupVerificationRequirement {
  /** The longest gap between two verifications, in days (weekly: 7). */
  readonly maxIntervalDays?: number;
  /** The verification runs `PRAGMA integrity_check` on the restored SQLite copy. */
  readonly integrityCheck?: boolean;
}

/** The three-digit number of a runbook file (`003_3d53….txt` → `003`): how messages cite it. */
export const runbookNumber = (file: string): string => file.slice(0, 3);

/** One app's entry in policies/requirements.json. */
export interface AppRequirementsEntry {
  readonly displayName: string;
  /** The runbook file the requirements are read from. */
  readonly runbook: string;
  /** Every secret variable the app's containers carry (generated, external, or made by the program). */
  readonly secretEnv: readonly string[];
  readonly requirements: AppRequirements;
}

/** The content of policies/requirements.json, by catalog id. */
export type RequirementsData = Readonly<Record<string, AppRequirementsEntry>>;
