/**
 * Database upkeep as POSIX sh scripts run on the Docker host by the maintenance timers (as root),
 * pure functions of the app's spec. Containers are found by the labels AppStack puts on them
 * (`runbook.app`, `runbook.service`), never by name: Pulumi names them with a random suffix.
 *
 * - PostgreSQL (LMS "Maintenance Tasks" L543-544): `VACUUM (ANALYZE)` weekly and `REINDEX DATABASE`
 *   monthly, through `docker exec` into the database container (its local socket, as the owner).
 *   On PostgreSQL 12 or later the reindex is `REINDEX DATABASE ... CONCURRENTLY`, which does not
 *   block writes (https://www.postgresql.org/docs/current/sql-reindex.html); system catalogs are
 *   then skipped, as that page says.
 * - SQLite (FDTS "Weekly Maintenance" L186, Handwork "Weekly Database Optimization" L350): `VACUUM`,
 *   `ANALYZE` and `PRAGMA integrity_check` weekly, on the database file in the backend's volume,
 *   read from the host (its mount source): the host's sqlite3 and the app share one kernel, so WAL's
 *   shared memory works between them. WAL mode is set where the catalog says so (it persists in the
 *   file); the Handwork pragmas (L447-450) are applied to the maintenance connection and reported.
 *   The job holds the app's database lock (../shared/databaseLock.ts), shared with the backup and
 *   restore scripts, so a restore never replaces the file while this job has it open.
 */
import { databaseLockFunction } from "../shared/databaseLock";
import { shellQuote } from "../shared/shell";

const ID = /^[a-z][a-z0-9-]*$/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `c=$(...)`: the first running container of a service of the app, or a clear failure. */
export function findContainer(variable: string, appId: string, service: string, what: string): string[] {
  if (!ID.test(appId)) throw new Error(`\`appId\` must be a catalog id (got ${appId})`);
  return [
    `${variable}=$(docker ps -q --filter label=runbook.app=${appId} --filter label=runbook.service=${service} | head -n 1)`,
    `if [ -z "$${variable}" ]; then echo "${appId}: no running ${what} container (label runbook.service=${service})" >&2; exit 1; fi`,
  ];
}

export type PostgresTask = "vacuum-analyze" | "reindex";

export interface PostgresMaintenanceSpec {
  readonly appId: string;
  readonly database: string;
  readonly user: string;
  readonly task: PostgresTask;
}

export function renderPostgresMaintenanceScript(spec: PostgresMaintenanceSpec): string {
  for (const [key, value] of [["database", spec.database], ["user", spec.user]] as const) {
    if (!IDENT.test(value)) throw new Error(`\`${key}\` must be a plain SQL identifier (got ${value})`);
  }
  const psql = `docker exec -i "$db" psql -X -q -v ON_ERROR_STOP=1 -U ${spec.user} -d ${spec.database}`;
  const body =
    spec.task === "vacuum-analyze"
      ? [`${psql} -c 'VACUUM (ANALYZE);'`, `echo "${spec.appId}: VACUUM (ANALYZE) done on ${spec.database}"`]
      : [
          `version=$(${psql} -At -c 'SHOW server_version_num;')`,
          'case "$version" in *[!0-9]*|"") echo "' + spec.appId + ': unexpected server_version_num: $version" >&2; exit 1;; esac',
          'if [ "$version" -ge 120000 ]; then',
          `  ${psql} -c 'REINDEX DATABASE CONCURRENTLY ${spec.database};'`,
          `  echo "${spec.appId}: REINDEX DATABASE CONCURRENTLY done on ${spec.database}"`,
          "else",
          `  ${psql} -c 'REINDEX DATABASE ${spec.database};'`,
          `  echo "${spec.appId}: REINDEX DATABASE done on ${spec.database} (PostgreSQL before 12 has no CONCURRENTLY)"`,
          "fi",
        ];
  return [
    "#!/bin/sh",
    `# ${spec.task} of ${spec.appId}'s PostgreSQL: rendered by runbook-as-code, do not edit by hand.`,
    "set -eu",
    ...findContainer("db", spec.appId, "database", "database"),
    ...body,
    "",
  ].join("\n");
}

/** Per-connection SQLite pragmas, `name=value`, as the runbook gives them. */
export type SqlitePragmas = readonly { readonly name: string; readonly value: string }[];

export interface SqliteMaintenanceSpec {
  readonly appId: string;
  /** The database file inside the backend container, e.g. /app/data/database.sqlite. */
  readonly path: string;
  /** Where the volume holding it is mounted in the backend container, e.g. /app/data. */
  readonly mountPath: string;
  readonly walMode: boolean;
  readonly pragmas: SqlitePragmas;
  /** How long a statement waits for the app's lock, in ms. */
  readonly busyTimeoutMs?: number;
  /** `weekly`: VACUUM, ANALYZE, WAL checkpoint; `reindex`: REINDEX (Handwork "Monthly Index Optimization" L384). Default weekly. */
  readonly task?: "weekly" | "reindex";
}

export function renderSqliteMaintenanceScript(spec: SqliteMaintenanceSpec): string {
  if (!spec.path.startsWith(`${spec.mountPath}/`)) throw new Error(`\`path\` ${spec.path} must be inside \`mountPath\` ${spec.mountPath}`);
  for (const p of spec.pragmas) {
    if (!IDENT.test(p.name) || !/^[A-Za-z0-9_-]+$/.test(p.value)) throw new Error(`\`pragmas\` ${p.name}=${p.value} is not a plain pragma`);
  }
  const relative = spec.path.slice(spec.mountPath.length + 1);
  const busy = spec.busyTimeoutMs ?? 30_000;
  const task = spec.task ?? "weekly";
  const sql = [
    `PRAGMA busy_timeout=${busy};`,
    ...(spec.walMode ? ["PRAGMA journal_mode=WAL;"] : []),
    ...spec.pragmas.map((p) => `PRAGMA ${p.name}=${p.value};`),
    ...(task === "reindex" ? ["REINDEX;"] : ["VACUUM;", "ANALYZE;", ...(spec.walMode ? ["PRAGMA wal_checkpoint(TRUNCATE);"] : [])]),
  ];
  const done = task === "reindex" ? "REINDEX" : "VACUUM, ANALYZE";
  return [
    "#!/bin/sh",
    `# ${task === "reindex" ? "Monthly REINDEX" : "Weekly upkeep"} of ${spec.appId}'s SQLite: rendered by runbook-as-code, do not edit by hand.`,
    "set -eu",
    `if ! command -v sqlite3 >/dev/null 2>&1; then echo "${spec.appId}: sqlite3 is not installed on this host (apt-get install sqlite3)" >&2; exit 1; fi`,
    ...databaseLockFunction(spec.appId),
    // Before the file is opened: a restore must not replace it under this job's connection.
    "db_lock",
    ...findContainer("backend", spec.appId, "backend", "backend"),
    `source=$(docker inspect -f '{{range .Mounts}}{{if eq .Destination ${JSON.stringify(spec.mountPath)}}}{{.Source}}{{end}}{{end}}' "$backend")`,
    `if [ -z "$source" ]; then echo "${spec.appId}: the backend has no volume at ${spec.mountPath}" >&2; exit 1; fi`,
    `file="$source"/${shellQuote(relative)}`,
    `if [ ! -f "$file" ]; then echo "${spec.appId}: no database file at $file" >&2; exit 1; fi`,
    // A damaged file is reported and left alone: VACUUM rewrites every page.
    "integrity() {",
    `  check=$(sqlite3 -batch "$file" 'PRAGMA busy_timeout=${busy}; PRAGMA integrity_check;' 2>&1 | tail -n +2)`,
    `  if [ "$check" != ok ]; then echo "${spec.appId}: PRAGMA integrity_check failed $1:" >&2; echo "$check" >&2; exit 1; fi`,
    "}",
    "integrity before",
    `if ! sqlite3 -batch "$file" <<'SQL' >/dev/null`,
    ...sql,
    "SQL",
    `then echo "${spec.appId}: ${done} failed on $file" >&2; exit 1; fi`,
    "integrity after",
    `mode=$(sqlite3 -batch "$file" 'PRAGMA journal_mode;')`,
    ...(spec.walMode ? [`if [ "$mode" != wal ]; then echo "${spec.appId}: journal_mode is $mode, not wal" >&2; exit 1; fi`] : []),
    `echo "${spec.appId}: ${done} done; integrity_check ok; journal_mode $mode${spec.pragmas.length ? `; ${spec.pragmas.map((p) => `${p.name}=${p.value}`).join(", ")} applied to this connection` : ""}"`,
    "",
  ].join("\n");
}
