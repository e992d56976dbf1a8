/**
 * One lock per app's database on its host, shared by every host job that opens the live database
 * file or replaces it: the scheduled and pre-deploy backups, the restore, and the SQLite upkeep.
 *
 * Why: a restore of a SQLite database replaces the file by rename and removes its old `-wal` and
 * `-shm` files. A connection another job still holds on the old file (a backup's `sqlite3 .backup`,
 * the weekly VACUUM) checkpoints and deletes `<file>-wal` *by name* when it closes, and by then that
 * name may be the restored database's own WAL, written by the restarted app: committed rows lost.
 * SQLite's own locks cannot prevent it, because the two connections no longer share a file. So the
 * jobs serialise on `flock(1)` (util-linux, in every Debian and Ubuntu base system) instead; a job
 * waits for the one before it, up to `DB_LOCK_WAIT` seconds (default 3600), and then gives up
 * without touching anything. The lock is held on fd 9 until the script exits, and children (sqlite3,
 * pg_restore, docker) inherit it; `RUNBOOK_DB_LOCKED` (the lock file's path) makes a nested call on
 * the same lock a no-op rather than a deadlock. PostgreSQL takes it too, so a backup never runs while
 * a restore replaces the data.
 *
 * The jobs run as root (timers, `sudo -n`), so the lock lives in `/run/runbook`, made root-only
 * (0700): not the world-writable `/run/lock`, where any local user could create the file first (root
 * could then not open it under `fs.protected_regular`) or hold a lock on it forever. `/run` is a
 * tmpfs: no stale lock survives a reboot, and a killed job's lock is released by the kernel.
 * `RUNBOOK_LOCK_DIR` moves it (the tests).
 */

/** Where the lock files are, unless `RUNBOOK_LOCK_DIR` says otherwise. */
export const DATABASE_LOCK_DIR = "/run/runbook";

/** The lock file's name for an app. */
export const databaseLockName = (appId: string): string => `runbook-${appId}-database.lock`;

/** sh lines defining `db_lock`, which takes the app's database lock for the rest of the script. */
export function databaseLockFunction(appId: string): string[] {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(appId)) throw new Error(`\`appId\` must be a catalog id (lowercase letters, digits, '-'), got "${appId}"`);
  const say = (text: string) => `echo "${appId}: ${text}" >&2`;
  return [
    "# The app's database lock, held on fd 9 until this script exits (components/shared/databaseLock.ts):",
    "# no two host jobs open or replace the live database at once.",
    "db_lock() {",
    `  lock="\${RUNBOOK_LOCK_DIR:-${DATABASE_LOCK_DIR}}/${databaseLockName(appId)}"`,
    '  [ "${RUNBOOK_DB_LOCKED:-}" != "$lock" ] || return 0',
    '  wait_s="${DB_LOCK_WAIT:-3600}"',
    `  command -v flock >/dev/null 2>&1 || { ${say("flock (util-linux) is not installed; nothing was done")}; exit 1; }`,
    '  lock_dir=$(dirname "$lock")',
    '  [ -d "$lock_dir" ] || mkdir -m 0700 "$lock_dir"',
    '  exec 9>>"$lock"',
    "  if ! flock -n 9; then",
    `    ${say("another job holds the database lock $lock; waiting up to $wait_s s")}`,
    `    flock -w "$wait_s" 9 || { ${say("gave up after $wait_s s waiting for the database lock $lock; nothing was done")}; exit 1; }`,
    "  fi",
    '  RUNBOOK_DB_LOCKED=$lock',
    "  export RUNBOOK_DB_LOCKED",
    "}",
  ];
}
