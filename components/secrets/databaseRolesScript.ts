/**
 * The database role step, rendered: alternating users on PostgreSQL (AWS Secrets Manager's
 * alternating-users rotation). The app owns its tables through the image's POSTGRES_USER (the owner
 * role) and connects as one of two login roles, `<owner>_a` and `<owner>_b`, members of the owner
 * that act as it (`ALTER ROLE ... SET role`), so whatever either creates belongs to the owner. A
 * rotation sets a new password on the role the app is switching to and leaves the other one as it
 * was: the running backends keep connecting with it until they are replaced, and until the next
 * rotation sets a new password on it.
 *
 * The script runs inside the database container (`docker exec -i <db> sh -c <script>`). Its stdin
 * is a Pulumi secret: line 1 is the new password of the role becoming active (only for the
 * connection test), the rest is SQL carrying SCRAM verifiers, never passwords. Pure functions; the
 * test runs the very same text against a real PostgreSQL.
 */
import { shellQuote } from "../shared/shell";

export interface DatabaseRolesSpec {
  /** The owner role: the image's POSTGRES_USER, superuser, reached over the local socket. */
  readonly owner: string;
  readonly database: string;
  /** Login roles of slots a and b. */
  readonly roles: { readonly a: string; readonly b: string };
  /** The role the app connects as once this step has run. */
  readonly activeRole: string;
  /** Host the connection test reaches PostgreSQL by: a password is checked on it (the database's network alias). */
  readonly checkHost: string;
  /** Seconds to wait for PostgreSQL to accept TCP connections (the image's init server does not). */
  readonly waitSeconds: number;
  /** Told in the step's output: which window and generation this is. */
  readonly window: number;
  readonly generation: number;
}

/** A PostgreSQL role name the step can use unquoted in messages: lowercase, digits, `_`, at most 63 bytes. */
const ROLE = /^[a-z_][a-z0-9_]{0,62}$/;

/** Why the spec cannot be rendered, or undefined. */
export function rolesSpecProblem(spec: DatabaseRolesSpec): string | undefined {
  for (const name of [spec.owner, spec.roles.a, spec.roles.b, spec.database]) {
    if (!ROLE.test(name)) return `\`${name}\` is not a PostgreSQL name this step uses: lowercase letters, digits and _, at most 63`;
  }
  if (spec.roles.a === spec.roles.b || [spec.roles.a, spec.roles.b].includes(spec.owner)) return "the two login roles must differ from each other and from the owner";
  if (![spec.roles.a, spec.roles.b].includes(spec.activeRole)) return `the active role ${spec.activeRole} is neither ${spec.roles.a} nor ${spec.roles.b}`;
  if (!Number.isInteger(spec.waitSeconds) || spec.waitSeconds < 1) return "waitSeconds must be a whole number of at least 1";
  return undefined;
}

export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;
export const quoteLiteral = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** The POSIX sh the step runs in the database container. */
export function renderDatabaseRolesScript(spec: DatabaseRolesSpec): string {
  const problem = rolesSpecProblem(spec);
  if (problem) throw new Error(`database roles: ${problem}`);
  const standby = spec.activeRole === spec.roles.a ? spec.roles.b : spec.roles.a;
  const q = shellQuote;
  return [
    "#!/bin/sh",
    `# Database roles of ${spec.database}: ${spec.activeRole} becomes active (window ${spec.window}, generation ${spec.generation}).`,
    "set -eu",
    "# Line 1 of stdin: the new password of the role becoming active, for the connection test only.",
    "IFS= read -r PGPASSWORD",
    "export PGPASSWORD",
    "# The image's init server listens on no TCP port: wait for the real one.",
    "attempt=0",
    `until pg_isready -q -h 127.0.0.1 -U ${q(spec.owner)} -d ${q(spec.database)}; do`,
    "  attempt=$((attempt + 1))",
    `  if [ "$attempt" -ge ${spec.waitSeconds} ]; then`,
    `    echo "database roles: PostgreSQL does not accept TCP connections after ${spec.waitSeconds} s" >&2`,
    "    exit 1",
    "  fi",
    "  sleep 1",
    "done",
    "# The rest of stdin: the SQL, in one transaction, as the owner over the local socket.",
    `psql -X -q -v ON_ERROR_STOP=1 --single-transaction -U ${q(spec.owner)} -d ${q(spec.database)}`,
    "# The runbook's \"Test connection\": the new credential, over the network, before the app uses it.",
    `if ! psql -X -q -h ${q(spec.checkHost)} -U ${q(spec.activeRole)} -d ${q(spec.database)} -c 'SELECT 1' >/dev/null; then`,
    `  echo "database roles: ${spec.activeRole} cannot connect with its new password; the app is not switched" >&2`,
    "  exit 1",
    "fi",
    `echo "database roles: ${spec.activeRole} active, ${standby} keeps its password until the next rotation"`,
    "",
  ].join("\n");
}

/**
 * The SQL of the step: both login roles exist, are members of the owner and act as it, and have the
 * given verifiers (unchanged for the role that keeps its password: setting the same verifier again
 * changes nothing).
 */
export function renderDatabaseRolesSql(spec: DatabaseRolesSpec, verifiers: { readonly a: string; readonly b: string }): string {
  const problem = rolesSpecProblem(spec);
  if (problem) throw new Error(`database roles: ${problem}`);
  for (const v of [verifiers.a, verifiers.b]) {
    if (!/^SCRAM-SHA-256\$\d+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/.test(v)) throw new Error("database roles: a verifier must be a SCRAM-SHA-256 verifier, never a password");
  }
  const owner = quoteIdent(spec.owner);
  const roles = [
    [spec.roles.a, verifiers.a],
    [spec.roles.b, verifiers.b],
  ] as const;
  return [
    "SET client_min_messages = warning;",
    "DO $$",
    "BEGIN",
    ...roles.map(([role]) => `  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = ${quoteLiteral(role)}) THEN CREATE ROLE ${quoteIdent(role)} LOGIN; END IF;`),
    "END",
    "$$;",
    ...roles.flatMap(([role, verifier]) => [
      `GRANT ${owner} TO ${quoteIdent(role)};`,
      `ALTER ROLE ${quoteIdent(role)} SET role TO ${quoteLiteral(spec.owner)};`,
      `ALTER ROLE ${quoteIdent(role)} WITH LOGIN NOSUPERUSER INHERIT PASSWORD ${quoteLiteral(verifier)};`,
    ]),
    "",
  ].join("\n");
}

/** The step's stdin: the active role's password on line 1, then the SQL. */
export const renderDatabaseRolesStdin = (activePassword: string, sql: string): string => {
  if (/[\r\n]/.test(activePassword)) throw new Error("database roles: a password cannot span lines");
  return `${activePassword}\n${sql}`;
};

/**
 * After the release is healthy: the owner role loses its password, so the only password credentials
 * left are the two login roles (the owner is still reached with `docker exec <db> psql`, over the
 * local socket, as the runbooks do). Before this, an app deployed by an older version of this
 * program connected as the owner; it no longer does once the health gate has passed.
 */
export const renderOwnerLockSql = (owner: string): string => `ALTER ROLE ${quoteIdent(owner)} PASSWORD NULL;\n`;
