/**
 * PostgreSQL streaming read replicas, rendered: what the primary is given (a replication role and
 * one pg_hba rule) and what each replica container runs (clone with `pg_basebackup -R`, then a hot
 * standby). Pure functions; the real-server test runs these very texts against two PostgreSQL
 * clusters on 127.0.0.1.
 *
 * The replication password reaches the primary only as a SCRAM verifier (on the step's stdin) and a
 * replica only as PGPASSWORD in its environment (a Pulumi secret): `pg_basebackup -R` writes the
 * connection it used, password included, into postgresql.auto.conf, and the replica's script
 * rewrites that line without it. The WAL receiver is libpq in the replica's server process, which
 * reads PGPASSWORD from the environment the script started it with, so a rotated password takes
 * effect when the container is replaced with the new one, without a new clone.
 *
 * A replica never serves a copy of a cluster that is no longer the primary's: every start compares
 * its system identifier and major version with the primary's (IDENTIFY_SYSTEM over a replication
 * connection) and clones again when either differs (a primary whose data directory was replaced: a
 * recovery stack, a new volume, a major upgrade), or when the last clone did not finish. A restore
 * into the running primary (`restore.sh`: pg_restore in one transaction) is WAL like any write: the
 * replicas replay it, nothing to re-clone.
 */
import { quoteIdent, quoteLiteral } from "../secrets/databaseRolesScript";
import { shellQuote } from "../shared/shell";
import type { HealthcheckSpec } from "./containerDefaults";

/** The role replicas connect as: REPLICATION and LOGIN, nothing else. */
export const REPLICATION_ROLE = "replicator";

/** First and last lines of the rules this program puts at the top of the primary's pg_hba.conf. */
export const HBA_BEGIN = "# runbook: read replicas (begin; managed by the replication step)";
export const HBA_END = "# runbook: read replicas (end)";

/**
 * The primary's pg_hba rules for replication, first in the file (pg_hba is first match): the
 * replication role with its password from the networks the primary is attached to (`samenet`: the
 * app's internal network, the only one the database container joins, and its own loopback), and no
 * other replication connection over TCP. The image's `local replication all trust` (its own socket)
 * stays below.
 */
export function renderReplicationHbaRules(role: string = REPLICATION_ROLE): string[] {
  return [HBA_BEGIN, `host replication ${quoteIdent(role)} samenet scram-sha-256`, "host replication all all reject", HBA_END];
}

/** The role's SQL: exists, may replicate and log in, nothing more, with the given SCRAM verifier. */
export function renderReplicationRoleSql(verifier: string, role: string = REPLICATION_ROLE): string {
  if (!/^SCRAM-SHA-256\$\d+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/.test(verifier)) {
    throw new Error("replication role: the password must be given as a SCRAM-SHA-256 verifier, never in plain text");
  }
  return [
    "SET client_min_messages = warning;",
    "DO $$",
    "BEGIN",
    `  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = ${quoteLiteral(role)}) THEN CREATE ROLE ${quoteIdent(role)} REPLICATION LOGIN; END IF;`,
    "END",
    "$$;",
    `ALTER ROLE ${quoteIdent(role)} WITH REPLICATION LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD ${quoteLiteral(verifier)};`,
    "",
  ].join("\n");
}

export interface PrimarySetupSpec {
  /** The image's POSTGRES_USER (superuser), reached over the container's local socket. */
  readonly owner: string;
  readonly database: string;
  /** Seconds to wait for PostgreSQL to accept connections. */
  readonly waitSeconds: number;
  readonly role?: string;
}

/**
 * The step run inside the primary (`docker exec -i <db> sh -c <script>`), stdin the role's SQL: the
 * role gets its verifier, the rules go at the top of pg_hba.conf once (rewritten in place: the file
 * keeps its owner), the server reloads, and the step checks that PostgreSQL reads the rule.
 */
export function renderPrimarySetupScript(spec: PrimarySetupSpec): string {
  const role = spec.role ?? REPLICATION_ROLE;
  const q = shellQuote;
  const psql = `psql -X -q -v ON_ERROR_STOP=1 -U ${q(spec.owner)} -d ${q(spec.database)}`;
  return [
    "#!/bin/sh",
    `# Read replicas: the replication role ${role} and its pg_hba rule on the primary.`,
    "set -eu",
    "# The image's first-start init server listens on the socket only: wait for the real one, on TCP.",
    "attempt=0",
    `until pg_isready -q -h 127.0.0.1 -U ${q(spec.owner)} -d ${q(spec.database)}; do`,
    "  attempt=$((attempt + 1))",
    `  if [ "$attempt" -ge ${spec.waitSeconds} ]; then echo "replication step: PostgreSQL does not accept connections after ${spec.waitSeconds} s" >&2; exit 1; fi`,
    "  sleep 1",
    "done",
    "# stdin: the role's SQL, carrying a SCRAM verifier (never the password).",
    `${psql} --single-transaction`,
    `HBA=$(${psql} -A -t -c 'SHOW hba_file')`,
    `if ! grep -qxF ${q(HBA_BEGIN)} "$HBA"; then`,
    '  tmp=$(mktemp)',
    `  { printf '%s\\n' ${renderReplicationHbaRules(role).map(q).join(" ")}; cat "$HBA"; } > "$tmp"`,
    '  cat "$tmp" > "$HBA"',
    '  rm -f "$tmp"',
    "fi",
    `${psql} -A -t -c 'SELECT pg_reload_conf()' >/dev/null`,
    `rules=$(${psql} -A -t -c "SELECT count(*) FROM pg_hba_file_rules WHERE error IS NULL AND database = '{replication}' AND user_name = '{${role}}' AND address = 'samenet' AND auth_method = 'scram-sha-256'")`,
    'if [ "$rules" != 1 ]; then',
    `  echo "replication step: PostgreSQL does not read the replication rule from $HBA" >&2`,
    "  exit 1",
    "fi",
    `echo "replication step: ${role} may replicate from the app network"`,
    "",
  ].join("\n");
}

export interface ReplicaInitSpec {
  /** The primary, as the replica reaches it (the database's network alias and port). */
  readonly primaryHost: string;
  readonly primaryPort: number;
  /** Shown in the primary's pg_stat_replication (and the lag alert's labels): `<app>-replica-<n>`. */
  readonly applicationName: string;
  readonly role?: string;
}

/** Marks a finished clone: a directory without it is a clone that was interrupted, and is made again. */
export const CLONE_MARKER = "runbook-replica-cloned";

/**
 * The replica container's entry (`sh -c <script> replica [postgres arguments]`), run as the image's
 * postgres user with PGDATA and PGPASSWORD in its environment. Extra arguments go to `postgres`.
 */
export function renderReplicaInitScript(spec: ReplicaInitSpec): string {
  const role = spec.role ?? REPLICATION_ROLE;
  if (!/^[A-Za-z0-9_.-]+$/.test(spec.primaryHost)) throw new Error(`read replica: \`primaryHost\` ${JSON.stringify(spec.primaryHost)} is not a host name`);
  if (!/^[a-z0-9_-]{1,63}$/.test(spec.applicationName)) throw new Error(`read replica: \`applicationName\` ${JSON.stringify(spec.applicationName)} must be lowercase letters, digits, - or _`);
  const conninfo = `host=${spec.primaryHost} port=${spec.primaryPort} user=${role} application_name=${spec.applicationName}`;
  const q = shellQuote;
  return [
    "#!/bin/sh",
    `# Read replica ${spec.applicationName}: a hot standby of ${spec.primaryHost}:${spec.primaryPort}, cloned with pg_basebackup -R.`,
    "set -eu",
    ': "${PGDATA:?read replica: PGDATA is not set}"',
    ': "${PGPASSWORD:?read replica: PGPASSWORD (the replication password) is not set}"',
    "export PGPASSWORD",
    `CONNINFO=${q(conninfo)}`,
    `MARKER="$PGDATA/${CLONE_MARKER}"`,
    `say() { echo "read replica ${spec.applicationName}: $*" >&2; }`,
    "# The primary's system identifier and major version, over a replication connection.",
    'if ! ident=$(psql -X -A -t -w -d "$CONNINFO replication=true" -c IDENTIFY_SYSTEM 2>&1); then',
    `  say "cannot reach the primary ${spec.primaryHost}:${spec.primaryPort} as ${role}: $ident"`,
    "  exit 1",
    "fi",
    "primary_id=${ident%%|*}",
    'primary_major=$(psql -X -A -t -w -d "$CONNINFO replication=true" -c "SHOW server_version_num" 2>/dev/null || echo 0)',
    "primary_major=$((primary_major / 10000))",
    'local_major=$(postgres -V | sed -n \'s/^[^0-9]*\\([0-9][0-9]*\\).*/\\1/p\')',
    'reason=""',
    'if [ ! -s "$PGDATA/PG_VERSION" ]; then reason="no data directory yet"',
    'elif [ ! -f "$MARKER" ]; then reason="the last clone did not finish"',
    'elif [ "$(cat "$PGDATA/PG_VERSION")" != "$local_major" ]; then reason="its data is PostgreSQL $(cat "$PGDATA/PG_VERSION"), the image runs $local_major"',
    'else',
    '  local_id=$(pg_controldata "$PGDATA" | sed -n \'s/^Database system identifier: *//p\')',
    '  if [ "$local_id" != "$primary_id" ]; then reason="its data is a copy of cluster $local_id; the primary is now cluster $primary_id"; fi',
    "fi",
    'if [ "$primary_major" != "$local_major" ]; then',
    '  say "the primary runs PostgreSQL $primary_major and this image $local_major: a streaming replica needs the same major version"',
    "  exit 1",
    "fi",
    'if [ -n "$reason" ]; then',
    '  say "cloning the primary ($reason)"',
    '  find "$PGDATA" -mindepth 1 -delete',
    '  chmod 0700 "$PGDATA"',
    '  if ! pg_basebackup -w -d "$CONNINFO" -D "$PGDATA" -R -X stream -c fast; then',
    `    find "$PGDATA" -mindepth 1 -delete`,
    `    say "pg_basebackup from ${spec.primaryHost}:${spec.primaryPort} as ${role} failed (above); nothing is served"`,
    "    exit 1",
    "  fi",
    "  # -R wrote the connection it used, password included: keep it without the password (the WAL",
    "  # receiver takes PGPASSWORD from this process's environment).",
    '  grep -v "^primary_conninfo" "$PGDATA/postgresql.auto.conf" > "$PGDATA/postgresql.auto.conf.new" || true',
    `  printf "primary_conninfo = '%s'\\n" "$CONNINFO" >> "$PGDATA/postgresql.auto.conf.new"`,
    '  mv "$PGDATA/postgresql.auto.conf.new" "$PGDATA/postgresql.auto.conf"',
    '  if grep -q "password" "$PGDATA/postgresql.auto.conf"; then say "postgresql.auto.conf still holds a password"; exit 1; fi',
    '  touch "$MARKER"',
    "  say \"cloned cluster $primary_id\"",
    "fi",
    '[ -f "$PGDATA/standby.signal" ] || { say "standby.signal is missing: this data directory is not a standby"; exit 1; }',
    'chmod 0700 "$PGDATA"',
    'exec postgres -c hot_standby=on "$@"',
    "",
  ].join("\n");
}

/**
 * Healthy only while the replica is a standby that streams from the primary: a replica that lost
 * its primary (or is being refused) reports unhealthy, and the ContainerUnhealthy alert says so.
 */
export function replicaHealthcheck(owner: string, database: string): HealthcheckSpec {
  const q = shellQuote;
  return {
    tests: [
      "CMD-SHELL",
      `pg_isready -q -U ${q(owner)} -d ${q(database)} && [ "$(psql -X -A -t -U ${q(owner)} -d ${q(database)} -c "SELECT pg_is_in_recovery()::text || ',' || coalesce((SELECT status FROM pg_stat_wal_receiver), 'none')")" = "true,streaming" ]`,
    ],
    interval: "10s",
    timeout: "5s",
    retries: 5,
    startPeriod: "60s",
  };
}

/**
 * The query postgres_exporter v0.15.0 runs for its built-in `pg_stat_replication` metrics on
 * PostgreSQL 10 and later (prometheus-community/postgres_exporter cmd/postgres_exporter/queries.go,
 * `queryOverrides["pg_stat_replication"]`): `pg_wal_lsn_diff` becomes
 * `pg_stat_replication_pg_wal_lsn_diff`, the bytes of WAL a standby has not replayed, labelled with
 * its `application_name`. The lag alerts read that metric; the real-server test runs this text.
 */
export const EXPORTER_REPLICATION_QUERY = `SELECT *,
  (case pg_is_in_recovery() when 't' then null else pg_current_wal_lsn() end) AS pg_current_wal_lsn,
  (case pg_is_in_recovery() when 't' then null else pg_wal_lsn_diff(pg_current_wal_lsn(), pg_lsn('0/0'))::float end) AS pg_current_wal_lsn_bytes,
  (case pg_is_in_recovery() when 't' then null else pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float end) AS pg_wal_lsn_diff
FROM pg_stat_replication`;
