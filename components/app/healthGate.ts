/**
 * renderHealthGateScript: the deploy step after the proxy. A POSIX sh script that polls every
 * health endpoint through the proxy with bounded retries and exits non-zero, naming the endpoint
 * and the last status, when one never answers 2xx. That failure fails `pulumi up`.
 */
import { shellQuote } from "../shared/shell";

export interface HealthGateScriptSpec {
  readonly appName: string;
  /** Base URL of the proxy as seen from the Docker host, e.g. http://127.0.0.1:80. */
  readonly baseUrl: string;
  readonly endpoints: readonly string[];
  readonly attempts: number;
  readonly intervalSeconds: number;
  /** Per-request timeout. */
  readonly timeoutSeconds?: number;
  /** Accept the proxy's certificate on 127.0.0.1 (it is issued for the public name). */
  readonly insecureTls?: boolean;
}

export function renderHealthGateScript(spec: HealthGateScriptSpec): string {
  if (spec.endpoints.length === 0) throw new Error("`endpoints` must name at least one health endpoint");
  if (!Number.isInteger(spec.attempts) || spec.attempts < 1) throw new Error("`attempts` must be a whole number of at least 1");
  if (!Number.isInteger(spec.intervalSeconds) || spec.intervalSeconds < 0) throw new Error("`intervalSeconds` must be a whole number of at least 0");
  const curlFlags = ["-sS", "-o", "/dev/null", "-w", "'%{http_code}'", "--max-time", String(spec.timeoutSeconds ?? 5), ...(spec.insecureTls ? ["-k"] : [])];
  return [
    "#!/bin/sh",
    `# Health gate for ${spec.appName}: rendered by runbook-as-code, do not edit by hand.`,
    "set -u",
    `base_url=${shellQuote(spec.baseUrl)}`,
    `attempts=${spec.attempts}`,
    `interval=${spec.intervalSeconds}`,
    "",
    "check() {",
    '  path="$1"',
    "  i=1",
    "  status=000",
    '  while [ "$i" -le "$attempts" ]; do',
    `    status=$(curl ${curlFlags.join(" ")} "$base_url$path" 2>/dev/null) || true`,
    '    case "$status" in',
    "      2??)",
    '        echo "health gate: $path answered $status (attempt $i of $attempts)"',
    "        return 0",
    "        ;;",
    "    esac",
    "    i=$((i + 1))",
    '    if [ "$i" -le "$attempts" ]; then sleep "$interval"; fi',
    "  done",
    '  echo "health gate: $base_url$path never answered 2xx; last status $status after $attempts attempts" >&2',
    "  return 1",
    "}",
    "",
    "failed=0",
    ...spec.endpoints.map((p) => `check ${shellQuote(p)} || failed=1`),
    'exit "$failed"',
    "",
  ].join("\n");
}
