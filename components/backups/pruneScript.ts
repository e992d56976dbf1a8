/**
 * renderPruneScript: removes local backups older than the local retention (30 days by default: LMS
 * "30 days local"), judged by each backup directory's modification time. The newest `KEEP_MIN`
 * backups are always kept, however old: when backups stop, the last copies on the host must not
 * go too. The bucket's copies are never touched here: its lifecycle expires them, and the writer
 * identity may not delete.
 */
import { header, lines, type ScriptSpec } from "./scriptCommon";

export function renderPruneScript(spec: ScriptSpec): string {
  return lines(
    header(spec, "prune", "Local backup pruning"),
    'case "$LOCAL_RETENTION_DAYS" in ""|*[!0-9]*) fail "LOCAL_RETENTION_DAYS must be a whole number of days" ;; esac',
    'case "$KEEP_MIN" in ""|*[!0-9]*) fail "KEEP_MIN must be a whole number" ;; esac',
    '[ -d "$LOCAL_DIR" ] || exit 0',
    "MINUTES=$((LOCAL_RETENTION_DAYS * 1440))",
    "i=0",
    "removed=0",
    "# Newest first; backup ids are letters, digits, '.', '_' and '-', and hidden entries are state.",
    "# shellcheck disable=SC2012,SC2045",
    'for name in $(ls -1t "$LOCAL_DIR"); do',
    '  d="$LOCAL_DIR/$name"',
    '  [ -d "$d" ] || continue',
    "  i=$((i + 1))",
    '  [ "$i" -gt "$KEEP_MIN" ] || continue',
    '  if [ -n "$(find "$d" -maxdepth 0 -mmin +"$MINUTES")" ]; then',
    '    rm -rf "$d"',
    "    removed=$((removed + 1))",
    '    log "removed $name (older than $LOCAL_RETENTION_DAYS days)"',
    "  fi",
    "done",
    'log "pruned $removed local backups; kept the newest $KEEP_MIN and everything younger than $LOCAL_RETENTION_DAYS days"',
  );
}
