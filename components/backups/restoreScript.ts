/**
 * renderRestoreScript: restores a backup into the app's live database and uploads.
 *   restore.sh [--latest | --latest-verified | --id ID | --pre-deploy] [--from-bucket B --from-prefix P] [--if-empty | --force] [--keep-stopped] [--once TOKEN] [--lock-wait SECONDS]
 * - which backup: the newest (default), the newest that verification proved (its `verified.txt`:
 *   what a recovery stack restores), a named one, or the newest taken before a deploy;
 * - from where: the app's own bucket, or another stack's (a recovery stack restores from the
 *   bucket of the stack it replaces);
 * - the files are checked against the manifest before anything is touched;
 * - a database that already holds tables is never overwritten silently: `--if-empty` skips it
 *   (the recovery stack's step, which may run again on a later `pulumi up`), `--force` replaces it;
 * - on a Docker host the app's backends and workers are stopped while the data is replaced, and
 *   started again afterwards (runbooks: stop the app, restore, verify, start); `--keep-stopped`
 *   (a rollback's restore) leaves them stopped once the data is replaced, because the deploy that
 *   asked for it replaces them with the older release's, and the newer code must not run on the
 *   restored data in between (an app that migrates itself at start would migrate it up again);
 *   when the restore fails before the data is touched, they are started again either way;
 * - `--once TOKEN` (a rollback's restore): a restore that completed under TOKEN is not done again,
 *   however often the step runs (the command provider runs `create` again on any change of the
 *   step's other inputs); the marker is `$STATE_DIR/restores/TOKEN` (the jobs' state, beside the
 *   local backups, which pruning skips), written only after the row counts matched;
 * - it holds the app's database lock (components/shared/databaseLock.ts) from before it looks at the
 *   live database until it exits, so no backup or upkeep job has the file open while it is replaced;
 *   it waits for it up to `DB_LOCK_WAIT` seconds, or `--lock-wait SECONDS` (the deploy steps' bound);
 * - PostgreSQL in one transaction; SQLite replaced by rename after `PRAGMA integrity_check`, with
 *   the old WAL and shared-memory files removed first (a stale WAL must never be applied to it);
 * - row counts after the restore must match the manifest; the time it took is printed, and on stdout
 *   the recovery point (the backup's time), where it came from, and when the restore began and ended
 *   (`recovery-point:`, `restored-from:`, `restore-started:`, `restore-finished:`, unix seconds),
 *   which a recovery stack reports as its outputs.
 */
import { LOCK_WAIT_OPTION } from "../shared/databaseLock";
import { FETCH_AND_CHECK, header, lines, PG_COUNT_ROWS, SQLITE_COUNT_ROWS, type ScriptSpec } from "./scriptCommon";

export function renderRestoreScript(spec: ScriptSpec): string {
  const postgres = spec.engine === "postgres";
  return lines(
    header(spec, "restore", "Restore"),
    FETCH_AND_CHECK,
    postgres ? PG_COUNT_ROWS : SQLITE_COUNT_ROWS,
    "",
    'usage() { echo "usage: $0 [--latest | --latest-verified | --id ID | --pre-deploy] [--from-bucket BUCKET --from-prefix PREFIX] [--if-empty | --force] [--keep-stopped] [--once TOKEN] [--lock-wait SECONDS]" >&2; exit 2; }',
    "BEGAN=$(now)",
    "ID=",
    "WHICH=latest",
    'FROM_BUCKET=$BUCKET',
    'FROM_PREFIX=$PREFIX',
    "MODE=refuse",
    "KEEP_STOPPED=",
    "ONCE=",
    'while [ "$#" -gt 0 ]; do',
    '  case "$1" in',
    "    --latest) WHICH=latest; shift ;;",
    "    --latest-verified) WHICH=latest-verified; shift ;;",
    "    --pre-deploy) WHICH=pre-deploy; shift ;;",
    '    --id) [ "$#" -ge 2 ] || usage; WHICH=id; ID=$2; shift 2 ;;',
    '    --from-bucket) [ "$#" -ge 2 ] || usage; FROM_BUCKET=$2; shift 2 ;;',
    '    --from-prefix) [ "$#" -ge 2 ] || usage; FROM_PREFIX=$2; shift 2 ;;',
    "    --if-empty) MODE=if-empty; shift ;;",
    "    --force) MODE=force; shift ;;",
    "    --keep-stopped) KEEP_STOPPED=1; shift ;;",
    '    --once) [ "$#" -ge 2 ] || usage; ONCE=$2; shift 2 ;;',
    `    ${LOCK_WAIT_OPTION}) [ "$#" -ge 2 ] || usage; db_lock_wait "$2"; shift 2 ;;`,
    "    *) usage ;;",
    "  esac",
    "done",
    'MARK=',
    'if [ -n "$ONCE" ]; then',
    '  case "$ONCE" in *[!A-Za-z0-9._-]*|.*) fail "--once must be letters, digits, ., _ and - (got $ONCE)" ;; esac',
    '  MARK="$STATE_DIR/restores/$ONCE"',
    '  if [ -f "$MARK" ]; then log "restore $ONCE was done before ($(cat "$MARK")): nothing restored"; echo "restored: none"; exit 0; fi',
    "fi",
    "",
    "STOPPED=",
    "# Set once the live data is being replaced: from then on a failure leaves the app stopped under --keep-stopped.",
    "TOUCHED=",
    'WORK=$(mktemp -d "${TMPDIR:-/tmp}/runbook-restore.XXXXXX")',
    "finish() {",
    '  rm -rf "$WORK"',
    '  case "$STOPPED" in *[![:space:]]*) ;; *) return 0 ;; esac',
    '  if [ -n "$KEEP_STOPPED" ] && [ -n "$TOUCHED" ]; then',
    '    log "the app\'s backends and workers stay stopped (--keep-stopped):$STOPPED; the deploy replaces them"',
    "  else",
    '    log "starting the app again"; for c in $STOPPED; do docker start "$c" >/dev/null || log "could not start $c"; done',
    "  fi",
    "}",
    "trap finish EXIT",
    "trap 'exit 1' HUP INT TERM",
    "",
    "# The app's backends and workers, stopped while their data is replaced (Docker host only).",
    "stop_app() {",
    '  [ "$DOCKER" = 1 ] || return 0',
    '  for role in backend worker; do STOPPED="$STOPPED $(docker ps -q --filter "label=runbook.app=$APP" --filter "label=runbook.role=$role" | tr "\\n" " ")"; done',
    '  for c in $STOPPED; do docker stop "$c" >/dev/null; done',
    "}",
    "",
    'case "$WHICH" in',
    '  latest) ID=$(latest_id "$FROM_BUCKET" "$FROM_PREFIX") ;;',
    '  latest-verified) ID=$(latest_verified_id "$FROM_BUCKET" "$FROM_PREFIX"); [ -n "$ID" ] || fail "no verified backup under s3://$FROM_BUCKET/$FROM_PREFIX/ (verify.sh records verified.txt beside each backup it proves)" ;;',
    "  pre-deploy) ID=$(s3 s3 ls \"s3://$FROM_BUCKET/$FROM_PREFIX/\" | awk '$1 == \"PRE\" { sub(/\\/$/, \"\", $2); print $2 }' | grep -- '-pre-deploy$' | sort | tail -n 1) ;;",
    "esac",
    '[ -n "$ID" ] || fail "no backup to restore under s3://$FROM_BUCKET/$FROM_PREFIX/"',
    'log "restoring backup $ID from s3://$FROM_BUCKET/$FROM_PREFIX/"',
    'B="$WORK/backup"',
    'fetch_backup "$FROM_BUCKET" "$FROM_PREFIX" "$ID" "$B"',
    'check_files "$B"',
    "# From here until it exits, no other job opens or replaces the live database (a SQLite connection",
    "# left open on the old file would delete the restored file's WAL by name when it closes).",
    "db_lock",
    "",
    postgres
      ? [
          "TABLES=$(db psql -X -At -U \"$PG_USER\" -d \"$PG_DATABASE\" -c \"SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'\")",
        ]
      : [
          'TARGET="$(volume_dir "${SQLITE_VOLUME:-}" "${SQLITE_PATH:-}")${SQLITE_FILE:+/$SQLITE_FILE}"',
          "TABLES=0",
          "if [ -s \"$TARGET\" ]; then TABLES=$(sqlite3 \"$TARGET\" \"SELECT count(*) FROM sqlite_master WHERE type = 'table'\"); fi",
        ],
    'if [ "$TABLES" -gt 0 ]; then',
    '  case "$MODE" in',
    '    if-empty) log "the database already holds $TABLES tables: nothing restored (--if-empty)"; echo "restored: none"; exit 0 ;;',
    '    refuse) fail "the database already holds $TABLES tables; pass --force to replace them with backup $ID" ;;',
    "  esac",
    "fi",
    "",
    "START=$(clock)",
    "stop_app",
    postgres
      ? [
          'db pg_restore --clean --if-exists --no-owner --no-privileges --exit-on-error --single-transaction -U "$PG_USER" -d "$PG_DATABASE" < "$B/database.dump" || fail "pg_restore failed; the database is as it was"',
          "TOUCHED=1",
          'pg_count_rows db "$PG_DATABASE" > "$WORK/have"',
        ]
      : [
          'NEW="$TARGET.restore.$$"',
          'gzip -dc "$B/database.sqlite.gz" > "$NEW"',
          "CHECK=$(sqlite3 \"$NEW\" 'PRAGMA integrity_check;' 2>&1) || true",
          'if [ "$CHECK" != ok ]; then rm -f "$NEW"; fail "integrity_check of backup $ID answered: $CHECK"; fi',
          'chown "$(stat -c %u:%g "$(dirname "$TARGET")")" "$NEW"',
          "TOUCHED=1",
          'rm -f "$TARGET-wal" "$TARGET-shm"',
          'mv -f "$NEW" "$TARGET"',
          'sqlite_count_rows "$TARGET" > "$WORK/have"',
        ],
    'compare_rows "$WORK/have" "$B/manifest.txt"',
    spec.uploads
      ? [
          'UPLOADS="$(volume_dir "${UPLOADS_VOLUME:-}" "${UPLOADS_DIR:-}")"',
          'mkdir -p "$UPLOADS"',
          'tar -C "$UPLOADS" -xzf "$B/uploads.tar.gz" || fail "uploads.tar.gz does not extract into $UPLOADS"',
        ]
      : [],
    // A host rebuilt from the backup gets the proxy's certificates before the proxy starts; a file this
    // host has is never replaced (a newer renewal, an operator's own certificate).
    // An empty directory is not "on this host": Docker creates a bind mount's missing source as one.
    'if [ -n "${TLS_PATHS:-}" ] && [ -f "$B/tls.tar.gz" ]; then',
    '  for p in $TLS_PATHS; do',
    '    if { [ -d "$p" ] && [ -n "$(ls -A "$p")" ]; } || { [ -e "$p" ] && [ ! -d "$p" ]; }; then log "TLS: $p is on this host: kept"',
    '    elif tar -C / -xzf "$B/tls.tar.gz" "${p#/}"; then log "TLS: restored $p"',
    '    else log "warning: $p is not in backup $ID"; fi',
    "  done",
    "fi",
    "END=$(clock)",
    'log "restored backup $ID in $(elapsed "$START" "$END") s"',
    'if [ -n "$MARK" ]; then mkdir -p "$(dirname "$MARK")"; echo "$ID $(now)" > "$MARK"; fi',
    'echo "recovery-point: $(manifest_get created "$B/manifest.txt")"',
    'echo "restored-from: s3://$FROM_BUCKET/$FROM_PREFIX/$ID/"',
    'echo "restore-started: $BEGAN"',
    'echo "restore-finished: $(now)"',
    'echo "restored: $FROM_PREFIX/$ID/"',
  );
}
