/**
 * The part every backup script shares (settings, logging, S3, the database and volume access, the
 * metrics file), rendered into each script so that every installed script stands alone.
 *
 * Two ways to reach the app's state, chosen by `DOCKER` in jobs.env:
 * - `DOCKER=1` (on the app's Docker host): PostgreSQL tools run in the app's running database
 *   container (`docker exec`, found by its labels, so the tools match the server's version);
 *   SQLite files and uploads are read at their volume's mount point, by the same kernel that holds
 *   the app's locks, so the online backup API is safe beside the live app;
 * - otherwise (the tests, or a host without Docker): the tools on PATH, with libpq's PG* variables,
 *   and plain paths.
 */
import { databaseLockFunction } from "../shared/databaseLock";
import { shellQuote } from "../shared/shell";
import { BACKUP_METRIC_HELP, BACKUP_METRICS, metricsFileName, TEXTFILE_DIR } from "./metrics";

export type BackupEngine = "postgres" | "sqlite";

export interface ScriptSpec {
  /** Catalog id of the app. */
  readonly appId: string;
  readonly engine: BackupEngine;
  /** The app has an uploads volume to archive beside its database. */
  readonly uploads: boolean;
  /** Where jobs.env and credentials live on the host; `BACKUP_CONFIG_DIR` overrides it. */
  readonly configDir: string;
}

export const JOB_SETTINGS = [
  "BUCKET",
  "PREFIX",
  "LOCAL_DIR",
  "METRICS_DIR",
  "LOCAL_RETENTION_DAYS",
  "KEEP_MIN",
] as const;

/** The arguments of a job that takes only `--id ID` (verification, the monitoring data's backup): ID, empty when not given. */
export const ID_OPTION_ONLY = [
  'usage() { echo "usage: $0 [--id ID]" >&2; exit 2; }',
  "ID=",
  'while [ "$#" -gt 0 ]; do',
  '  case "$1" in',
  '    --id) [ "$#" -ge 2 ] || usage; ID=$2; shift 2 ;;',
  "    *) usage ;;",
  "  esac",
  "done",
];

/** Lines of a POSIX sh script, joined with newlines and a final newline. */
export const lines = (...parts: (string | readonly string[])[]): string => `${parts.flat().join("\n")}\n`;

export function header(spec: ScriptSpec, job: string, purpose: string): string[] {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(spec.appId)) throw new Error(`\`appId\` must be a catalog id (lowercase letters, digits, '-'), got "${spec.appId}"`);
  if (!spec.configDir.startsWith("/")) throw new Error("`configDir` must be an absolute path");
  const kinds = spec.uploads ? "database uploads" : "database";
  const metricLines = Object.values(BACKUP_METRICS).map((name) => `  emit_metric ${name} ${shellQuote(BACKUP_METRIC_HELP[name])}`);
  return [
    "#!/bin/sh",
    `# ${purpose} of ${spec.appId}: rendered by runbook-as-code, do not edit by hand.`,
    "set -eu",
    "umask 077",
    `JOB=${job}`,
    `APP=${spec.appId}`,
    "# shellcheck disable=SC2034 # not every job reads every one of these",
    `ENGINE=${spec.engine} KINDS='${kinds}'`,
    `CONFIG_DIR=\${BACKUP_CONFIG_DIR:-${spec.configDir}}`,
    "set -a",
    "# shellcheck source=/dev/null",
    'if [ -r "$CONFIG_DIR/jobs.env" ]; then . "$CONFIG_DIR/jobs.env"; fi',
    "# shellcheck source=/dev/null",
    'if [ -r "$CONFIG_DIR/credentials" ]; then . "$CONFIG_DIR/credentials"; fi',
    "set +a",
    ': "${BUCKET:?is not set: the bucket backups go to (jobs.env)}"',
    ': "${PREFIX:=$APP}"',
    ': "${LOCAL_DIR:?is not set: where local copies are kept (jobs.env)}"',
    `: "\${METRICS_DIR:=${TEXTFILE_DIR}}"`,
    ': "${STATE_DIR:=$LOCAL_DIR/.state}"',
    ': "${LOCAL_RETENTION_DAYS:=30}"',
    ': "${KEEP_MIN:=3}"',
    ': "${AWS_CLI:=aws}"',
    ': "${DOCKER:=0}"',
    `METRICS_FILE=${metricsFileName(spec.appId)}`,
    "",
    "log() { printf '%s %s %s: %s\\n' \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\" \"$APP\" \"$JOB\" \"$*\" >&2; }",
    'fail() { log "FAILED: $*"; exit 1; }',
    "now() { date -u +%s; }",
    "# A clock for durations, to the millisecond (GNU date), and the seconds between two readings.",
    "clock() { date -u +%s.%N; }",
    "elapsed() { awk -v a=\"$1\" -v b=\"$2\" 'BEGIN { printf \"%.3f\", b - a }'; }",
    "",
    "# The S3 API, through the aws CLI (S3_ENDPOINT: another S3 API, such as a test server).",
    's3() { if [ -n "${S3_ENDPOINT:-}" ]; then "$AWS_CLI" --endpoint-url "$S3_ENDPOINT" "$@"; else "$AWS_CLI" "$@"; fi; }',
    "",
    "# Whether any object exists under a prefix: 0 yes, 1 no (a failed listing fails the job).",
    "s3_any() {",
    '  first=$(s3 s3api list-objects-v2 --bucket "$1" --prefix "$2" --max-items 1 --query "Contents[0].Key" --output text) || fail "cannot list s3://$1/$2"',
    '  [ -n "$first" ] && [ "$first" != None ]',
    "}",
    "",
    "# Uploads one file, with its MD5 for S3 to check on receipt (an Object Lock bucket requires it).",
    "# Larger than a single PUT allows: a multipart copy. The caller has checked that its backup id is new.",
    "s3_put() {",
    '  if [ "$(wc -c < "$1")" -lt 5368709120 ]; then',
    '    md5=$(openssl dgst -md5 -binary "$1" | base64)',
    '    s3 s3api put-object --bucket "$BUCKET" --key "$2" --body "$1" --content-md5 "$md5" >/dev/null',
    "  else",
    '    s3 s3 cp --only-show-errors "$1" "s3://$BUCKET/$2"',
    "  fi",
    "}",
    "",
    "s3_get() { s3 s3 cp --only-show-errors \"s3://$1/$2\" \"$3\"; }",
    "",
    "# The newest backup id under a bucket and prefix that has a manifest (uploaded last, so a backup",
    "# whose upload broke off is never taken for the newest).",
    "latest_id() {",
    "  s3 s3 ls --recursive \"s3://$1/$2/\" | awk '{print $4}' | sed -n \"s|^$2/\\([^/]*\\)/manifest.txt\\$|\\1|p\" | sort | tail -n 1",
    "}",
    "",
    "# The newest backup id that verification has proved (its `verified.txt`, written only after a",
    "# restore into scratch matched the manifest): what a recovery stack restores.",
    "latest_verified_id() {",
    "  s3 s3 ls --recursive \"s3://$1/$2/\" | awk '{print $4}' | sed -n \"s|^$2/\\([^/]*\\)/verified.txt\\$|\\1|p\" | sort | tail -n 1",
    "}",
    "",
    "# The app's PostgreSQL tools: in its database container on a Docker host, else on PATH (PG* env).",
    "db() {",
    '  if [ "$DOCKER" = 1 ]; then',
    '    cid=$(docker ps -q --filter "label=runbook.app=$APP" --filter label=runbook.service=database | head -n 1)',
    '    [ -n "$cid" ] || fail "no running database container of $APP"',
    '    docker exec -i "$cid" "$@"',
    "  else",
    '    "$@"',
    "  fi",
    "}",
    "",
    "# Where a volume's files are on this host: its mount point on a Docker host, else the path given.",
    "volume_dir() {",
    '  if [ "$DOCKER" = 1 ]; then docker volume inspect --format \'{{ .Mountpoint }}\' "$1"; else printf \'%s\\n\' "$2"; fi',
    "}",
    "",
    "# One value of the metrics file, kept per kind in STATE_DIR until the file is written.",
    'set_metric() { mkdir -p "$STATE_DIR"; printf \'%s\\n\' "$3" > "$STATE_DIR/$2.$1"; }',
    "",
    "emit_metric() {",
    "  found=0",
    "  for kind in database uploads monitoring; do",
    '    [ -r "$STATE_DIR/$1.$kind" ] || continue',
    '    if [ "$found" = 0 ]; then printf \'# HELP %s %s\\n# TYPE %s gauge\\n\' "$1" "$2" "$1"; found=1; fi',
    '    printf \'%s{app="%s",kind="%s"} %s\\n\' "$1" "$APP" "$kind" "$(cat "$STATE_DIR/$1.$kind")"',
    "  done",
    "}",
    "",
    "# Writes the app's metrics file for the node exporter: a temporary file, then a rename.",
    "publish_metrics() {",
    '  mkdir -p "$METRICS_DIR"',
    '  tmp="$METRICS_DIR/.$METRICS_FILE.$$"',
    "  {",
    ...metricLines,
    '  } > "$tmp"',
    '  chmod 0644 "$tmp"',
    '  mv -f "$tmp" "$METRICS_DIR/$METRICS_FILE"',
    "}",
    "",
    "# sha256 of a file, hex.",
    "sha256() { sha256sum \"$1\" | cut -d ' ' -f 1; }",
    "",
    "# A manifest's value: the fields after the first tab of the line starting with $1.",
    "manifest_get() { awk -F '\\t' -v k=\"$1\" '$1 == k { print $2; exit }' \"$2\"; }",
    "",
    ...databaseLockFunction(spec.appId),
    "",
  ];
}

/** Row counts per table, `table<TAB>name<TAB>rows`, of the PostgreSQL database the PG* variables name. */
export const PG_COUNT_ROWS = [
  "# Exact row counts of every table of a PostgreSQL database, one `table<TAB>name<TAB>rows` line each.",
  "# $1: how to run psql (db or scratch_psql), then the database.",
  "pg_count_rows() {",
  '  runner=$1; database=$2',
  "  \"$runner\" psql -X -At -v ON_ERROR_STOP=1 -U \"$PG_USER\" -d \"$database\" -c \"SELECT format('SELECT %L, count(*) FROM %I.%I;', n.nspname || '.' || c.relname, n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1\" > \"$WORK/count.sql\"",
  "  \"$runner\" psql -X -At -F \"$(printf '\\t')\" -v ON_ERROR_STOP=1 -U \"$PG_USER\" -d \"$database\" < \"$WORK/count.sql\" | awk -F '\\t' 'NF == 2 { printf \"table\\t%s\\t%s\\n\", $1, $2 }' | sort",
  "}",
];

/** Row counts per table of a SQLite file, in the same form. */
export const SQLITE_COUNT_ROWS = [
  "# Exact row counts of every table of a SQLite file, one `table<TAB>name<TAB>rows` line each.",
  "sqlite_count_rows() {",
  "  sqlite3 \"$1\" \"SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name\" | while IFS= read -r t; do",
  "    q=$(printf '%s' \"$t\" | sed 's/\"/\"\"/g')",
  "    printf 'table\\t%s\\t%s\\n' \"$t\" \"$(sqlite3 \"$1\" \"SELECT count(*) FROM \\\"$q\\\"\")\"",
  "  done | sort",
  "}",
];

/** Downloading a backup and checking it against its manifest, shared by verification and restore. */
export const FETCH_AND_CHECK = [
  "# Downloads backup $3 from s3://$1/$2/ into $4: the manifest, then every file it lists.",
  "fetch_backup() {",
  '  mkdir -p "$4"',
  '  s3_get "$1" "$2/$3/manifest.txt" "$4/manifest.txt" || fail "backup $3 has no manifest at s3://$1/$2/$3/"',
  "  awk -F '\\t' '$1 == \"file\" { print $2 }' \"$4/manifest.txt\" | while IFS= read -r name; do",
  '    case "$name" in */*|.*|"") fail "the manifest names an unsafe file: $name" ;; esac',
  '    s3_get "$1" "$2/$3/$name" "$4/$name" || fail "cannot download $name of backup $3"',
  "  done",
  "}",
  "",
  "# Every file of the manifest in $1 has its size and sha256.",
  "check_files() {",
  "  awk -F '\\t' '$1 == \"file\" { print $2 \"\\t\" $3 \"\\t\" $4 }' \"$1/manifest.txt\" > \"$1/.files\"",
  '  [ -s "$1/.files" ] || fail "the manifest lists no file"',
  "  while IFS=\"$(printf '\\t')\" read -r name sum size; do",
  '    [ -f "$1/$name" ] || fail "$name of the manifest is missing"',
  '    have=$(wc -c < "$1/$name" | tr -d " ")',
  '    [ "$have" = "$size" ] || fail "$name is $have bytes, the manifest says $size"',
  '    [ "$(sha256 "$1/$name")" = "$sum" ] || fail "checksum of $name does not match the manifest"',
  '  done < "$1/.files"',
  "}",
  "",
  "# Row counts ($1) against the manifest's ($2): every table present, with as many rows.",
  "compare_rows() {",
  "  awk -F '\\t' '$1 == \"table\"' \"$2\" > \"$WORK/want\"",
  "  awk -F '\\t' 'NR == FNR { have[$2] = $3; next } !($2 in have) { printf \"table %s of the manifest is missing\\n\", $2; bad = 1; next } have[$2] != $3 { printf \"table %s has %s rows, the manifest %s\\n\", $2, have[$2], $3; bad = 1 } END { exit bad }' \"$1\" \"$WORK/want\" >&2 || fail \"the restored database does not match the manifest\"",
  "}",
];
