/**
 * renderBackupScript: one backup of an app, as the timer and the pre-deploy step run it.
 *  1. a new directory `<LOCAL_DIR>/<id>` (an existing one is refused: a backup never overwrites another);
 *  2. the database: `pg_dump` in custom format (row counts read back from the dump itself, so they
 *     are those of the dump's snapshot), or SQLite's online backup API inside a read transaction
 *     (a consistent snapshot in WAL mode, never a plain copy of the live file), then
 *     `PRAGMA integrity_check` on the copy, which must answer exactly `ok`;
 *  3. the uploads volume as a tar archive;
 *  4. `manifest.txt`: sha256 and size of each file, row counts per table, the database's size;
 *  5. upload to `s3://<BUCKET>/<PREFIX>/<id>/`, each key checked to be new, the manifest last;
 *  6. the metrics file: attempt, success, duration, size and status per kind.
 * The last line of its output is `backup-key: <PREFIX>/<id>/` (the pre-deploy step records it).
 * It waits for the app's database lock (../shared/databaseLock.ts) up to `DB_LOCK_WAIT` seconds, or
 * `--lock-wait SECONDS` (what the deploy steps pass: sudo drops the environment).
 *
 * Which host takes the app's backups: `<PREFIX>/.backup-host` in the bucket names it (its
 * `/etc/machine-id`), written by `backup.sh --claim-host` (the `<app>-backups-host` deploy step, run
 * again whenever the app's host changes) and refreshed by each backup (so lifecycle expiry never
 * removes it while backups run). A backup on any other host fails before it reads the database and
 * uploads nothing: when an app moves to a new host, the old host's timers (left behind: the install
 * step's delete runs only when the step is deleted) would otherwise go on uploading backups of the
 * old, stale data as the newest ones, which a restore of `--latest` would pick.
 */
import { LOCK_WAIT_OPTION } from "../shared/databaseLock";
import { UNIT_DIR } from "./hostInstall";
import { header, lines, SQLITE_COUNT_ROWS, type ScriptSpec } from "./scriptCommon";

/** The bucket key, under the app's prefix, that names the host taking its backups. */
export const BACKUP_HOST_KEY = ".backup-host";

/** Which host takes the app's backups: `check_host` and `claim_host` (the monitoring data's backup uses them too). */
export const HOST_CLAIM = [
  "# Which host takes this app's backups (see the script's header in backupScript.ts).",
  'host_id() {',
  '  if [ -n "${RUNBOOK_HOST_ID:-}" ]; then ME=$RUNBOOK_HOST_ID; elif [ -s /etc/machine-id ]; then ME=$(cat /etc/machine-id); else ME=; fi',
  '  [ -n "$ME" ] || fail "this host has no /etc/machine-id: cannot tell which host takes $APP\'s backups"',
  "}",
  `HOST_MARK="$PREFIX/${BACKUP_HOST_KEY}"`,
  "claim_host() {",
  "  host_id",
  '  mark=$(mktemp "${TMPDIR:-/tmp}/runbook-host.XXXXXX")',
  '  printf \'%s %s %s\\n\' "$ME" "$(hostname)" "$(now)" > "$mark"',
  '  s3_put "$mark" "$HOST_MARK" || { rm -f "$mark"; fail "cannot write s3://$BUCKET/$HOST_MARK"; }',
  '  rm -f "$mark"',
  "}",
  "# 0: the claim names this host or there is none; 1: it names another (OWNER, OWNER_NAME).",
  "claimed_by_me() {",
  '  s3_any "$BUCKET" "$HOST_MARK" || return 0',
  "  host_id",
  '  mark=$(mktemp "${TMPDIR:-/tmp}/runbook-host.XXXXXX")',
  '  s3_get "$BUCKET" "$HOST_MARK" "$mark" || { rm -f "$mark"; fail "cannot read s3://$BUCKET/$HOST_MARK"; }',
  '  OWNER=; OWNER_NAME=',
  '  read -r OWNER OWNER_NAME _ < "$mark" || true',
  '  rm -f "$mark"',
  '  [ "$OWNER" = "$ME" ]',
  "}",
  "# The app's backup timers this host has (the monitoring data's only where the app backs it up).",
  "backup_timers() {",
  '  timers="runbook-backup-$APP.timer runbook-backup-verify-$APP.timer"',
  `  if [ -e "\${RUNBOOK_UNIT_DIR:-${UNIT_DIR}}/runbook-monitoring-backup-$APP.timer" ]; then timers="$timers runbook-monitoring-backup-$APP.timer"; fi`,
  '  echo "$timers"',
  "}",
  "check_host() {",
  '  claimed_by_me || fail "this host ($(hostname), machine id $ME) no longer takes $APP\'s backups: the last deploy put them on ${OWNER_NAME:-another host} (machine id $OWNER). Nothing was read or uploaded. Turn this host\'s jobs off: systemctl disable --now $(backup_timers). If the app does run here (a host rebuilt with a new machine id), claim it: sudo $0 --claim-host"',
  "}",
];

/** Why a backup was taken; part of its id. */
export const BACKUP_REASONS = ["scheduled", "pre-deploy", "manual", "pre-maintenance", "pre-restore"] as const;

export function renderBackupScript(spec: ScriptSpec): string {
  const postgres = spec.engine === "postgres";
  return lines(
    header(spec, "backup", "Backup"),
    postgres ? [] : SQLITE_COUNT_ROWS,
    HOST_CLAIM,
    "",
    `usage() { echo "usage: $0 [--reason ${BACKUP_REASONS.join("|")}] [--id ID] [--skip-missing] [${LOCK_WAIT_OPTION} SECONDS] | --claim-host" >&2; exit 2; }`,
    "REASON=manual",
    "ID=",
    postgres ? [] : "SKIP_MISSING=0",
    'while [ "$#" -gt 0 ]; do',
    '  case "$1" in',
    '    --reason) [ "$#" -ge 2 ] || usage; REASON=$2; shift 2 ;;',
    '    --id) [ "$#" -ge 2 ] || usage; ID=$2; shift 2 ;;',
    `    ${LOCK_WAIT_OPTION}) [ "$#" -ge 2 ] || usage; db_lock_wait "$2"; shift 2 ;;`,
    // A PostgreSQL database always exists; only a SQLite file can be missing (a first deploy).
    postgres ? "    --skip-missing) shift ;;" : "    --skip-missing) SKIP_MISSING=1; shift ;;",
    '    --claim-host) claim_host; log "this host ($(hostname), machine id $ME) takes $APP\'s backups from now on"; exit 0 ;;',
    "    *) usage ;;",
    "  esac",
    "done",
    `case "$REASON" in ${BACKUP_REASONS.join("|")}) ;; *) usage ;; esac`,
    '[ -n "$ID" ] || ID="$(date -u +%Y%m%dT%H%M%SZ)-$REASON"',
    'case "$ID" in *[!A-Za-z0-9._-]*|.*) fail "--id must be letters, digits, ., _ and - (got $ID)" ;; esac',
    "",
    "STARTED=$(now)",
    "T0=$(clock)",
    "for kind in $KINDS; do set_metric \"$kind\" runbook_backup_last_attempt_timestamp_seconds \"$STARTED\"; done",
    "publish_metrics",
    "STATUS=failed",
    "CREATED=0",
    'DIR="$LOCAL_DIR/$ID"',
    'WORK=$(mktemp -d "${TMPDIR:-/tmp}/runbook-backup.XXXXXX")',
    "finish() {",
    '  rm -rf "$WORK"',
    '  if [ "$STATUS" != ok ] && [ "$CREATED" = 1 ]; then rm -rf "$DIR"; fi',
    '  if [ "$STATUS" = failed ]; then',
    '    for kind in $KINDS; do set_metric "$kind" runbook_backup_last_status 0; done',
    "    publish_metrics",
    "  fi",
    "}",
    "trap finish EXIT",
    "trap 'exit 1' HUP INT TERM",
    "",
    "db_lock",
    "check_host",
    'mkdir -p "$LOCAL_DIR"',
    'chmod 0700 "$LOCAL_DIR"',
    'mkdir "$DIR" 2>/dev/null || fail "$DIR already exists: a backup never overwrites another"',
    "CREATED=1",
    'if s3_any "$BUCKET" "$PREFIX/$ID/"; then fail "s3://$BUCKET/$PREFIX/$ID/ already exists: a backup never overwrites another"; fi',
    "",
    postgres
      ? [
          "# PostgreSQL: pg_dump's custom format (compressed, restorable table by table).",
          "DB_FILE=database.dump",
          'db pg_dump --format=custom --no-owner --no-privileges -U "$PG_USER" -d "$PG_DATABASE" > "$DIR/$DB_FILE"',
          "# Row counts of the dump's own snapshot: its data read back, one COPY line per row.",
          'db pg_restore --data-only -f - < "$DIR/$DB_FILE" | awk \'/^COPY / { t = $2; gsub(/"/, "", t); n = 0; copying = 1; next } copying && $0 == "\\\\." { printf "table\\t%s\\t%d\\n", t, n; copying = 0; next } copying { n++ }\' | sort > "$WORK/tables"',
          'DB_BYTES=$(db psql -X -At -U "$PG_USER" -d "$PG_DATABASE" -c "SELECT pg_database_size(current_database())")',
        ]
      : [
          "# SQLite: the online backup API, inside a read transaction so the copy is one snapshot while",
          "# the app goes on writing (WAL mode); never a plain copy of the live file.",
          "DB_FILE=database.sqlite.gz",
          'SRC="$(volume_dir "${SQLITE_VOLUME:-}" "${SQLITE_PATH:-}")${SQLITE_FILE:+/$SQLITE_FILE}"',
          'if [ ! -f "$SRC" ] && [ "$SKIP_MISSING" = 1 ]; then',
          '  log "no database at $SRC yet (a first deploy): nothing to back up"',
          "  STATUS=skipped",
          '  echo "backup-key: none"',
          "  exit 0",
          "fi",
          '[ -f "$SRC" ] || fail "no SQLite database at $SRC"',
          'COPY="$WORK/database.sqlite"',
          "sqlite3 \"$SRC\" '.timeout 30000' 'BEGIN' 'SELECT count(*) FROM sqlite_master;' \".backup '$COPY'\" 'COMMIT' >/dev/null",
          "sqlite3 \"$COPY\" 'PRAGMA journal_mode=DELETE;' >/dev/null",
          "CHECK=$(sqlite3 \"$COPY\" 'PRAGMA integrity_check;')",
          '[ "$CHECK" = ok ] || fail "integrity_check of the copy answered: $CHECK"',
          'sqlite_count_rows "$COPY" > "$WORK/tables"',
          'DB_BYTES=$(wc -c < "$COPY" | tr -d " ")',
          'gzip -c "$COPY" > "$DIR/$DB_FILE"',
        ],
    "T_DB=$(clock)",
    "",
    spec.uploads
      ? [
          "# Uploads: a tar archive of the volume (a file changed while it was read is a warning, not a failure).",
          'UPLOADS="$(volume_dir "${UPLOADS_VOLUME:-}" "${UPLOADS_DIR:-}")"',
          '[ -d "$UPLOADS" ] || fail "no uploads directory at $UPLOADS"',
          'rc=0; tar -C "$UPLOADS" -czf "$DIR/uploads.tar.gz" . || rc=$?',
          '[ "$rc" -le 1 ] || fail "tar of $UPLOADS failed ($rc)"',
          "UPLOAD_FILES=$(tar -tzf \"$DIR/uploads.tar.gz\" | grep -vc '/$' || true)",
        ]
      : [],
    "",
    "# TLS (FairLens \"Configuration Backup\": SSL certificates): the proxy's certificate and key, or certbot's",
    "# whole directory (its renewal settings, archive and live links) where they are Let's Encrypt's, so a",
    "# host rebuilt from this backup serves and renews them. Missing files are a warning, never a failure.",
    'if [ -n "${TLS_PATHS:-}" ]; then',
    '  TLS_MEMBERS=""',
    '  for p in $TLS_PATHS; do',
    '    if [ -e "$p" ]; then TLS_MEMBERS="$TLS_MEMBERS ${p#/}"; else log "warning: $p is missing: not in this backup"; fi',
    "  done",
    "  # shellcheck disable=SC2086 # one word per path; paths are absolute and have no spaces (config checks)",
    '  if [ -n "$TLS_MEMBERS" ]; then tar -C / -czf "$DIR/tls.tar.gz" ${TLS_DEREFERENCE:+-h} $TLS_MEMBERS || fail "tar of the TLS files failed"; fi',
    "fi",
    "",
    "# The manifest, beside the backup: what verification and restore check everything against.",
    "{",
    "  printf 'format\\t1\\napp\\t%s\\nid\\t%s\\nreason\\t%s\\nengine\\t%s\\ncreated\\t%s\\ndatabase_bytes\\t%s\\n' \"$APP\" \"$ID\" \"$REASON\" \"$ENGINE\" \"$STARTED\" \"$DB_BYTES\"",
    spec.uploads ? "  printf 'uploads_files\\t%s\\n' \"$UPLOAD_FILES\"" : [],
    "  for f in \"$DIR\"/*; do printf 'file\\t%s\\t%s\\t%s\\n' \"$(basename \"$f\")\" \"$(sha256 \"$f\")\" \"$(wc -c < \"$f\" | tr -d ' ')\"; done",
    '  cat "$WORK/tables"',
    '} > "$WORK/manifest.txt"',
    'mv "$WORK/manifest.txt" "$DIR/manifest.txt"',
    "",
    "# Upload: every file under a new key, the manifest last.",
    'for f in "$DIR"/*; do',
    '  name=$(basename "$f")',
    '  [ "$name" = manifest.txt ] || s3_put "$f" "$PREFIX/$ID/$name"',
    "done",
    's3_put "$DIR/manifest.txt" "$PREFIX/$ID/manifest.txt"',
    "",
    "DONE=$(now)",
    "T1=$(clock)",
    'DB_SIZE=$(wc -c < "$DIR/$DB_FILE" | tr -d " ")',
    'set_metric database runbook_backup_last_size_bytes "$DB_SIZE"',
    spec.uploads ? 'set_metric uploads runbook_backup_last_size_bytes "$(wc -c < "$DIR/uploads.tar.gz" | tr -d " ")"' : [],
    "# One job takes both kinds: each took the job's time, from its start to the end of the upload.",
    'for kind in $KINDS; do',
    '  set_metric "$kind" runbook_backup_last_duration_seconds "$(elapsed "$T0" "$T1")"',
    '  set_metric "$kind" runbook_backup_last_success_timestamp_seconds "$DONE"',
    '  set_metric "$kind" runbook_backup_last_status 1',
    "done",
    "STATUS=ok",
    "publish_metrics",
    'touch "$DIR"',
    "# Still this host's: the claim is refreshed, so bucket lifecycle never expires it while backups run. Read",
    "# again first: a deploy may have moved the app while this backup ran, and the claim is never taken back.",
    "# In subshells, so that a failure here is a warning: the backup itself is complete in the bucket.",
    "REFRESH=0",
    'if ( claimed_by_me ); then REFRESH=1; else log "WARNING: the claim of $APP\'s backups not refreshed: it names another host now, or could not be read"; fi',
    'if [ "$REFRESH" = 1 ]; then ( claim_host ) || log "WARNING: could not refresh s3://$BUCKET/$HOST_MARK"; fi',
    'log "backup $ID: $DB_SIZE bytes of database in $(elapsed "$T0" "$T_DB") s, uploaded in $(elapsed "$T0" "$T1") s"',
    'echo "backup-key: $PREFIX/$ID/"',
  );
}
