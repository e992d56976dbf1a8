/**
 * The weekly vulnerability scan of the images an app runs (FDTS "Weekly Maintenance" step 5,
 * L194-201: `docker run --rm -v /var/run/docker.sock:/var/run/docker.sock aquasec/trivy image ...`),
 * as a POSIX sh script run by a maintenance timer (as root). Pure: no resources.
 *
 * - Every image a container of the app runs (found by the `runbook.app` label), scanned once, by a
 *   pinned trivy image with the Docker socket (read-only mount, as the runbook does) and a cache
 *   directory on the host, so the vulnerability database is downloaded once and then updated.
 * - trivy prints one line per vulnerability, its severity, through a `--format template` template
 *   (the shape of trivy's own summary example: `range .` over the results, `range .Vulnerabilities`,
 *   `.Severity`; aquasecurity/trivy docs/docs/configuration/reporting.md, "Custom Template"), which
 *   the script counts; trivy exits 0 with findings unless `--exit-code` is given.
 * - The counts go to the node exporter's textfile directory, with the time of the last scan that
 *   covered every image: `ImageVulnerabilitiesCritical` and `ImageScanStale` alert on them.
 * A scan that fails (no network for the database, the socket) fails the unit and leaves the time of
 * the last good scan as it was (0 when there was none, so the stale alert fires). The image whose scan
 * failed keeps the counts of its last scan, read from the previous metrics file (what it had is still
 * the best knowledge, and `ImageVulnerabilitiesCritical` must not go quiet because trivy could not
 * reach its database), and `runbook_image_scan_failed` says so (1; 0 for an image scanned this time).
 * Labels hold only the image's first tag (containers are made from image ids; the id when it has no
 * tag) and the severity.
 */
import { TEXTFILE_DIR } from "../backups/metrics";
import { shellQuote } from "../shared/shell";

/** Pinned, like every image the stack runs. */
export const TRIVY_IMAGE = "aquasec/trivy:0.57.1";

/** Severities counted (the runbook's scan reports every one; these are the ones an alert reads). */
export const SCANNED_SEVERITIES = ["CRITICAL", "HIGH"] as const;

export const IMAGE_SCAN_METRICS = {
  vulnerabilities: "runbook_image_vulnerabilities",
  lastSuccess: "runbook_image_scan_last_success_timestamp_seconds",
  scanFailed: "runbook_image_scan_failed",
} as const;

/** Where trivy keeps its database between scans. */
export const TRIVY_CACHE_DIR = "/var/cache/runbook/trivy";

/** The template: one line per vulnerability, its severity. */
export const SEVERITY_TEMPLATE = '{{ range . }}{{ range .Vulnerabilities }}{{ .Severity }}{{ "\\n" }}{{ end }}{{ end }}';

export interface ImageScanSpec {
  readonly appId: string;
  /** Default TRIVY_IMAGE. */
  readonly trivyImage?: string;
}

export function renderImageScanScript(spec: ImageScanSpec): string {
  if (!/^[a-z][a-z0-9-]*$/.test(spec.appId)) throw new Error(`\`appId\` must be a catalog id (got ${spec.appId})`);
  const trivy = spec.trivyImage ?? TRIVY_IMAGE;
  if (!/^[a-z0-9][a-z0-9._/-]*:[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(trivy) || trivy.endsWith(":latest")) throw new Error(`\`trivyImage\` must be a pinned image reference (repository:version), got ${trivy}`);
  const severities = SCANNED_SEVERITIES.join(",");
  return `#!/bin/sh
# Weekly vulnerability scan of ${spec.appId}'s images: rendered by runbook-as-code, do not edit by hand.
set -eu
app=${spec.appId}
metrics_dir="\${METRICS_DIR:-${TEXTFILE_DIR}}"
cache="\${TRIVY_CACHE_DIR:-${TRIVY_CACHE_DIR}}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
docker ps --filter label=runbook.app=$app --format '{{.Image}}' | sort -u > "$work/images"
if [ ! -s "$work/images" ]; then echo "$app: no running container to scan (label runbook.app=$app)" >&2; exit 1; fi
mkdir -p "$cache" "$metrics_dir"
previous="$metrics_dir/runbook_image_scan_$app.prom"
status=0
: > "$work/failed"
{
  echo "# HELP ${IMAGE_SCAN_METRICS.vulnerabilities} Vulnerabilities trivy found in an image the app runs, by severity."
  echo "# TYPE ${IMAGE_SCAN_METRICS.vulnerabilities} gauge"
} > "$work/metrics"
while IFS= read -r image; do
  # Containers are made from image ids: the label names the image by its first tag where it has one.
  ref=$(docker image inspect -f '{{range .RepoTags}}{{.}} {{end}}' "$image" 2>/dev/null | awk '{ print $1 }')
  [ -n "$ref" ] || ref=$image
  if ! docker run --rm -v /var/run/docker.sock:/var/run/docker.sock:ro -v "$cache:/root/.cache" ${trivy} image --quiet --scanners vuln --severity ${severities} --format template --template ${shellQuote(SEVERITY_TEMPLATE)} "$image" > "$work/found"; then
    echo "$app: trivy could not scan $ref ($image); its counts of the last scan are kept" >&2
    status=1
    # The counts of this image's last scan stay (a line starts with the name and these labels).
    if [ -r "$previous" ]; then
      awk -v p="${IMAGE_SCAN_METRICS.vulnerabilities}{app=\\"$app\\",image=\\"$ref\\",severity=" 'index($0, p) == 1' "$previous" >> "$work/metrics"
    fi
    printf '${IMAGE_SCAN_METRICS.scanFailed}{app="%s",image="%s"} 1\\n' "$app" "$ref" >> "$work/failed"
    continue
  fi
  printf '${IMAGE_SCAN_METRICS.scanFailed}{app="%s",image="%s"} 0\\n' "$app" "$ref" >> "$work/failed"
  summary=""
  for severity in ${SCANNED_SEVERITIES.join(" ")}; do
    n=$(grep -cx "$severity" "$work/found" || true)
    printf '${IMAGE_SCAN_METRICS.vulnerabilities}{app="%s",image="%s",severity="%s"} %s\\n' "$app" "$ref" "$severity" "$n" >> "$work/metrics"
    summary="$summary $severity=$n"
  done
  echo "$app: $ref:$summary"
done < "$work/images"
{
  echo "# HELP ${IMAGE_SCAN_METRICS.scanFailed} 1 when the last scan of an image the app runs failed (its vulnerability counts are then those of its scan before)."
  echo "# TYPE ${IMAGE_SCAN_METRICS.scanFailed} gauge"
  cat "$work/failed"
} >> "$work/metrics"
last=$(sed -n 's/^${IMAGE_SCAN_METRICS.lastSuccess}{app="[^"]*"} //p' "$previous" 2>/dev/null || true)
if [ "$status" = 0 ]; then last=$(date -u +%s); fi
# Never a full scan yet, and this one failed: 0, so ImageScanStale fires rather than staying silent.
[ -n "$last" ] || last=0
{
  echo "# HELP ${IMAGE_SCAN_METRICS.lastSuccess} When every image of the app was last scanned."
  echo "# TYPE ${IMAGE_SCAN_METRICS.lastSuccess} gauge"
  printf '${IMAGE_SCAN_METRICS.lastSuccess}{app="%s"} %s\\n' "$app" "$last"
} >> "$work/metrics"
# A temporary file beside the target, then a rename: the node exporter never reads half a file.
tmp="$metrics_dir/.runbook_image_scan_$app.prom.$$"
cp "$work/metrics" "$tmp"
chmod 0644 "$tmp"
mv -f "$tmp" "$metrics_dir/runbook_image_scan_$app.prom"
exit "$status"
`;
}
