/**
 * Host upkeep as POSIX sh scripts run by the maintenance timers (as root), pure functions.
 *
 * - Image and volume pruning (FDTS "Weekly Maintenance" L180-181, made safe). Images: only images of
 *   the app's own repositories are ever removed, and never one named in the release record
 *   `/var/lib/runbook/<app>/releases.json` (written by the releases area: a rollback never waits for
 *   a pull), one a container uses (running or stopped), or one younger than the retention. Without
 *   the record nothing is removed. Volumes: `docker volume prune` would take named data of stopped
 *   stacks, so only dangling anonymous volumes (64 hex characters, no `runbook.app` label) go.
 * - Log retention (LMS "Maintenance Tasks" L547): `*.log` files and rotated logs not written for 30 days
 *   are deleted, and the journal is vacuumed to 30 days. Container logs are rotated by Docker itself.
 * - TLS renewal: `certbot renew`, and when the certificate file changed, `nginx -t` then `nginx -s
 *   reload` in the proxy container (the proxy config step's reload path, components/app/proxyConfigScript.ts).
 */
import { shellJoin, shellQuote } from "../shared/shell";
import { findContainer } from "./databaseScripts";

const ID = /^[a-z][a-z0-9-]*$/;

/** Where the releases area records the app's releases on the host (shared contract). */
export function releasesFile(appId: string): string {
  return `/var/lib/runbook/${appId}/releases.json`;
}

export interface PruneSpec {
  readonly appId: string;
  /** Image repositories of the app (`ghcr.io/org/app`), without tags. */
  readonly repositories: readonly string[];
  /** Images younger than this are kept even when no release names them. */
  readonly retentionDays: number;
  /** The release record (default: releasesFile(appId)). */
  readonly releasesFile?: string;
}

export function renderPruneScript(spec: PruneSpec): string {
  if (!ID.test(spec.appId)) throw new Error(`\`appId\` must be a catalog id (got ${spec.appId})`);
  if (!Number.isInteger(spec.retentionDays) || spec.retentionDays < 1) throw new Error("`retentionDays` must be a whole number of at least 1");
  for (const r of spec.repositories) if (!/^[a-z0-9][a-z0-9._/:-]*$/.test(r)) throw new Error(`\`repositories\` ${r} is not an image repository`);
  const file = spec.releasesFile ?? releasesFile(spec.appId);
  return `#!/bin/sh
# Image and volume pruning for ${spec.appId}: rendered by runbook-as-code, do not edit by hand.
set -eu
app=${spec.appId}
releases=${shellQuote(file)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Images every container uses (running or stopped), by reference and by id.
docker ps -a --format '{{.Image}}' > "$work/used"
for c in $(docker ps -aq); do docker inspect -f '{{.Image}}' "$c" >> "$work/used"; done
removed=0
kept=0
if [ ! -f "$releases" ]; then
  echo "$app: no release record at $releases; keeping every image of the app's repositories"
else
  cutoff=$(( $(date +%s) - ${spec.retentionDays * 86400} ))
  set -- ${shellJoin(spec.repositories)}
  for repo do
    # Every "<repo>:<tag>" string of the record is kept, wherever it appears in it.
    grep -o "\\"$repo:[^\\"]*\\"" "$releases" | tr -d '"' > "$work/keep" || true
    docker images "$repo" --format '{{.Repository}}:{{.Tag}} {{.ID}}' > "$work/images"
    while read -r ref id; do
      case "$ref" in *:"<none>") continue;; esac
      if grep -qxF "$ref" "$work/keep" || grep -qxF "$ref" "$work/used" || grep -qF "$id" "$work/used"; then
        kept=$((kept + 1)); continue
      fi
      created=$(docker image inspect -f '{{.Created}}' "$ref")
      seconds=$(date -d "$created" +%s 2>/dev/null || echo "")
      if [ -z "$seconds" ] || [ "$seconds" -gt "$cutoff" ]; then kept=$((kept + 1)); continue; fi
      docker rmi "$ref" >/dev/null
      echo "$app: removed image $ref"
      removed=$((removed + 1))
    done < "$work/images"
  done
fi
# Dangling anonymous volumes only: named volumes and the app's labelled data stay.
volumes=0
for v in $(docker volume ls -q --filter dangling=true); do
  case "$v" in *[!0-9a-f]*) continue;; esac
  [ "\${#v}" -eq 64 ] || continue
  label=$(docker volume inspect -f '{{index .Labels "runbook.app"}}' "$v")
  if [ -n "$label" ] && [ "$label" != "<no value>" ]; then continue; fi
  docker volume rm "$v" >/dev/null
  volumes=$((volumes + 1))
done
echo "$app: prune done: $removed image(s) removed, $kept kept, $volumes anonymous volume(s) removed"
`;
}

export interface LogRetentionSpec {
  readonly appId: string;
  readonly days: number;
  /** Directory whose logs are cleaned (default /var/log). */
  readonly directory?: string;
}

export function renderLogRetentionScript(spec: LogRetentionSpec): string {
  if (!Number.isInteger(spec.days) || spec.days < 1) throw new Error("`days` must be a whole number of at least 1");
  const dir = spec.directory ?? "/var/log";
  if (!dir.startsWith("/")) throw new Error("`directory` must be an absolute path");
  return `#!/bin/sh
# Log retention (${spec.days} days) on ${spec.appId}'s host: rendered by runbook-as-code, do not edit by hand.
set -eu
dir=${shellQuote(dir)}
count=$(find "$dir" -xdev -type f \\( -name '*.log' -o -name '*.log.[0-9]*' -o -name '*.gz' \\) -mtime +${spec.days} -print -delete | wc -l)
if command -v journalctl >/dev/null 2>&1; then journalctl --vacuum-time=${spec.days}d >/dev/null 2>&1 || true; fi
echo "${spec.appId}: log retention: $count file(s) older than ${spec.days} days removed from $dir"
`;
}

export interface CertificateRenewalSpec {
  readonly appId: string;
  /** The certificate chain the proxy mounts. */
  readonly certificateFile: string;
}

export function renderCertificateRenewalScript(spec: CertificateRenewalSpec): string {
  if (!spec.certificateFile.startsWith("/")) throw new Error("`certificateFile` must be an absolute path");
  return [
    "#!/bin/sh",
    `# TLS renewal for ${spec.appId}: rendered by runbook-as-code, do not edit by hand.`,
    "set -eu",
    `cert=${shellQuote(spec.certificateFile)}`,
    `if ! command -v certbot >/dev/null 2>&1; then echo "${spec.appId}: certbot is not installed on this host (apt-get install certbot)" >&2; exit 1; fi`,
    'before=$(sha256sum "$cert" | cut -d" " -f1)',
    "certbot renew --quiet",
    'after=$(sha256sum "$cert" | cut -d" " -f1)',
    'if [ "$before" = "$after" ]; then echo "' + spec.appId + ': certificate unchanged"; exit 0; fi',
    ...findContainer("proxy", spec.appId, "proxy", "proxy"),
    'docker exec "$proxy" nginx -t -q',
    'docker exec "$proxy" nginx -s reload',
    `echo "${spec.appId}: certificate renewed; proxy reloaded"`,
    "",
  ].join("\n");
}
