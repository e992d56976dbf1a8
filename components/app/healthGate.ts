/**
 * renderHealthGateScript: the last deploy step of an app. A POSIX sh script that
 *  1. checks, on the Docker host, that every container of this release reports `healthy`
 *     (`docker inspect`): the provider waits for health only when it creates a container, so a
 *     container that timed out on an earlier `up` stays in state and is otherwise accepted;
 *  2. polls every health endpoint through the proxy, sending the app's public host name (Host and
 *     TLS SNI, through curl's `--resolve`), as a browser would.
 * Bounded retries for both; it exits non-zero naming each container or endpoint that failed, and
 * that failure fails `pulumi up`.
 */
import type { AppSpec } from "../../config/spec";
import { shellJoin, shellQuote } from "../shared/shell";
import { maintenanceOpenEndpoints } from "./nginxConfig";

export interface HealthGateScriptSpec {
  readonly appName: string;
  readonly scheme: "http" | "https";
  /** The public host name the proxy serves: sent as Host and as the TLS server name. */
  readonly host: string;
  /** The proxy's port on the Docker host. */
  readonly port: number;
  /** Where the proxy answers, seen from the script: 127.0.0.1 on the Docker host. */
  readonly address?: string;
  /**
   * A DNS name to connect to instead of `address` (a load balancer's name: it has no fixed IP), for
   * curl's `--connect-to`; Host and the TLS server name stay `host`.
   */
  readonly connectTo?: string;
  readonly endpoints: readonly string[];
  readonly attempts: number;
  readonly intervalSeconds: number;
  /** Per-request timeout. */
  readonly timeoutSeconds?: number;
  /** Accept the proxy's certificate without verifying it (a staging certificate, say). */
  readonly insecureTls?: boolean;
  /** Docker names of the containers this release runs, each of which must report healthy. */
  readonly containers: readonly string[];
  /** How to call the Docker CLI on the host. */
  readonly docker?: readonly string[];
}

/** `docker inspect --format` for a container's health, or its state where it has no health check. */
export const HEALTH_FORMAT = "{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}";

export function renderHealthGateScript(spec: HealthGateScriptSpec): string {
  if (spec.endpoints.length === 0) throw new Error("`endpoints` must name at least one health endpoint");
  if (!Number.isInteger(spec.attempts) || spec.attempts < 1) throw new Error("`attempts` must be a whole number of at least 1");
  if (!Number.isInteger(spec.intervalSeconds) || spec.intervalSeconds < 0) throw new Error("`intervalSeconds` must be a whole number of at least 0");
  if (!Number.isInteger(spec.port) || spec.port < 1 || spec.port > 65535) throw new Error("`port` must be a port number from 1 to 65535");
  if (!/^[A-Za-z0-9.-]+$/.test(spec.host)) throw new Error("`host` must be a host name");
  const address = spec.address ?? "127.0.0.1";
  if (spec.connectTo !== undefined && !/^[A-Za-z0-9.-]+$/.test(spec.connectTo)) throw new Error("`connectTo` must be a DNS name");
  const target = spec.connectTo !== undefined ? ["--connect-to", `${spec.host}:${spec.port}:${spec.connectTo}:${spec.port}`] : ["--resolve", `${spec.host}:${spec.port}:${address}`];
  const curl = [
    "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", String(spec.timeoutSeconds ?? 5),
    ...target, ...(spec.insecureTls ? ["-k"] : []),
  ];
  return [
    "#!/bin/sh",
    `# Health gate for ${spec.appName}: rendered by runbook-as-code, do not edit by hand.`,
    "set -u",
    `base_url=${shellQuote(`${spec.scheme}://${spec.host}:${spec.port}`)}`,
    `attempts=${spec.attempts}`,
    `interval=${spec.intervalSeconds}`,
    "",
    "# Runs the check \"$@\" up to $attempts times; it sets $status and answers 0 when it passes.",
    "retry() {",
    "  i=1",
    '  while [ "$i" -le "$attempts" ]; do',
    '    if "$@"; then return 0; fi',
    "    i=$((i + 1))",
    '    if [ "$i" -le "$attempts" ]; then sleep "$interval"; fi',
    "  done",
    "  return 1",
    "}",
    "",
    "# shellcheck disable=SC2317 # container_healthy and endpoint_ok are called through retry",
    "container_healthy() {",
    `  status=$(${shellJoin(spec.docker ?? ["docker"])} inspect --format ${shellQuote(HEALTH_FORMAT)} "$1" 2>/dev/null) || status=missing`,
    '  [ "$status" = healthy ]',
    "}",
    "",
    "# shellcheck disable=SC2317",
    "endpoint_ok() {",
    `  status=$(${shellJoin(curl)} "$base_url$1" 2>/dev/null) || true`,
    '  case "$status" in 2??) return 0 ;; esac',
    "  return 1",
    "}",
    "",
    "check_container() {",
    '  if retry container_healthy "$1"; then echo "health gate: container $1 is healthy"; return 0; fi',
    '  echo "health gate: container $1 is $status, not healthy, after $attempts attempts" >&2',
    "  return 1",
    "}",
    "",
    "check_endpoint() {",
    '  if retry endpoint_ok "$1"; then echo "health gate: $1 answered $status (attempt $i of $attempts)"; return 0; fi',
    '  echo "health gate: $base_url$1 never answered 2xx; last status $status after $attempts attempts" >&2',
    "  return 1",
    "}",
    "",
    "failed=0",
    ...spec.containers.map((c) => `check_container ${shellQuote(c)} || failed=1`),
    ...spec.endpoints.map((p) => `check_endpoint ${shellQuote(p)} || failed=1`),
    'exit "$failed"',
    "",
  ].join("\n");
}

/** The gate of one app as AppStack deploys it, for the containers of the release (by Docker name). */
export function appHealthGateSpec(app: Pick<AppSpec, "id" | "publicHost" | "proxy" | "healthGate">, containers: readonly string[]): HealthGateScriptSpec {
  const tls = app.proxy.tls !== undefined;
  return {
    appName: app.id,
    scheme: tls ? "https" : "http",
    host: app.publicHost,
    port: tls ? app.proxy.httpsPort : app.proxy.httpPort,
    endpoints: app.proxy.maintenance ? maintenanceOpenEndpoints(app.proxy) : app.proxy.healthEndpoints,
    attempts: app.healthGate.attempts,
    intervalSeconds: app.healthGate.intervalSeconds,
    // The gate reaches the proxy on 127.0.0.1; whether the certificate is valid is not its question.
    insecureTls: tls,
    containers,
  };
}
