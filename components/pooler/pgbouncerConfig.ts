/**
 * PgBouncer's files, rendered: pgbouncer.ini, the auth file, and the script of the deploy step that
 * installs the auth file in the running pooler. Pure functions; the tests run the very same texts
 * with a real PgBouncer in front of a real PostgreSQL.
 *
 * Authentication: an auth file of SCRAM verifiers, regenerated on every rotation, rather than
 * `auth_query`. The database role step (components/secrets) already computes the verifier of each
 * login role, with a salt derived from the password, so the file holds exactly what PostgreSQL holds.
 * PgBouncer checks a client's SCRAM proof against it and logs in to PostgreSQL with the key that proof
 * gave it (SCRAM pass-through, PgBouncer 1.14+: the secrets must be identical in both places and the
 * database entry must name no user). No password is stored anywhere, and there is no extra credential
 * to create, store and rotate: `auth_query` needs an `auth_user` whose own password PgBouncer must hold
 * in plain text, and a SECURITY DEFINER function reading pg_authid installed in every database. Both
 * login roles are listed, so during a rotation the running backends (the role that keeps its
 * password) and the new ones (the role with the new one) both get through.
 */
import type { PoolMode } from "../../config/pooler";
import { shellQuote } from "../shared/shell";

/**
 * Where things are inside the PgBouncer container. The auth file in /tmp (the image's user can write
 * it, whatever the image's layout): it survives a restart of the container, so PgBouncer comes back
 * with its users after a host reboot. The pid file on a tmpfs of its own (`runDir`), emptied on every
 * start: PgBouncer is PID 1 there, and a pid file left by an unclean stop would name PID 1 again, a
 * live process, so PgBouncer would refuse to start ("pidfile exists, another instance running?") on
 * every restart after it.
 */
export const POOLER_PATHS = {
  config: "/etc/pgbouncer/pgbouncer.ini",
  authFile: "/tmp/pgbouncer-userlist.txt",
  runDir: "/run/pgbouncer",
  pidFile: "/run/pgbouncer/pgbouncer.pid",
} as const;

export interface PgbouncerIniSpec {
  /** The database the app uses; clients ask for it by the same name. */
  readonly database: string;
  /** PostgreSQL, as the pooler reaches it (the database's network alias). */
  readonly server: { readonly host: string; readonly port: number };
  /** Where PgBouncer listens: `*` in its container. */
  readonly listen: { readonly address: string; readonly port: number };
  readonly poolMode: PoolMode;
  readonly defaultPoolSize: number;
  readonly maxClientConn: number;
  readonly authFile: string;
  readonly pidFile: string;
  /** Users allowed the read-only SHOW commands of the admin console (the metrics exporter). */
  readonly statsUsers?: readonly string[];
}

/** A PostgreSQL name the files use unquoted: lowercase letters, digits and _, at most 63. */
const NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/** A value PgBouncer's ini parser reads as written: no comment characters, quotes or line breaks. */
const VALUE = /^[A-Za-z0-9_.*/:=, -]*$/;
const HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$|^\*$/;
const SCRAM_VERIFIER = /^SCRAM-SHA-256\$\d+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/;

/** Why the spec cannot be rendered, or undefined. */
export function pgbouncerSpecProblem(spec: PgbouncerIniSpec): string | undefined {
  if (!NAME.test(spec.database)) return `\`database\` ${JSON.stringify(spec.database)} must be a PostgreSQL name: lowercase letters, digits and _`;
  if (!HOST.test(spec.server.host) || spec.server.host === "*") return `\`server.host\` ${JSON.stringify(spec.server.host)} must be a host name`;
  if (!HOST.test(spec.listen.address)) return `\`listen.address\` ${JSON.stringify(spec.listen.address)} must be an address or *`;
  for (const [key, port] of [["server.port", spec.server.port], ["listen.port", spec.listen.port]] as const) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) return `\`${key}\` must be a port number from 1 to 65535`;
  }
  if (!Number.isInteger(spec.defaultPoolSize) || spec.defaultPoolSize < 1) return "`defaultPoolSize` must be a whole number of at least 1";
  if (!Number.isInteger(spec.maxClientConn) || spec.maxClientConn < spec.defaultPoolSize) return "`maxClientConn` must be a whole number of at least `defaultPoolSize`";
  for (const [key, path] of [["authFile", spec.authFile], ["pidFile", spec.pidFile]] as const) {
    if (!path.startsWith("/") || !VALUE.test(path) || /[\s,]/.test(path)) return `\`${key}\` must be an absolute path without spaces`;
  }
  for (const user of spec.statsUsers ?? []) if (!NAME.test(user)) return `stats user ${JSON.stringify(user)} must be a PostgreSQL name`;
  return undefined;
}

type Section = readonly (readonly [string, string | number])[];

/** `key = value` lines under `[name]`, each value checked against what the ini parser reads back unchanged. */
function section(name: string, entries: Section): string[] {
  return [
    `[${name}]`,
    ...entries.map(([key, value]) => {
      const text = String(value);
      if (!VALUE.test(text)) throw new Error(`pgbouncer.ini: ${key} = ${JSON.stringify(text)} is not a value the ini parser reads back as written`);
      return text === "" ? `${key} =` : `${key} = ${text}`;
    }),
  ];
}

/** pgbouncer.ini: one database, SCRAM against the auth file, the app's pool settings, no admin user. */
export function renderPgbouncerIni(spec: PgbouncerIniSpec): string {
  const problem = pgbouncerSpecProblem(spec);
  if (problem) throw new Error(`pgbouncer.ini: ${problem}`);
  return [
    `;; PgBouncer in front of PostgreSQL for ${spec.database}, rendered by the program: edit the stack's`,
    ";; apps.<id>.database.pooler instead (README, \"Connection pooling\").",
    "",
    // No user= on the database: SCRAM pass-through logs in as the client's own role with its own key.
    ...section("databases", [[spec.database, `host=${spec.server.host} port=${spec.server.port} dbname=${spec.database}`]]),
    "",
    ...section("pgbouncer", [
      ["listen_addr", spec.listen.address],
      ["listen_port", spec.listen.port],
      // TCP only.
      ["unix_socket_dir", ""],
      ["pidfile", spec.pidFile],
      ["auth_type", "scram-sha-256"],
      ["auth_file", spec.authFile],
      ["pool_mode", spec.poolMode],
      ["default_pool_size", spec.defaultPoolSize],
      // The pool size is also the most server connections the pooler holds in all: during a rotation
      // both login roles have a pool, and PostgreSQL still sees no more than this.
      ["max_db_connections", spec.defaultPoolSize],
      ["reserve_pool_size", 0],
      ["max_client_conn", spec.maxClientConn],
      // Session pooling: what a client set on its connection is reset before the next one gets it.
      ["server_reset_query", "DISCARD ALL"],
      // Sent by some drivers (JDBC, asyncpg) and meaningless to PgBouncer.
      ["ignore_startup_parameters", "extra_float_digits"],
      // Nobody administers the pooler through its console; the exporter may only read its SHOW views.
      ["admin_users", ""],
      ["stats_users", (spec.statsUsers ?? []).join(", ")],
    ]),
    "",
  ].join("\n");
}

/** One auth file entry: a role and its SCRAM verifier (never a password). */
export interface AuthEntry {
  readonly user: string;
  readonly verifier: string;
}

/** The auth file: `"user" "SCRAM-SHA-256$..."`, one line per role. */
export function renderPgbouncerAuthFile(entries: readonly AuthEntry[]): string {
  if (entries.length === 0) throw new Error("pgbouncer auth file: at least one role");
  const users = new Set<string>();
  return entries
    .map(({ user, verifier }) => {
      if (!NAME.test(user)) throw new Error(`pgbouncer auth file: ${JSON.stringify(user)} is not a PostgreSQL name this file uses`);
      if (users.has(user)) throw new Error(`pgbouncer auth file: ${user} is listed twice`);
      users.add(user);
      if (!SCRAM_VERIFIER.test(verifier)) throw new Error(`pgbouncer auth file: the entry of ${user} must be a SCRAM-SHA-256 verifier, never a password`);
      return `"${user}" "${verifier}"\n`;
    })
    .join("");
}

export interface PoolerAuthStepSpec {
  /** Where the auth file and the pid file are (the ini's). */
  readonly authFile: string;
  readonly pidFile: string;
  /** The role whose new password the step tests through the pooler (the one becoming active). */
  readonly activeRole: string;
  readonly database: string;
  /** Where the step reaches PgBouncer from inside its container. */
  readonly port: number;
  /** Seconds to wait for PgBouncer's pid file, and for the new auth file to let the active role in. */
  readonly waitSeconds: number;
}

/**
 * The POSIX sh the step runs inside the PgBouncer container (`docker exec -i <pooler> sh -c <script>`).
 * Stdin: line 1 the active role's password (for the connection test only), then the auth file. The
 * file is replaced atomically, PgBouncer re-reads it on SIGHUP (open connections are kept), and the
 * active role must then connect through the pooler, PgBouncer logging in to PostgreSQL with it: the
 * runbook's "Test connection", before any backend uses the pooler with that credential.
 */
export function renderPoolerAuthScript(spec: PoolerAuthStepSpec): string {
  if (!NAME.test(spec.activeRole) || !NAME.test(spec.database)) throw new Error("pooler auth step: role and database must be PostgreSQL names");
  if (!Number.isInteger(spec.waitSeconds) || spec.waitSeconds < 1) throw new Error("pooler auth step: waitSeconds must be a whole number of at least 1");
  const q = shellQuote;
  return [
    "#!/bin/sh",
    `# PgBouncer's auth file for ${spec.database}: SCRAM verifiers only; ${spec.activeRole} is tested through the pooler.`,
    "set -eu",
    "umask 077",
    "# Line 1 of stdin: the active role's password, for the connection test only.",
    "IFS= read -r PGPASSWORD",
    "export PGPASSWORD",
    "# The rest: the auth file, written beside the old one and moved over it (a reload never reads half a file).",
    `cat > ${q(`${spec.authFile}.new`)}`,
    `mv -f ${q(`${spec.authFile}.new`)} ${q(spec.authFile)}`,
    "attempt=0",
    `until [ -s ${q(spec.pidFile)} ]; do`,
    "  attempt=$((attempt + 1))",
    `  if [ "$attempt" -ge ${spec.waitSeconds} ]; then`,
    `    echo "pooler: PgBouncer has written no pid file (${spec.pidFile}) after ${spec.waitSeconds} s" >&2`,
    "    exit 1",
    "  fi",
    "  sleep 1",
    "done",
    "# SIGHUP: PgBouncer re-reads its config and auth file; connections already open stay.",
    `kill -HUP "$(cat ${q(spec.pidFile)})"`,
    "attempt=0",
    "# Each try is bounded: a query PgBouncer cannot get a server connection for waits (query_wait_timeout), it is not refused.",
    `until error=$(timeout 5 psql -X -q -h 127.0.0.1 -p ${spec.port} -U ${q(spec.activeRole)} -d ${q(spec.database)} -c 'SELECT 1' 2>&1 >/dev/null); do`,
    "  attempt=$((attempt + 1))",
    `  if [ "$attempt" -ge ${spec.waitSeconds} ]; then`,
    `    echo "pooler: ${spec.activeRole} cannot connect through PgBouncer: \${error:-no answer within 5 s: PgBouncer cannot log it in to PostgreSQL}" >&2`,
    "    exit 1",
    "  fi",
    "  sleep 1",
    "done",
    `echo "pooler: auth file loaded; ${spec.activeRole} connects through PgBouncer"`,
    "",
  ].join("\n");
}

/** The step's stdin: the active role's password on line 1, then the auth file. */
export function renderPoolerAuthStdin(activePassword: string, authFile: string): string {
  if (/[\r\n]/.test(activePassword)) throw new Error("pooler auth step: a password cannot span lines");
  return `${activePassword}\n${authFile}`;
}

/** The container's health check: PgBouncer answers the protocol on its port (pg_isready counts a refused login as up). */
export function poolerHealthcheckArgv(port: number): string[] {
  return ["pg_isready", "-q", "-h", "127.0.0.1", "-p", String(port)];
}
