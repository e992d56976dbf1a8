/**
 * The backup a maintenance window takes before the maintenance page goes on (FDTS "Planned
 * Maintenance Window" L510/L518 "Create full system backup"; Handwork "Pre-Maintenance" L298-301,
 * backup then `PRAGMA integrity_check` on it). Used where the backups area supplies no pre-deploy
 * backup. Runs as the deploy user over the deploy step's connection: the copy lands in
 * `$HOME/runbook-backups/<app>/pre-maintenance-<UTC time>.*` (mode 600) and is checked before the
 * step succeeds: `pg_restore -l` reads the dump's table of contents; a SQLite copy must pass
 * `PRAGMA integrity_check` (made with SQLite's online backup, safe while the app writes).
 *
 * It takes the app's database lock (../shared/databaseLock.ts, `db_lock`) before it looks for the
 * container, like the scheduled backup, the restore and the SQLite upkeep, so it never reads the
 * database while a restore replaces it, nor holds a SQLite connection open across one. The lock is
 * root's (`/run/runbook`, 0700, so that no other user can take or squat it), so the deploy user
 * cannot open it: the step runs the script as root, through `sudo -n` (renderWindowBackupCommand),
 * as the backups area's steps run theirs. sudo drops the environment and sets HOME to root's, so the
 * step passes the deploy user's backup directory (`--dir "$HOME/runbook-backups"`, expanded before
 * sudo) and the bounded wait (`--lock-wait`); the directories it makes and the copy are given back
 * to the user sudo names (`SUDO_UID`), so the copy is where, and whose, it always was.
 *   <script> [--dir DIR] [--lock-wait SECONDS]
 */
import type { ServiceRuntime } from "../../apps/types";
import { databaseLockFunction, deployLockWait, LOCK_WAIT_OPTION } from "../shared/databaseLock";
import { shellJoin, shellQuote } from "../shared/shell";
import { findContainer } from "./databaseScripts";

export type WindowBackupSpec =
  | { readonly appId: string; readonly engine: "postgres"; readonly database: string; readonly user: string }
  | { readonly appId: string; readonly engine: "sqlite"; readonly path: string; readonly runtime: ServiceRuntime };

const PY_BACKUP = "import sqlite3, sys; s = sqlite3.connect(sys.argv[1]); d = sqlite3.connect(sys.argv[2]); s.backup(d); r = d.execute('PRAGMA integrity_check').fetchone()[0]; d.close(); print(r); sys.exit(0 if r == 'ok' else 1)";

export function renderWindowBackupScript(spec: WindowBackupSpec): string {
  const head = [
    "#!/bin/sh",
    `# Backup before ${spec.appId}'s maintenance window: rendered by runbook-as-code.`,
    "set -eu",
    "umask 077",
    ...databaseLockFunction(spec.appId),
    `usage() { echo "usage: $0 [--dir DIR] [${LOCK_WAIT_OPTION} SECONDS]" >&2; exit 2; }`,
    'root="${RUNBOOK_BACKUP_DIR:-$HOME/runbook-backups}"',
    'while [ "$#" -gt 0 ]; do',
    '  case "$1" in',
    '    --dir) [ "$#" -ge 2 ] || usage; root=$2; shift 2 ;;',
    `    ${LOCK_WAIT_OPTION}) [ "$#" -ge 2 ] || usage; db_lock_wait "$2"; shift 2 ;;`,
    "    *) usage ;;",
    "  esac",
    "done",
    `dir="$root/${spec.appId}"`,
    "# Before the database is read: no restore replaces it, and no other job has it open, meanwhile.",
    "db_lock",
    "# Run through sudo: the directories made here and the copy are the deploy user's, as without it.",
    'owner=${SUDO_UID:+$SUDO_UID:${SUDO_GID:-}}',
    'give() { if [ -n "$owner" ]; then chown "$owner" "$@"; fi; }',
    'for d in "$root" "$dir"; do if [ ! -d "$d" ]; then mkdir -p "$d"; give "$d"; fi; done',
    'stamp=$(date -u +%Y%m%dT%H%M%SZ)',
  ];
  if (spec.engine === "postgres") {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(spec.database) || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(spec.user)) throw new Error("`database` and `user` must be plain SQL identifiers");
    return [
      ...head,
      ...findContainer("db", spec.appId, "database", "database"),
      'file="$dir/pre-maintenance-$stamp.dump"',
      `docker exec "$db" pg_dump -Fc -U ${spec.user} -d ${spec.database} > "$file"`,
      'give "$file"',
      'docker exec -i "$db" pg_restore -l > /dev/null < "$file"',
      `echo "${spec.appId}: pre-maintenance backup $file ($(wc -c < "$file") bytes) sha256:$(sha256sum "$file" | cut -d' ' -f1)"`,
      "",
    ].join("\n");
  }
  const inner = `/tmp/runbook-pre-maintenance-$stamp.db`;
  const copy =
    spec.runtime === "python"
      ? `docker exec "$backend" python3 -c ${shellQuote(PY_BACKUP)} ${shellQuote(spec.path)} "${inner}" > /dev/null`
      : `docker exec "$backend" sqlite3 ${shellQuote(spec.path)} ".backup '${inner}'"\ncheck=$(docker exec "$backend" sqlite3 "${inner}" 'PRAGMA integrity_check;')\nif [ "$check" != ok ]; then echo "${spec.appId}: the backup copy fails PRAGMA integrity_check" >&2; exit 1; fi`;
  return [
    ...head,
    ...findContainer("backend", spec.appId, "backend", "backend"),
    'file="$dir/pre-maintenance-$stamp.db"',
    copy,
    `docker cp "$backend:${inner}" "$file"`,
    'give "$file"',
    `docker exec "$backend" rm -f "${inner}"`,
    `echo "${spec.appId}: pre-maintenance backup $file ($(wc -c < "$file") bytes, integrity_check ok) sha256:$(sha256sum "$file" | cut -d' ' -f1)"`,
    "",
  ].join("\n");
}

/**
 * The deploy step's command: the script as root (the lock is root's), through `sudo -n` unless the
 * step already runs as root, with the deploy user's backup directory and the deploy steps' bounded
 * wait for the lock (DEPLOY_LOCK_WAIT_SECONDS) as arguments, because sudo keeps neither HOME nor
 * DB_LOCK_WAIT.
 */
export function renderWindowBackupCommand(appId: string, script: string): string {
  return [
    'as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }',
    'if [ "$(id -u)" -ne 0 ] && ! sudo -n true 2>/dev/null; then',
    `  echo "${appId}: the maintenance window's backup takes the app's database lock, which is root's: the deploy user needs root or password-less sudo" >&2; exit 1`,
    "fi",
    `as_root /bin/sh -c ${shellQuote(script)} window-backup --dir "$HOME/runbook-backups" ${shellJoin(deployLockWait())}`,
  ].join("\n");
}
