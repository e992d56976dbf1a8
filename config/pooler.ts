/**
 * Connection pooling (LMS runbook, "Database Scaling", line 410: "Connection Pooling: PgBouncer for
 * connection management"): the stack setting `apps.<id>.database.pooler`, its cross-field rules, and
 * how it resolves. Off unless `enabled: true`; PostgreSQL apps only.
 *
 * The default pool mode is `session`. Django keeps state on the connection it opened: a queryset's
 * `.iterator()` declares a server-side cursor, fetched in later round trips, which transaction
 * pooling may hand to another server connection (Django's docs, "Transaction pooling and server-side
 * cursors": set DISABLE_SERVER_SIDE_CURSORS = True first). Session pooling works with every Django
 * setting unchanged, and still does what the runbook asks of PgBouncer: the app's clients queue in
 * PgBouncer instead of PostgreSQL refusing them past max_connections, and the server connections are
 * kept open and handed to the next client (a Django with CONN_MAX_AGE = 0 opens one per request, each
 * a new PostgreSQL process without the pooler). `transaction` is there for an app whose settings
 * disable server-side cursors.
 */
import { z } from "zod";
import type { ResourceLimits } from "../apps/types";
import type { RawProblem } from "./schema";

export type PoolMode = "session" | "transaction";

/**
 * Most server connections one app's pool may hold. The postgres image runs with max_connections 100,
 * 3 of them reserved for superusers; the pooler holds at most `defaultPoolSize` in all (its
 * max_db_connections), so at 40 the direct sessions (migrations, backups, the role step, the
 * monitoring exporter, an operator's psql) keep more than 50.
 */
export const MAX_POOL_SIZE = 40;
/** Most clients PgBouncer admits: each is a file descriptor, and the container's limit is set by Docker. */
export const MAX_CLIENT_CONN = 5000;

export const POOLER_DEFAULTS = {
  /** Off: backends connect to PostgreSQL directly unless the stack turns the pooler on. */
  enabled: false,
  /** Works with every Django setting (see the module's comment). */
  poolMode: "session",
  /** PgBouncer's own default. */
  defaultPoolSize: 20,
  /** The LMS runs 3 web replicas and an RQ worker; 200 leaves room for each to open dozens. */
  maxClientConn: 200,
  /** PgBouncer, pinned (edoburu/docker-pgbouncer: Alpine, PgBouncer on PATH, pg_isready and psql included). */
  image: "edoburu/pgbouncer:v1.24.1-p0",
  /** PgBouncer's usual port. */
  port: 6432,
  /** PgBouncer holds about 2 kB a connection; 128 MiB is the smallest limit the prod policy config counts. */
  limits: { cpus: 0.5, memoryMb: 128 } satisfies ResourceLimits,
} as const;

const wholeNumber = (what: string) => z.number({ error: `must be a whole number of ${what}` }).int({ error: `must be a whole number of ${what}` });

/** `apps.<id>.database.pooler`: the shape; the rules between fields are in poolerProblems. */
export const poolerSchema = z.strictObject({
  enabled: z.boolean({ error: "must be true or false" }).optional(),
  poolMode: z.enum(["session", "transaction"], { error: "must be session or transaction (session works with every Django setting; transaction needs DISABLE_SERVER_SIDE_CURSORS)" }).optional(),
  defaultPoolSize: wholeNumber("server connections")
    .min(1, { error: "must be at least 1" })
    .max(MAX_POOL_SIZE, { error: `must be at most ${MAX_POOL_SIZE}: PostgreSQL admits 100 connections, and migrations, backups and the role step connect directly` })
    .optional(),
  maxClientConn: wholeNumber("client connections")
    .min(1, { error: "must be at least 1" })
    .max(MAX_CLIENT_CONN, { error: `must be at most ${MAX_CLIENT_CONN}` })
    .optional(),
});

/** What AppStack is given where the pooler is on (absent where it is off). */
export interface PoolerSpec {
  /** `repository:tag` of PgBouncer. */
  readonly image: string;
  readonly poolMode: PoolMode;
  /** Server connections per database and user, and in all (max_db_connections). */
  readonly defaultPoolSize: number;
  readonly maxClientConn: number;
  /** The port PgBouncer listens on, on the app's internal network. */
  readonly port: number;
  readonly limits: ResourceLimits;
}

type Raw = Record<string, unknown>;
const isObject = (v: unknown): v is Raw => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * A SQLite app has no connections to pool; a pool larger than the clients PgBouncer admits would
 * never fill. Each problem on the key that is wrong.
 */
export function poolerProblems(appId: string, app: unknown, engine: "postgres" | "sqlite", displayName: string): RawProblem[] {
  const pooler = isObject(app) && isObject(app["database"]) ? app["database"]["pooler"] : undefined;
  if (pooler === undefined) return [];
  const at = (...rest: string[]) => ["apps", appId, "database", "pooler", ...rest];
  if (engine === "sqlite") {
    return [{ path: at(), message: `${displayName} uses SQLite inside the backend: there are no PostgreSQL connections for PgBouncer to pool; remove this key` }];
  }
  if (!isObject(pooler)) return [];
  const size = typeof pooler["defaultPoolSize"] === "number" ? pooler["defaultPoolSize"] : POOLER_DEFAULTS.defaultPoolSize;
  const clients = typeof pooler["maxClientConn"] === "number" ? pooler["maxClientConn"] : POOLER_DEFAULTS.maxClientConn;
  if (clients < size) {
    const key = pooler["maxClientConn"] !== undefined ? "maxClientConn" : "defaultPoolSize";
    return [{ path: at(key), message: `maxClientConn (${clients}) must be at least defaultPoolSize (${size}): a pool is filled by clients` }];
  }
  return [];
}

/** The pooler of a PostgreSQL app, defaulted; undefined where it is off. */
export function resolvePooler(pooler: z.infer<typeof poolerSchema> | undefined): PoolerSpec | undefined {
  if (!(pooler?.enabled ?? POOLER_DEFAULTS.enabled)) return undefined;
  return {
    image: POOLER_DEFAULTS.image,
    poolMode: pooler?.poolMode ?? POOLER_DEFAULTS.poolMode,
    defaultPoolSize: pooler?.defaultPoolSize ?? POOLER_DEFAULTS.defaultPoolSize,
    maxClientConn: pooler?.maxClientConn ?? POOLER_DEFAULTS.maxClientConn,
    port: POOLER_DEFAULTS.port,
    limits: POOLER_DEFAULTS.limits,
  };
}
