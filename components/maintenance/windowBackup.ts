/**
 * The backup a maintenance window takes before the maintenance page goes on (FDTS "Planned
 * Maintenance Window" L510/L518 "Create full system backup"; Handwork "Pre-Maintenance" L298-301,
 * backup then `PRAGMA integrity_check` on it). Used where the backups area supplies no pre-deploy
 * backup. Runs as the deploy user over the deploy step's connection: the copy lands in
 * `$HOME/runbook-backups/<app>/pre-maintenance-<UTC time>.*` (mode 600) and is checked before the
 * step succeeds: `pg_restore -l` reads the dump's table of contents; a SQLite copy must pass
 * `PRAGMA integrity_check` (made with SQLite's online backup, safe while the app writes).
 */
import type { ServiceRuntime } from "../../apps/types";
import { shellQuote } from "../shared/shell";
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
    `dir="\${RUNBOOK_BACKUP_DIR:-$HOME/runbook-backups}/${spec.appId}"`,
    'mkdir -p "$dir"',
    'stamp=$(date -u +%Y%m%dT%H%M%SZ)',
  ];
  if (spec.engine === "postgres") {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(spec.database) || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(spec.user)) throw new Error("`database` and `user` must be plain SQL identifiers");
    return [
      ...head,
      ...findContainer("db", spec.appId, "database", "database"),
      'file="$dir/pre-maintenance-$stamp.dump"',
      `docker exec "$db" pg_dump -Fc -U ${spec.user} -d ${spec.database} > "$file"`,
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
    `docker exec "$backend" rm -f "${inner}"`,
    `echo "${spec.appId}: pre-maintenance backup $file ($(wc -c < "$file") bytes, integrity_check ok) sha256:$(sha256sum "$file" | cut -d' ' -f1)"`,
    "",
  ].join("\n");
}
