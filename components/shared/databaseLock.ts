/**
 * One lock per app's database on its host, shared by every host job that opens the live database
 * file or replaces it: the scheduled and pre-deploy backups, the maintenance window's backup, the
 * restore, and the SQLite upkeep.
 *
 * Why: a restore of a SQLite database replaces the file by rename and removes its old `-wal` and
 * `-shm` files. A connection another job still holds on the old file (a backup's `sqlite3 .backup`,
 * the weekly VACUUM) checkpoints and deletes `<file>-wal` *by name* when it closes, and by then that
 * name may be the restored database's own WAL, written by the restarted app: committed rows lost.
 * SQLite's own locks cannot prevent it, because the two connections no longer share a file. So the
 * jobs serialise on `flock(1)` (util-linux, in every Debian and Ubuntu base system) instead; a job
 * waits for the one before it, up to `DB_LOCK_WAIT` seconds (default 3600), and then gives up
 * without touching anything. A script's `--lock-wait SECONDS` (`db_lock_wait`) overrides it: the
 * deploy steps run the scripts through `sudo -n`, which drops the environment, and pass
 * DEPLOY_LOCK_WAIT_SECONDS. The lock is held on fd 9 until the script exits, and children (sqlite3,
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

/**
 * How long a deploy step (the pre-deploy and pre-restore backups, a restore, the maintenance window's
 * backup) waits for the lock, passed as `--lock-wait`. The jobs it can meet there are the scheduled
 * backup and the weekly SQLite upkeep, which take seconds to a few minutes on these apps' databases;
 * ten minutes outlasts any of them running normally, and a job that holds the lock longer is stuck
 * (or a restore by hand is under way): then `pulumi up` fails after ten minutes, naming the lock,
 * instead of hanging for the hour a timer may wait. Nothing was done, so running it again is safe.
 */
export const DEPLOY_LOCK_WAIT_SECONDS = 600;

/** The option of the backup, restore and window backup scripts that overrides `DB_LOCK_WAIT`. */
export const LOCK_WAIT_OPTION = "--lock-wait";

/** The deploy steps' arguments: a bounded wait for the lock. */
export const deployLockWait = (): string[] => [LOCK_WAIT_OPTION, String(DEPLOY_LOCK_WAIT_SECONDS)];

/**
 * sh lines defining `db_lock`, which takes the app's database lock for the rest of the script, and
 * `db_lock_wait SECONDS`, which the script's `--lock-wait` calls: a whole number of seconds, 0 or more
 * (0: give up at once), or the script stops (exit 2) naming the option.
 */
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
    `  case "$wait_s" in ''|*[!0-9]*) ${say("DB_LOCK_WAIT must be a whole number of seconds, 0 or more (got '$wait_s'); nothing was done")}; exit 2 ;; esac`,
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
    `# ${LOCK_WAIT_OPTION} SECONDS: how long db_lock waits (the deploy steps' sudo drops DB_LOCK_WAIT from the environment).`,
    "db_lock_wait() {",
    `  case "$1" in ''|*[!0-9]*) ${say(`${LOCK_WAIT_OPTION} must be a whole number of seconds, 0 or more (got '$1')`)}; exit 2 ;; esac`,
    "  DB_LOCK_WAIT=$1",
    "}",
  ];
}
