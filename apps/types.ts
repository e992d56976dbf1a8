import type { AlertSeverity } from "../policies/monitoring/signals";
import type { SecretKind } from "../policies/secrets/kinds";
import type { AppRequirements, RunbookLine, SecretFormat } from "./requirements";

/**
 * The app catalog's types: what a runbook says about an application, as data.
 * Nothing here reads config or declares a resource; a stack's settings are layered on top
 * in config/resolve.ts.
 */

/** CPU and memory limits of one container. */
export interface ResourceLimits {
  /** CPUs the container may use (docker `--cpus`). */
  readonly cpus: number;
  /** Hard memory limit in MiB (docker `--memory`). */
  readonly memoryMb: number;
  /** Soft memory reservation in MiB, where the runbook gives one. */
  readonly memoryReservationMb?: number;
}

/** The language runtime of an HTTP service: it decides how the container probes itself. */
export type ServiceRuntime = "python" | "node" | "nginx";

/** A secret environment variable the application reads. */
export type SecretEnvDefinition =
  | {
      readonly name: string;
      /** Made by the program (random), never typed by a person. */
      readonly source: "generated";
      /**
       * How it is made, as the runbook's command makes it: `openssl rand -base64 64` is 64 random
       * bytes, base64-encoded; `openssl rand -hex 32` is 32 bytes, hex. The length is in bytes of
       * randomness, not characters of text.
       */
      readonly format: SecretFormat;
      /** What it is for (its minimum of randomness depends on it); inferred from the name when absent. */
      readonly kind?: SecretKind;
      /**
       * The app verifies with the previous value too, given as `<NAME>_PREVIOUS`: two slots, and a
       * scheduled rotation replaces only the older one, so what was signed in the last window (a JWT,
       * a Django session) stays valid. Only an incident rotation replaces both.
       */
      readonly previousSlot?: boolean;
    }
  | {
      readonly name: string;
      /** Issued by a third party (payment provider, messaging...): the operator supplies it as a secure config value. */
      readonly source: "external";
      readonly description: string;
    };

/** A named volume holding state, mounted into a service. */
export interface StateVolume {
  /** Short name, unique within the app (`data`, `uploads`). */
  readonly name: string;
  readonly mountPath: string;
}

export interface HttpServiceDefinition {
  /** Image repository, without a tag: the stack chooses the tag. */
  readonly image: string;
  /** Port the service listens on inside its network. */
  readonly port: number;
  /** Path the container health check and the proxy health gate use, exactly as the runbook names it. */
  readonly healthPath: string;
  readonly runtime: ServiceRuntime;
  readonly limits: ResourceLimits;
  /**
   * Non-secret environment. A value may hold `{{domain}}` (the stack's public host name) or `{{tls}}`
   * (`true` when the proxy terminates TLS), filled in per stack (config/resolve.ts `fillEnv`).
   */
  readonly env: Readonly<Record<string, string>>;
}

export interface BackendDefinition extends HttpServiceDefinition {
  /** Prometheus metrics path, where the runbook names one. */
  readonly metricsPath?: string;
  /** The migration command, as the runbook gives it; absent where the runbook names none. */
  readonly migrationCommand?: readonly string[];
  /**
   * A release task the runbook runs after migrations and before the new release serves
   * (Django's collectstatic, seeding reference data): its own deploy step, in a one-off container
   * of the new image.
   */
  readonly releaseTask?: readonly string[];
  /**
   * Where the app's schema changes cannot be undone by a down-migration (it migrates itself at start,
   * with no command to go back): a rollback across a schema change then needs `--restore-data`.
   * Absent: alembic (`downgrade <revision>`) and Django (`migrate <app> <migration>`) go back.
   */
  readonly noDownMigration?: { readonly reason: string };
  readonly secretEnv: readonly SecretEnvDefinition[];
  /** Volumes of state the backend owns (SQLite file, uploads). */
  readonly volumes: readonly StateVolume[];
  /** The backend calls third-party APIs, so it joins the egress network (never the public one). */
  readonly needsEgress: boolean;
  /** Default replica count where the runbook scales the backend horizontally. */
  readonly replicas: number;
  /**
   * The runbook's own database check, run inside a backend container (`docker exec`): it passes when
   * its output contains `ok`. `npm run diagnose` runs it; where absent, the database is checked from outside.
   */
  readonly databaseCheck?: DatabaseCheckDefinition;
  /**
   * The runbook's count of failed logins from the app's own records, run inside a backend container
   * by `npm run diagnose` and shown as it answers (a count to read, not a check that passes).
   */
  readonly failedLoginsQuery?: FailedLoginsQueryDefinition;
}

export interface FailedLoginsQueryDefinition {
  readonly command: readonly string[];
  /** The answer's form, `<answer>: <count>`: a different answer (the query failed) is a problem. */
  readonly answer: string;
  readonly source: RunbookLine;
}

export interface DatabaseCheckDefinition {
  readonly command: readonly string[];
  /** The text a healthy answer contains. */
  readonly ok: string;
  readonly source: RunbookLine;
}

export interface FrontendDefinition extends HttpServiceDefinition {
  /**
   * An admin UI is not served to the public: it binds 127.0.0.1 on `adminPort` and operators
   * reach it through an ssh tunnel.
   */
  readonly adminPort?: number;
  /** Default replica count of a public frontend (an admin UI holds a fixed port: always one). */
  readonly replicas: number;
}

export interface PostgresDefinition {
  readonly engine: "postgres";
  readonly image: string;
  readonly tag: string;
  readonly database: string;
  readonly user: string;
  readonly port: 5432;
  readonly limits: ResourceLimits;
}

export interface SqliteDefinition {
  readonly engine: "sqlite";
  /** Path of the database file inside the backend container. */
  readonly path: string;
  /** Name of the backend volume that holds the file. */
  readonly volume: string;
  /** The runbook runs SQLite in WAL mode. */
  readonly walMode: boolean;
  /**
   * The app's audit table, copied into an incident's evidence bundle (the lockdown's and
   * `npm run diagnose -- --evidence`): the rows of the last `hours` by `timeColumn`.
   */
  readonly auditLog?: { readonly table: string; readonly timeColumn: string; readonly hours: number };
}

export type DatabaseDefinition = PostgresDefinition | SqliteDefinition;

export interface RedisDefinition {
  readonly engine: "redis";
  readonly image: string;
  readonly tag: string;
  readonly port: 6379;
  readonly limits: ResourceLimits;
  /** The runbook calls Redis optional: off unless the stack turns it on. */
  readonly optional: boolean;
  /**
   * Redis keeps data the app needs after a restart (sessions, a job queue): append-only file on a
   * protected volume. `false` for a cache only: no volume, nothing persisted.
   */
  readonly persistent: boolean;
}

export interface WorkerDefinition {
  /** Short name, unique within the app (`rq`). */
  readonly name: string;
  /** Workers run the backend image with this command. */
  readonly command: readonly string[];
  /** Health check command run in the worker container (CMD-SHELL). */
  readonly healthcheck: string;
  readonly replicas: number;
  readonly limits: ResourceLimits;
}

/**
 * A third-party service the runbook checks the app can reach (FairLens's Algorand node, Handwork's
 * payment and messaging providers). The catalog names it as the runbook does; the URL is the
 * stack's (`apps.<id>.monitoring.externalProbes.<name>.url`), since it differs per deployment.
 */
export interface ExternalServiceDefinition {
  /** Lower-case key: the stack setting's name, the probe's `dependency` label, the alert's name. */
  readonly name: string;
  /** As the runbook writes it. */
  readonly displayName: string;
  /**
   * What counts as up: `2xx`, an HTTP 2xx (a health endpoint); `any-response`, any HTTP answer
   * within the timeout (the runbook prints "OK (<status>)" whatever the status, as its endpoints
   * answer 401 or 405 without a key: only no answer at all is an error).
   */
  readonly expect: "2xx" | "any-response";
  /** How long the runbook waits for an answer (`requests.get(url, timeout=5)`). */
  readonly timeoutSeconds: number;
  /** The URL the runbook itself checks, where it gives one: quoted in config errors as an example. */
  readonly runbookUrl?: string;
  /** The runbook section an operator follows when the service is unreachable, where it has one. */
  readonly procedure?: string;
}

/**
 * A kind of backend log line an operator greps for, as a pattern: an RE2 regular expression (Go's
 * syntax, as mtail reads it) matched anywhere in the line. Only whether a line matches is counted:
 * nothing of the line's text becomes a label, so a secret in a log line never leaves the host.
 */
export interface LogLinePattern {
  readonly pattern: string;
  /** `grep -i`: letters match in either case. */
  readonly ignoreCase: boolean;
  /** The runbook line the pattern comes from (its grep, or the metric it measures). */
  readonly source: RunbookLine;
}

/** An alert on counted log lines: how urgent, and the runbook's words for that urgency. */
export interface LogAlertDefinition {
  readonly severity: AlertSeverity;
  /** The runbook's priority (`P0`, `P1`), where it sets one: an alert label. */
  readonly priority?: string;
  /** The runbook section an operator follows when the alert fires. */
  readonly procedure?: string;
  readonly source: RunbookLine;
}

/** A database error the backend logs: counted, and alerted on from its first line in five minutes. */
export interface DatabaseLogErrorDefinition {
  /** Lower camel case key: the metric's name (`poolExhausted` counts `backend_log_database_pool_exhausted_lines_total`). */
  readonly name: string;
  /** The alert's name. */
  readonly alert: string;
  /** What the line means, for the alert's summary. */
  readonly what: string;
  readonly line: LogLinePattern;
  readonly alertOn: LogAlertDefinition;
}

/**
 * Metrics counted from the backend's own log lines (mtail beside the app, reading the lines Docker
 * keeps for `docker logs`), for what a runbook monitors but the app exports no metric for: failed
 * payments, database connection errors. Counts of lines, not the app's own counters.
 */
export interface BackendLogMetricsDefinition {
  readonly payments?: {
    /** A line about a payment (the runbook's grep for payment logs). */
    readonly line: LogLinePattern;
    /** A payment line that also reports a failure (counted as failed even if it also says success). */
    readonly failure: LogLinePattern;
    /**
     * A payment line that reports a success. Lines that say neither (an attempt starting, a webhook
     * received) count as payment lines only: "every payment failed" means failures and no success, not
     * failures and no other line.
     */
    readonly success: LogLinePattern;
    /** Failed payment lines above this percentage of the failed and succeeded ones. */
    readonly errorRate: LogAlertDefinition & { readonly thresholdPercent: number };
    /** Every payment line failing: payments completely down, as far as the log can tell. */
    readonly down: LogAlertDefinition;
  };
  /** Lines the runbook greps for when it investigates (`error|exception|timeout`): counted for the dashboard. */
  readonly errors?: LogLinePattern;
  /** Failed logins, as the runbook counts them in the backend's log: counted for the dashboard (24 hours). */
  readonly authFailures?: LogLinePattern;
  readonly database?: readonly DatabaseLogErrorDefinition[];
}

/** A proxy route: requests under `path` go to `service`. */
export interface ProxyRoute {
  readonly path: string;
  readonly service: "backend" | "frontend";
}

export interface AppDefinition {
  /** Catalog id, also the stack config key (`runbook:apps.<id>`). */
  readonly id: string;
  readonly displayName: string;
  /** The runbook file in ../shared/runbooks this definition is taken from. */
  readonly runbook: string;
  readonly backend: BackendDefinition;
  readonly frontend?: FrontendDefinition;
  readonly database: DatabaseDefinition;
  readonly cache?: RedisDefinition;
  readonly workers: readonly WorkerDefinition[];
  /** Public routes through the proxy, most specific first. */
  readonly routes: readonly ProxyRoute[];
  /** Endpoints the health gate polls through the proxy, exactly as the runbook names them. */
  readonly healthEndpoints: readonly string[];
  /** Third-party services the runbook checks the app can reach: probed by its blackbox exporter. */
  readonly externalServices?: readonly ExternalServiceDefinition[];
  /** Metrics counted from the backend's log lines (an mtail exporter), where the app opts in. */
  readonly backendLogMetrics?: BackendLogMetricsDefinition;
  /** What the runbook requires, with the line each requirement comes from (enforced by the policy pack). */
  readonly requirements: AppRequirements;
}
