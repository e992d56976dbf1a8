/**
 * "Preserve evidence" (FairLens "Incident Response" 2.; FDTS "Security Incident - Critical",
 * `docker-compose logs app > /tmp/incident_logs_...`), as pure functions: a collect script run on
 * the Docker host that writes a tar.gz of the app's container state and logs to stdout, and a fetch
 * script run on the machine running Pulumi that pipes it there over ssh (the pinned host key only)
 * and keeps it in `incident-evidence/`, printing the file's sha256 for the incident record.
 *
 * Environment values in `docker inspect` are redacted (`NAME=[redacted]`): the containers carry
 * generated secrets there, and a bundle handed around during an incident must not.
 *
 * An app whose catalog names an audit table (FDTS: "Copy audit logs", `SELECT * FROM audit_logs
 * WHERE timestamp > datetime('now', '-1 hour')`) gets those rows as `audit_logs.csv`, read with the
 * host's sqlite3 in read-only mode from the database file a backend container mounts; a missing file
 * or a failed query is written to errors.txt and never stops the bundle.
 */
import { catalog } from "../../apps";

/** Where an app's audit table is read from: the backend's mount, the file under it, and the query. */
export interface EvidenceAudit {
  readonly mountPath: string;
  readonly file: string;
  readonly table: string;
  readonly timeColumn: string;
  readonly hours: number;
}

/** The audit table of a catalog app, when its runbook copies one into the evidence. */
export function evidenceAuditOf(appId: string): EvidenceAudit | undefined {
  const def = catalog[appId];
  const db = def?.database;
  if (!def || db?.engine !== "sqlite" || !db.auditLog) return undefined;
  const volume = def.backend.volumes.find((v) => v.name === db.volume);
  if (!volume || !db.path.startsWith(`${volume.mountPath}/`)) return undefined;
  return { mountPath: volume.mountPath, file: db.path.slice(volume.mountPath.length + 1), ...db.auditLog };
}

function auditLines(appId: string, audit: EvidenceAudit): string {
  const ident = /^[A-Za-z_][A-Za-z0-9_]*$/;
  if (!ident.test(audit.table) || !ident.test(audit.timeColumn) || !Number.isInteger(audit.hours) || !/^\/[A-Za-z0-9._/-]+$/.test(audit.mountPath) || !/^[A-Za-z0-9._/-]+$/.test(audit.file)) {
    throw new Error(`the audit table of ${appId} must name plain identifiers and paths`);
  }
  return `# The app's audit table: the last ${audit.hours} h of ${audit.table}, read-only, from the file a backend mounts
# (the volume is root's: sudo -n when not root).
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }
backend=$(docker ps -a --filter label=runbook.app=${appId} --filter label=runbook.role=backend --format '{{.Names}}' | head -n 1)
src=
if [ -n "$backend" ]; then src=$(docker inspect --format '{{range .Mounts}}{{if eq .Destination "${audit.mountPath}"}}{{.Source}}{{end}}{{end}}' "$backend"); fi
if [ -n "$src" ] && as_root test -f "$src/${audit.file}"; then
  as_root sqlite3 -readonly -header -csv "$src/${audit.file}" "SELECT * FROM ${audit.table} WHERE ${audit.timeColumn} > datetime('now', '-${audit.hours} hour');" > "$dir/${audit.table}.csv" 2>> "$dir/errors.txt" || echo "the query of ${audit.table} failed" >> "$dir/errors.txt"
else
  echo "${audit.table}: no database file found in a backend container's ${audit.mountPath}" >> "$dir/errors.txt"
fi
`;
}

/** The collect script (the step's stdin): POSIX sh, needs the docker CLI, tar and gzip (and sqlite3 for an audit table). */
export function renderEvidenceCollectScript(appId: string, audit: EvidenceAudit | undefined = evidenceAuditOf(appId)): string {
  if (!/^[a-z][a-z0-9-]*$/.test(appId)) throw new Error(`\`appId\` must be a catalog id (got ${appId})`);
  return `#!/bin/sh
# Collects ${appId}'s container state and logs into a tar.gz on stdout (Runbook as Code lockdown).
set -eu
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/containers"
redact() { sed -E 's/"([A-Za-z_][A-Za-z0-9_]*)=[^"]*"/"\\1=[redacted]"/g'; }
{
  echo "app: ${appId}"
  echo "collected: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host: $(uname -n)"
  echo "kernel: $(uname -sr)"
} > "$dir/summary.txt"
docker ps -a --no-trunc --filter label=runbook.app=${appId} > "$dir/ps.txt"
docker network ls --no-trunc --filter label=runbook.app=${appId} > "$dir/networks.txt"
docker volume ls --filter label=runbook.app=${appId} > "$dir/volumes.txt"
docker ps -a --filter label=runbook.app=${appId} --format '{{.Names}}' > "$dir/names.txt"
count=0
while IFS= read -r name; do
  [ -n "$name" ] || continue
  docker inspect "$name" | redact > "$dir/containers/$name.inspect.json"
  docker logs --timestamps "$name" > "$dir/containers/$name.log" 2>&1 || echo "docker logs failed for $name" >> "$dir/errors.txt"
  count=$((count + 1))
done < "$dir/names.txt"
echo "containers: $count" >> "$dir/summary.txt"
${audit ? auditLines(appId, audit) : ""}if [ -f "$dir/errors.txt" ] && [ ! -s "$dir/errors.txt" ]; then rm -f "$dir/errors.txt"; fi
tar -C "$dir" -czf - .
`;
}

/**
 * The fetch script (the step's command, on the machine running Pulumi). Reads the collect script on
 * stdin and runs it on the host: over ssh when RUNBOOK_SSH_HOST is set (with RUNBOOK_SSH_USER,
 * RUNBOOK_SSH_PORT and, when known, the pinned RUNBOOK_HOST_KEY as the only accepted key), else
 * locally against DOCKER_HOST. Writes RUNBOOK_EVIDENCE_DIR/<app>-<UTC time>.tar.gz (mode 600).
 */
/**
 * Shell lines (inside `if [ -n "$RUNBOOK_SSH_HOST" ]`) that run stdin on the host over ssh with host-key
 * checking on and, when RUNBOOK_HOST_KEY is set, a known_hosts file holding only that pinned key.
 * Shared by the evidence fetch and `npm run diagnose`.
 */
export const PINNED_SSH = `  port="\${RUNBOOK_SSH_PORT:-22}"
  known=$(mktemp)
  trap 'rm -f "$known"' EXIT
  if [ -n "\${RUNBOOK_HOST_KEY:-}" ]; then
    if [ "$port" = 22 ]; then pattern="$RUNBOOK_SSH_HOST"; else pattern="[$RUNBOOK_SSH_HOST]:$port"; fi
    printf '%s %s\\n' "$pattern" "$RUNBOOK_HOST_KEY" > "$known"
    set -- -o UserKnownHostsFile="$known" -o GlobalKnownHostsFile=/dev/null
  else
    set --
  fi
  ssh -o StrictHostKeyChecking=yes -o BatchMode=yes -p "$port" "$@" "\${RUNBOOK_SSH_USER:?}@$RUNBOOK_SSH_HOST" sh -s`;

export function renderEvidenceFetchScript(): string {
  return `#!/bin/sh
set -eu
umask 077
app="\${RUNBOOK_APP:?RUNBOOK_APP is required}"
dir="\${RUNBOOK_EVIDENCE_DIR:-incident-evidence}"
mkdir -p "$dir"
file="$dir/$app-$(date -u +%Y%m%dT%H%M%SZ).tar.gz"
if [ -n "\${RUNBOOK_SSH_HOST:-}" ]; then
${PINNED_SSH} > "$file"
else
  sh -s > "$file"
fi
tar -tzf "$file" summary.txt >/dev/null 2>&1 || tar -tzf "$file" ./summary.txt >/dev/null
echo "$file sha256:$(sha256sum "$file" | cut -d' ' -f1)"
`;
}
