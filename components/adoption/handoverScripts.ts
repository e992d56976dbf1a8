/**
 * The two scripts of a docker-compose cut-over, POSIX sh, rendered as pure functions:
 *  - renderReadyCheckScript: every new container reports `healthy` (its own health check probes the
 *    endpoint its runbook curls, from inside, so no host port is needed while compose still holds
 *    80/443); bounded retries; exits non-zero naming each one that is not, and nothing is stopped.
 *  - renderStopComposeScript: stops the running containers of ONE compose project (selected by the
 *    `com.docker.compose.project` label both docker-compose v1 and `docker compose` v2 put on them),
 *    optionally only those that mount given volumes. It first sets their restart policy to `no`, so a
 *    Docker daemon restart does not bring back a compose container (`restart: always`) onto the
 *    ports or the data directory the stack now holds. Containers are stopped, never removed: going
 *    back is `docker start` (README, "Adopting a running docker-compose deployment").
 */
import { HEALTH_FORMAT } from "../app/healthGate";
import { shellJoin, shellQuote } from "../shared/shell";

/** The label docker-compose (v1 and v2) puts on every container of a project. */
export const COMPOSE_PROJECT_LABEL = "com.docker.compose.project";

export interface ReadyCheckSpec {
  readonly appName: string;
  /** Docker names of the new containers, each of which must report healthy. */
  readonly containers: readonly string[];
  readonly attempts: number;
  readonly intervalSeconds: number;
  /** How to call the Docker CLI on the host. */
  readonly docker?: readonly string[];
}

export interface StopComposeSpec {
  readonly appName: string;
  readonly project: string;
  /** Stop only the project's containers that mount one of these volumes; every running one when absent. */
  readonly onlyMounting?: readonly string[];
  /** Seconds `docker stop` waits before it kills (the default 10 s is short for a database's shutdown). */
  readonly stopTimeoutSeconds?: number;
  readonly docker?: readonly string[];
}

export function renderReadyCheckScript(spec: ReadyCheckSpec): string {
  if (spec.containers.length === 0) throw new Error("`containers` must name at least one new container");
  if (!Number.isInteger(spec.attempts) || spec.attempts < 1) throw new Error("`attempts` must be a whole number of at least 1");
  if (!Number.isInteger(spec.intervalSeconds) || spec.intervalSeconds < 0) throw new Error("`intervalSeconds` must be a whole number of at least 0");
  const docker = shellJoin(spec.docker ?? ["docker"]);
  return [
    "#!/bin/sh",
    `# Cut-over readiness for ${spec.appName}: rendered by runbook-as-code, do not edit by hand.`,
    "# Every new container must report healthy before the compose project is stopped.",
    "set -u",
    `attempts=${spec.attempts}`,
    `interval=${spec.intervalSeconds}`,
    "",
    "healthy() {",
    "  i=1",
    '  while [ "$i" -le "$attempts" ]; do',
    `    status=$(${docker} inspect --format ${shellQuote(HEALTH_FORMAT)} "$1" 2>/dev/null) || status=missing`,
    '    if [ "$status" = healthy ]; then return 0; fi',
    "    i=$((i + 1))",
    '    if [ "$i" -le "$attempts" ]; then sleep "$interval"; fi',
    "  done",
    "  return 1",
    "}",
    "",
    "failed=0",
    `set -- ${spec.containers.map(shellQuote).join(" ")}`,
    'for c in "$@"; do',
    '  if healthy "$c"; then echo "cut-over: $c is healthy"; else',
    '    echo "cut-over: $c is $status, not healthy, after $attempts attempts; the compose project keeps running" >&2',
    "    failed=1",
    "  fi",
    "done",
    'exit "$failed"',
    "",
  ].join("\n");
}

export function renderStopComposeScript(spec: StopComposeSpec): string {
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(spec.project)) throw new Error("`project` must be a compose project name");
  if (spec.onlyMounting !== undefined && spec.onlyMounting.length === 0) throw new Error("`onlyMounting` must name at least one volume when given");
  const docker = spec.docker ?? ["docker"];
  const filters = [
    "--filter", `label=${COMPOSE_PROJECT_LABEL}=${spec.project}`,
    ...(spec.onlyMounting ?? []).flatMap((v) => ["--filter", `volume=${v}`]),
  ];
  const list = shellJoin([...docker, "ps", "-q", ...filters]);
  const what = spec.onlyMounting ? `containers of compose project ${spec.project} that mount ${spec.onlyMounting.join(", ")}` : `containers of compose project ${spec.project}`;
  return [
    "#!/bin/sh",
    `# Cut-over for ${spec.appName}: rendered by runbook-as-code, do not edit by hand.`,
    `# Stops the running ${what}; removes nothing.`,
    "set -eu",
    `ids=$(${list})`,
    'if [ -z "$ids" ]; then',
    `  echo ${shellQuote(`cut-over: no running ${what}`)}`,
    "  exit 0",
    "fi",
    "# A stopped container with restart: always comes back when the Docker daemon restarts.",
    "# shellcheck disable=SC2086 # one container id per word",
    `${shellJoin([...docker, "update", "--restart=no"])} $ids >/dev/null`,
    "# shellcheck disable=SC2086",
    `${shellJoin([...docker, "stop", "-t", String(spec.stopTimeoutSeconds ?? 60)])} $ids >/dev/null`,
    `left=$(${list})`,
    'if [ -n "$left" ]; then',
    `  echo ${shellQuote(`cut-over: still running after docker stop (${what}):`)} "$left" >&2`,
    "  exit 1",
    "fi",
    `echo ${shellQuote(`cut-over: stopped the ${what}:`)} "$ids"`,
    "",
  ].join("\n");
}
