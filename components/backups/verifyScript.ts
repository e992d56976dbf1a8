/**
 * renderVerifyScript: proves the newest backup (or a named one) by restoring it.
 *  1. downloads it from the bucket, checks every file's size and sha256 against the manifest;
 *  2. checks each archive's integrity (`pg_restore --list`; `gzip -t`, and `PRAGMA integrity_check`
 *     answering exactly `ok`; `tar -t` of the uploads);
 *  3. restores into scratch: a throwaway PostgreSQL container of the app's own image, without a
 *     network (on a Docker host), or a throwaway database (elsewhere); a scratch SQLite file; a
 *     scratch directory for the uploads;
 *  4. compares row counts per table (and the uploads' file count) with the manifest;
 *  5. records the proof beside the backup (`<id>/verified.txt`, once), what a recovery stack's
 *     `restore.sh --latest-verified` looks for;
 *  6. exports success or failure and the restore's duration, and exits non-zero on any mismatch.
 */
import { FETCH_AND_CHECK, header, ID_OPTION_ONLY, lines, PG_COUNT_ROWS, SQLITE_COUNT_ROWS, type ScriptSpec } from "./scriptCommon";

export function renderVerifyScript(spec: ScriptSpec): string {
  const postgres = spec.engine === "postgres";
  return lines(
    header(spec, "verify", "Backup verification"),
    FETCH_AND_CHECK,
    postgres ? PG_COUNT_ROWS : SQLITE_COUNT_ROWS,
    "",
    ID_OPTION_ONLY,
    "",
    "STATUS=failed",
    postgres ? "SCRATCH=" : [],
    'WORK=$(mktemp -d "${TMPDIR:-/tmp}/runbook-verify.XXXXXX")',
    postgres
      ? [
          "# The scratch database: a throwaway container of the live database's image, without a network,",
          "# on a Docker host; a throwaway database on the PG* server elsewhere.",
          "scratch() {",
          '  if [ "$DOCKER" = 1 ]; then docker exec -i "$SCRATCH" "$@"; else "$@"; fi',
          "}",
          "scratch_start() {",
          '  if [ "$DOCKER" = 1 ]; then',
          '    live=$(docker ps -q --filter "label=runbook.app=$APP" --filter label=runbook.service=database | head -n 1)',
          '    [ -n "$live" ] || fail "no running database container of $APP to take the image from"',
          "    image=$(docker inspect --format '{{ .Config.Image }}' \"$live\")",
          '    SCRATCH=$(docker run -d --rm --network none --label "runbook.app=$APP" --label runbook.role=backup-verify -e POSTGRES_HOST_AUTH_METHOD=trust -e "POSTGRES_USER=$PG_USER" -e "POSTGRES_DB=$PG_DATABASE" "$image")',
          '    SCRATCH_DB=$PG_DATABASE',
          "    i=0",
          "    # TCP on the container's loopback: the image's first-start server listens on its socket only.",
          '    until scratch pg_isready -q -h 127.0.0.1 -U "$PG_USER" -d "$SCRATCH_DB"; do',
          "      i=$((i + 1))",
          '      [ "$i" -le 60 ] || fail "the scratch database did not start within 60 s"',
          "      sleep 1",
          "    done",
          "  else",
          '    SCRATCH_DB="${PG_DATABASE}_verify_$$"',
          '    SCRATCH=$SCRATCH_DB',
          '    createdb -U "$PG_USER" "$SCRATCH_DB"',
          "  fi",
          "}",
          "scratch_stop() {",
          '  [ -n "$SCRATCH" ] || return 0',
          '  if [ "$DOCKER" = 1 ]; then docker rm -f "$SCRATCH" >/dev/null 2>&1 || true; else dropdb -U "$PG_USER" --if-exists "$SCRATCH_DB" || true; fi',
          "}",
        ]
      : ["scratch_stop() { :; }"],
    "finish() {",
    "  scratch_stop",
    '  rm -rf "$WORK"',
    '  if [ "$STATUS" != ok ]; then',
    '    for kind in $KINDS; do set_metric "$kind" runbook_backup_verify_last_status 0; done',
    "    publish_metrics",
    "  fi",
    "}",
    "trap finish EXIT",
    "trap 'exit 1' HUP INT TERM",
    "",
    '[ -n "$ID" ] || ID=$(latest_id "$BUCKET" "$PREFIX")',
    '[ -n "$ID" ] || fail "no backup with a manifest under s3://$BUCKET/$PREFIX/"',
    'log "verifying backup $ID of s3://$BUCKET/$PREFIX/"',
    'B="$WORK/backup"',
    'fetch_backup "$BUCKET" "$PREFIX" "$ID" "$B"',
    'check_files "$B"',
    "",
    postgres
      ? [
          '[ -f "$B/database.dump" ] || fail "the backup has no database.dump"',
          "scratch_start",
          'scratch pg_restore --list < "$B/database.dump" > /dev/null || fail "database.dump is not a readable pg_dump archive"',
          "RESTORE_START=$(clock)",
          'scratch pg_restore --no-owner --no-privileges --exit-on-error --single-transaction -U "$PG_USER" -d "$SCRATCH_DB" < "$B/database.dump" || fail "database.dump does not restore"',
          "RESTORE_END=$(clock)",
          'pg_count_rows scratch "$SCRATCH_DB" > "$WORK/have"',
        ]
      : [
          '[ -f "$B/database.sqlite.gz" ] || fail "the backup has no database.sqlite.gz"',
          "RESTORE_START=$(clock)",
          'gzip -t "$B/database.sqlite.gz" || fail "database.sqlite.gz is not a whole gzip archive"',
          'gzip -dc "$B/database.sqlite.gz" > "$WORK/scratch.sqlite"',
          "CHECK=$(sqlite3 \"$WORK/scratch.sqlite\" 'PRAGMA integrity_check;' 2>&1) || true",
          '[ "$CHECK" = ok ] || fail "integrity_check of the restored copy answered: $(printf "%s" "$CHECK" | head -n 3)"',
          "RESTORE_END=$(clock)",
          'sqlite_count_rows "$WORK/scratch.sqlite" > "$WORK/have" || fail "cannot count the rows of the restored copy"',
        ],
    'compare_rows "$WORK/have" "$B/manifest.txt"',
    'set_metric database runbook_backup_restore_duration_seconds "$(elapsed "$RESTORE_START" "$RESTORE_END")"',
    spec.uploads
      ? [
          "",
          '[ -f "$B/uploads.tar.gz" ] || fail "the backup has no uploads.tar.gz"',
          "UPLOADS_START=$(clock)",
          'mkdir "$WORK/uploads"',
          'tar -C "$WORK/uploads" -xzf "$B/uploads.tar.gz" || fail "uploads.tar.gz does not extract"',
          "UPLOADS_END=$(clock)",
          'have=$(find "$WORK/uploads" -type f | wc -l | tr -d " ")',
          'want=$(manifest_get uploads_files "$B/manifest.txt")',
          '[ "$have" = "$want" ] || fail "uploads.tar.gz holds $have files, the manifest $want"',
          'set_metric uploads runbook_backup_restore_duration_seconds "$(elapsed "$UPLOADS_START" "$UPLOADS_END")"',
        ]
      : [],
    "",
    "DONE=$(now)",
    "# The proof, beside the backup, written once and only after everything above matched: a recovery",
    "# stack restores the newest backup that has one (restore.sh --latest-verified).",
    'if ! s3_any "$BUCKET" "$PREFIX/$ID/verified.txt"; then',
    "  printf 'verified\\t%s\\nrestore_seconds\\t%s\\n' \"$DONE\" \"$(elapsed \"$RESTORE_START\" \"$RESTORE_END\")\" > \"$WORK/verified.txt\"",
    '  s3_put "$WORK/verified.txt" "$PREFIX/$ID/verified.txt" || fail "cannot record the verification of $ID in the bucket"',
    "fi",
    'for kind in $KINDS; do set_metric "$kind" runbook_backup_verify_last_status 1; set_metric "$kind" runbook_backup_verify_last_success_timestamp_seconds "$DONE"; done',
    "STATUS=ok",
    "publish_metrics",
    'log "backup $ID verified: checksums, integrity and row counts match its manifest; restored in $(elapsed "$RESTORE_START" "$RESTORE_END") s"',
  );
}
