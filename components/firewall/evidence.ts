/**
 * "Preserve evidence" (FairLens "Incident Response" 2.; FDTS "Security Incident - Critical",
 * `docker-compose logs app > /tmp/incident_logs_...`), as pure functions: a collect script run on
 * the Docker host that writes a tar.gz of the app's container state and logs to stdout, and a fetch
 * script run on the machine running Pulumi that pipes it there over ssh (the pinned host key only)
 * and keeps it in `incident-evidence/`, printing the file's sha256 for the incident record.
 *
 * Environment values in `docker inspect` are redacted (`NAME=[redacted]`): the containers carry
 * generated secrets there, and a bundle handed around during an incident must not.
 */

/** The collect script (the step's stdin): POSIX sh, needs the docker CLI, tar and gzip. */
export function renderEvidenceCollectScript(appId: string): string {
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
