/**
 * The monitoring data's backup and restore (reference app "3.1 Data Backup Strategy": "Daily
 * snapshots or backups of Docker volumes (e.g. `prometheus_data`, `grafana_data`) ... Storage: same
 * as database backups"; "3.2 ... Restore persistent Docker volumes from backups").
 *
 * `monitoring-backup.sh`, daily from its own timer (MONITORING_DATA_SCHEDULE, whatever the database's
 * schedule: an hourly app would otherwise upload its whole metrics history every hour):
 *  - Prometheus: the TSDB's persisted blocks (a directory named by its ULID holding `meta.json`),
 *    which Prometheus never changes once written (it writes a block under a temporary name and
 *    renames it); not the WAL and head chunks, which it is writing: a restore lacks at most the last
 *    two to three hours before the backup (the head, not yet a block);
 *  - Grafana: its data directory, with `grafana.db` copied by SQLite's online backup API (the server
 *    may be writing it), then `PRAGMA integrity_check` on the copy; on a host without sqlite3, the file
 *    and its journal copied while the Grafana container is paused (a crash-consistent copy);
 *  - both archives keep numeric owners, and the manifest records each directory's owner and mode:
 *    the containers run as users of their own (Prometheus as nobody, Grafana as 472);
 *  - stored off-site only, under `<PREFIX>/monitoring/<id>/` with a manifest of its own (uploaded
 *    last), never beside a database backup: a database restore or verification never downloads it,
 *    and the database backups' listings (`<PREFIX>/<id>/manifest.txt`) never see it; bucket
 *    lifecycle and Object Lock apply as to every backup;
 *  - only on the host that takes the app's backups (the same `.backup-host` claim as backup.sh);
 *  - its metrics are the backups' with `kind="monitoring"`; a failed run fails the unit (journal)
 *    and sets `runbook_backup_last_status{kind="monitoring"}` to 0.
 *
 * `monitoring-restore.sh --prometheus-volume V --grafana-volume V [--id ID] [--from-bucket B
 * --from-prefix P]` (a recovery stack's step, before Prometheus and Grafana start): the newest
 * monitoring backup (or a named one), checked against its manifest, extracted into a volume only when
 * the volume holds no data yet (Prometheus: no block and no WAL; Grafana: no grafana.db), through a
 * staging directory in the volume so that a run that breaks off leaves nothing the next run would
 * take for data; a volume with data is kept as it is, and when both hold data nothing is read from
 * the bucket. No monitoring backup at all (the stack never took one) is a warning: Prometheus and
 * Grafana start empty, as they would have without it; a bucket it cannot list is an error.
 */
import { PATHS } from "../monitoring/settings";
import { HOST_CLAIM } from "./backupScript";
import { FETCH_AND_CHECK, header, ID_OPTION_ONLY, lines, type ScriptSpec } from "./scriptCommon";

/** Daily, after the default 02:00 database backup and before the 05:30 verification. */
export const MONITORING_DATA_SCHEDULE = "15 3 * * *";
/** Below the app's prefix in its bucket. */
export const MONITORING_DATA_DIR = "monitoring";
export const MONITORING_ARCHIVES = { prometheus: "prometheus.tar.gz", grafana: "grafana.tar.gz" } as const;

/** Where a monitoring container's data is: its volume's mount point on a Docker host, else a directory from jobs.env (tests). */
const MONITORING_DIR = [
  "# $1: the service (runbook.service=monitoring:$1), $2: its data path in the container, $3: the path without Docker.",
  "monitoring_dir() {",
  '  if [ "$DOCKER" = 1 ]; then',
  '    cid=$(docker ps -aq --filter "label=runbook.app=$APP" --filter "label=runbook.service=monitoring:$1" | head -n 1)',
  '    [ -n "$cid" ] || fail "no $1 container of $APP on this host"',
  "    docker inspect --format \"{{ range .Mounts }}{{ if eq .Destination \\\"$2\\\" }}{{ .Source }}{{ end }}{{ end }}\" \"$cid\"",
  "  else",
  "    printf '%s\\n' \"$3\"",
  "  fi",
  "}",
];

/**
 * The archives are made and fetched on disk beside the local backups, never in /tmp: with the units'
 * `PrivateTmp=true` the service's /tmp is a directory on the host's /tmp, which Debian 13 mounts as a
 * tmpfs of half the memory, and a metrics history of some GB would not fit there (or would take the
 * containers' memory). A hidden name: prune.sh and the backup ids never see it. One that a killed run
 * left is removed after a day.
 */
const WORK_DIR = [
  'mkdir -p "$LOCAL_DIR"',
  'chmod 0700 "$LOCAL_DIR"',
  'find "$LOCAL_DIR" -maxdepth 1 -name ".monitoring-work.*" -mmin +1440 -exec rm -rf {} +',
  'WORK=$(mktemp -d "$LOCAL_DIR/.monitoring-work.XXXXXX")',
];

/** The persisted blocks of a Prometheus data directory ($1), one `./<ULID>` per line. */
const PROMETHEUS_BLOCKS = [
  "prometheus_blocks() {",
  "  for b in \"$1\"/*; do",
  '    name=$(basename "$b")',
  "    # A block is renamed into place complete: a temporary one (`<ULID>.tmp-for-creation`) never matches.",
  '    if [ -f "$b/meta.json" ] && printf \'%s\\n\' "$name" | grep -Eq \'^[0-9A-HJKMNP-TV-Z]{26}$\'; then printf \'./%s\\n\' "$name"; fi',
  "  done",
  "}",
];

export function renderMonitoringBackupScript(spec: ScriptSpec): string {
  const { prometheus, grafana } = MONITORING_ARCHIVES;
  return lines(
    header(spec, "monitoring-backup", "Backup of the monitoring data (Prometheus and Grafana)"),
    HOST_CLAIM,
    MONITORING_DIR,
    PROMETHEUS_BLOCKS,
    "",
    ID_OPTION_ONLY,
    '[ -n "$ID" ] || ID="$(date -u +%Y%m%dT%H%M%SZ)-monitoring"',
    'case "$ID" in *[!A-Za-z0-9._-]*|.*) fail "--id must be letters, digits, ., _ and - (got $ID)" ;; esac',
    `KEY="$PREFIX/${MONITORING_DATA_DIR}/$ID"`,
    "STARTED=$(now)",
    "T0=$(clock)",
    "set_metric monitoring runbook_backup_last_attempt_timestamp_seconds \"$STARTED\"",
    "STATUS=failed",
    ...WORK_DIR,
    'SQLITE3=${SQLITE3:-sqlite3}',
    "PAUSED=",
    "finish() {",
    '  if [ -n "$PAUSED" ]; then docker unpause "$PAUSED" >/dev/null || log "WARNING: Grafana ($PAUSED) is still paused: docker unpause $PAUSED"; fi',
    '  rm -rf "$WORK"',
    '  if [ "$STATUS" = failed ]; then set_metric monitoring runbook_backup_last_status 0; fi',
    "  publish_metrics",
    "}",
    "trap finish EXIT",
    "trap 'exit 1' HUP INT TERM",
    "",
    "check_host",
    'if s3_any "$BUCKET" "$KEY/"; then fail "s3://$BUCKET/$KEY/ already exists: a backup never overwrites another"; fi',
    'mkdir "$WORK/out"',
    "",
    "# Prometheus: its persisted blocks only (see monitoringData.ts); a young server has none yet.",
    `P=$(monitoring_dir prometheus ${PATHS.prometheusData} "\${PROMETHEUS_DIR:-}")`,
    'if [ -z "$P" ] || [ ! -d "$P" ]; then fail "no Prometheus data directory of $APP (got \'$P\')"; fi',
    // Compaction and retention delete blocks while Prometheus runs: renamed `<ULID>.tmp-for-deletion`,
    // then removed (tsdb/db.go deleteBlocks). A listed block that goes before tar reaches it is GNU
    // tar's exit 2 ("Cannot stat"); one that goes while tar reads it is archived partial with exit 1
    // ("File removed before we read it"), and a partial block keeps a restored Prometheus from
    // starting ("corrupted block"). So the archive is good only if every listed block is still there
    // after tar: else it is made again from a new listing, 3 times at most. A block still there was
    // read whole (blocks never change once renamed into place), whatever tar's 1 says.
    "attempt=1",
    "while :; do",
    '  prometheus_blocks "$P" > "$WORK/blocks"',
    `  rc=0; tar -C "$P" --numeric-owner -czf "$WORK/out/${prometheus}" -T "$WORK/blocks" || rc=$?`,
    '  gone=$(while IFS= read -r b; do [ -d "$P/$b" ] || printf \'%s \' "${b#./}"; done < "$WORK/blocks")',
    '  if [ -z "$gone" ]; then [ "$rc" -le 1 ] || fail "tar of the Prometheus blocks in $P failed ($rc)"; break; fi',
    '  [ "$attempt" -lt 3 ] || fail "Prometheus removed blocks while they were archived, 3 times running (the last: $gone)"',
    '  log "Prometheus removed blocks while they were archived (${gone% }): archiving again"',
    "  attempt=$((attempt + 1))",
    "done",
    "",
    "# Grafana: the directory without grafana.db, then a consistent copy of grafana.db.",
    `G=$(monitoring_dir grafana ${PATHS.grafanaData} "\${GRAFANA_DIR:-}")`,
    'if [ -z "$G" ] || [ ! -d "$G" ]; then fail "no Grafana data directory of $APP (got \'$G\')"; fi',
    `rc=0; tar -C "$G" --numeric-owner --exclude=./grafana.db --exclude='./grafana.db-*' -cf "$WORK/grafana.tar" . || rc=$?`,
    '[ "$rc" -le 1 ] || fail "tar of $G failed ($rc)"',
    'if [ -f "$G/grafana.db" ]; then',
    '  mkdir "$WORK/db"',
    '  if command -v "$SQLITE3" >/dev/null 2>&1; then',
    "    # SQLite's online backup API, then an integrity check of the copy.",
    "    \"$SQLITE3\" \"$G/grafana.db\" '.timeout 30000' \".backup '$WORK/db/grafana.db'\" >/dev/null || fail \"the online backup of $G/grafana.db failed\"",
    "    CHECK=$(\"$SQLITE3\" \"$WORK/db/grafana.db\" 'PRAGMA integrity_check;' 2>&1) || true",
    '    [ "$CHECK" = ok ] || fail "integrity_check of the copy of grafana.db answered: $CHECK"',
    // The copy takes the live file's owner and mode, and the archive the copy's: GNU tar's `--owner`
    // is a name or a plain number (`+UID` is `--owner-map`'s syntax; `--owner=+472` is a user named
    // "+472" and keeps the copy's uid, root's), and a root-owned grafana.db is read-only to Grafana.
    '    chown "$(stat -c %u:%g "$G/grafana.db")" "$WORK/db/grafana.db"',
    '    chmod "$(stat -c %a "$G/grafana.db")" "$WORK/db/grafana.db"',
    "  else",
    // No sqlite3 on the host (a PostgreSQL app's host need not have it; adding it to a created host's
    // user data would replace the instance): the file and its journal or WAL, copied while Grafana is
    // frozen, are what a power cut would leave, which SQLite makes consistent at its next open (a hot
    // journal rolled back, a WAL replayed): sqlite.org "Atomic Commit In SQLite" 4.2 "Hot Rollback
    // Journals". Grafana is unpaused whatever happens (the EXIT trap).
    '    log "sqlite3 is not on this host: grafana.db is copied with its journal while Grafana is paused"',
    '    if [ "$DOCKER" = 1 ]; then',
    '      PAUSED=$(docker ps -q --filter "label=runbook.app=$APP" --filter "label=runbook.service=monitoring:grafana" | head -n 1)',
    '      if [ -n "$PAUSED" ]; then docker pause "$PAUSED" >/dev/null || { PAUSED=; fail "cannot pause Grafana to copy grafana.db"; }; fi',
    "    fi",
    '    for f in "$G/grafana.db" "$G/grafana.db-journal" "$G/grafana.db-wal"; do',
    '      if [ -e "$f" ]; then cp -p "$f" "$WORK/db/" || fail "cannot copy $f"; fi',
    "    done",
    '    if [ -n "$PAUSED" ]; then docker unpause "$PAUSED" >/dev/null || log "WARNING: Grafana ($PAUSED) is still paused: docker unpause $PAUSED"; PAUSED=; fi',
    "  fi",
    '  (cd "$WORK/db" && ls -A) > "$WORK/db.files"',
    '  tar -C "$WORK/db" --numeric-owner -rf "$WORK/grafana.tar" -T "$WORK/db.files" || fail "cannot add grafana.db to the archive"',
    "else",
    '  log "warning: $G has no grafana.db yet: the archive holds the directory only"',
    "fi",
    `gzip -c "$WORK/grafana.tar" > "$WORK/out/${grafana}"`,
    "",
    "{",
    "  printf 'format\\t1\\napp\\t%s\\nid\\t%s\\ncreated\\t%s\\n' \"$APP\" \"$ID\" \"$STARTED\"",
    "  printf 'prometheus_dir\\t%s\\nprometheus_blocks\\t%s\\n' \"$(stat -c '%u:%g %a' \"$P\")\" \"$(wc -l < \"$WORK/blocks\" | tr -d ' ')\"",
    "  printf 'grafana_dir\\t%s\\n' \"$(stat -c '%u:%g %a' \"$G\")\"",
    "  for f in \"$WORK/out\"/*; do printf 'file\\t%s\\t%s\\t%s\\n' \"$(basename \"$f\")\" \"$(sha256 \"$f\")\" \"$(wc -c < \"$f\" | tr -d ' ')\"; done",
    '} > "$WORK/manifest.txt"',
    `s3_put "$WORK/out/${prometheus}" "$KEY/${prometheus}"`,
    `s3_put "$WORK/out/${grafana}" "$KEY/${grafana}"`,
    's3_put "$WORK/manifest.txt" "$KEY/manifest.txt"',
    "",
    "T1=$(clock)",
    `SIZE=$(cat "$WORK/out/${prometheus}" "$WORK/out/${grafana}" | wc -c | tr -d " ")`,
    "set_metric monitoring runbook_backup_last_size_bytes \"$SIZE\"",
    'set_metric monitoring runbook_backup_last_duration_seconds "$(elapsed "$T0" "$T1")"',
    'set_metric monitoring runbook_backup_last_success_timestamp_seconds "$(now)"',
    "set_metric monitoring runbook_backup_last_status 1",
    "STATUS=ok",
    'log "monitoring backup $ID: $(wc -l < "$WORK/blocks" | tr -d " ") Prometheus blocks and Grafana\'s data, $SIZE bytes, in $(elapsed "$T0" "$T1") s"',
    'echo "monitoring-backup-key: $KEY/"',
  );
}

export function renderMonitoringRestoreScript(spec: ScriptSpec): string {
  const { prometheus, grafana } = MONITORING_ARCHIVES;
  return lines(
    header(spec, "monitoring-restore", "Restore of the monitoring data (Prometheus and Grafana)"),
    FETCH_AND_CHECK,
    PROMETHEUS_BLOCKS,
    "",
    'usage() { echo "usage: $0 --prometheus-volume VOLUME --grafana-volume VOLUME [--id ID] [--from-bucket BUCKET --from-prefix PREFIX]" >&2; exit 2; }',
    "ID=",
    "PROMETHEUS_VOLUME=",
    "GRAFANA_VOLUME=",
    "FROM_BUCKET=$BUCKET",
    "FROM_PREFIX=$PREFIX",
    'while [ "$#" -gt 0 ]; do',
    '  case "$1" in',
    '    --id) [ "$#" -ge 2 ] || usage; ID=$2; shift 2 ;;',
    '    --prometheus-volume) [ "$#" -ge 2 ] || usage; PROMETHEUS_VOLUME=$2; shift 2 ;;',
    '    --grafana-volume) [ "$#" -ge 2 ] || usage; GRAFANA_VOLUME=$2; shift 2 ;;',
    '    --from-bucket) [ "$#" -ge 2 ] || usage; FROM_BUCKET=$2; shift 2 ;;',
    '    --from-prefix) [ "$#" -ge 2 ] || usage; FROM_PREFIX=$2; shift 2 ;;',
    "    *) usage ;;",
    "  esac",
    "done",
    'if [ -z "$PROMETHEUS_VOLUME" ] || [ -z "$GRAFANA_VOLUME" ]; then usage; fi',
    `SRC="$FROM_PREFIX/${MONITORING_DATA_DIR}"`,
    "STAGING=.runbook-monitoring-restore",
    ...WORK_DIR,
    "trap 'rm -rf \"$WORK\"' EXIT",
    "trap 'exit 1' HUP INT TERM",
    "",
    "# Which volume takes the backup, judged before anything is read from the bucket: a run again over",
    "# volumes that hold data (the step's command changed) downloads nothing and needs no bucket.",
    `P=$(volume_dir "$PROMETHEUS_VOLUME" "$PROMETHEUS_VOLUME")`,
    `G=$(volume_dir "$GRAFANA_VOLUME" "$GRAFANA_VOLUME")`,
    'mkdir -p "$P" "$G"',
    "# What an earlier run left when it broke off (Prometheus ignores a directory not named by a ULID).",
    'rm -rf "${P:?}/$STAGING" "${G:?}/$STAGING"',
    'P_DATA=0; G_DATA=0',
    'if [ -d "$P/wal" ] || [ -n "$(prometheus_blocks "$P")" ]; then P_DATA=1; log "Prometheus: $P holds data: kept"; fi',
    'if [ -f "$G/grafana.db" ]; then G_DATA=1; log "Grafana: $G/grafana.db exists: kept"; fi',
    'if [ "$P_DATA" = 1 ] && [ "$G_DATA" = 1 ]; then echo "monitoring-restored: kept"; exit 0; fi',
    "",
    // latest_id is a pipeline whose status is its last command's: a listing that fails (credentials,
    // network, a wrong bucket) gives no id, as no backup does. s3_any fails the run on a failed listing.
    'if [ -z "$ID" ]; then',
    '  if s3_any "$FROM_BUCKET" "$SRC/"; then ID=$(latest_id "$FROM_BUCKET" "$SRC"); fi',
    '  if [ -z "$ID" ]; then log "warning: no monitoring backup under s3://$FROM_BUCKET/$SRC/: Prometheus and Grafana start empty"; echo "monitoring-restored: none"; exit 0; fi',
    "fi",
    'B="$WORK/backup"',
    'fetch_backup "$FROM_BUCKET" "$SRC" "$ID" "$B"',
    'check_files "$B"',
    "",
    "# $1: the volume's directory, $2: the archive, $3: the manifest's owner and mode of the directory.",
    "# Extracted into a directory of its own inside the volume (the same file system), the volume given",
    "# its owner and mode, then each entry renamed into place, grafana.db last. A run that breaks off (a",
    "# full disk, a dropped connection) leaves only that directory, which the next run removes: never a",
    "# partial Prometheus block or a grafana.db that makes the next run keep the volume as it is, nor data",
    "# under a volume directory still root's 0755 (Docker's new volume), which the containers cannot write.",
    "restore_into() {",
    '  staging="$1/$STAGING"',
    '  rm -rf "$staging"',
    '  mkdir "$staging"',
    '  tar -tzf "$B/$2" >/dev/null || fail "$2 of monitoring backup $ID does not list"',
    '  tar -C "$staging" --numeric-owner -xzf "$B/$2" || fail "$2 does not extract into $staging"',
    '  owner=${3% *}; mode=${3#* }',
    '  chown "$owner" "$1" || fail "cannot give $1 the owner $owner it had"',
    '  chmod "$mode" "$1" || fail "cannot give $1 the mode $mode it had"',
    '  for entry in "$staging"/* "$staging"/.[!.]* "$staging"/..?*; do',
    '    if [ ! -e "$entry" ] && [ ! -L "$entry" ]; then continue; fi',
    '    name=${entry##*/}',
    '    case "$name" in grafana.db) continue ;; esac',
    '    rm -rf "${1:?}/$name"',
    '    mv "$entry" "$1/$name" || fail "cannot move $name into $1"',
    "  done",
    '  if [ -e "$staging/grafana.db" ]; then mv "$staging/grafana.db" "$1/grafana.db" || fail "cannot move grafana.db into $1"; fi',
    '  rm -rf "$staging"',
    "}",
    "",
    'if [ "$P_DATA" = 0 ]; then',
    `  restore_into "$P" ${prometheus} "$(manifest_get prometheus_dir "$B/manifest.txt")"`,
    '  log "Prometheus: restored $(manifest_get prometheus_blocks "$B/manifest.txt") blocks into $P"',
    "fi",
    'if [ "$G_DATA" = 0 ]; then',
    `  restore_into "$G" ${grafana} "$(manifest_get grafana_dir "$B/manifest.txt")"`,
    '  log "Grafana: restored into $G"',
    "fi",
    'echo "monitoring-restored: $SRC/$ID/"',
  );
}
