/**
 * Pure settings every long-running container gets: a health check fitted to what runs inside,
 * a restart policy, and json-file log rotation. No resources here.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ServiceName } from "../../apps/requirements";
import type { ResourceLimits, ServiceRuntime } from "../../apps/types";
import { formatCpus } from "../../config/dockerCpus";
import type { LogRotationSpec } from "../../config/spec";

export const RESTART_POLICY = "unless-stopped";

export interface HealthcheckSpec {
  readonly tests: string[];
  readonly interval: string;
  readonly timeout: string;
  readonly retries: number;
  readonly startPeriod: string;
}

const TIMING = { interval: "10s", timeout: "5s", retries: 5, startPeriod: "20s" } as const;

/**
 * What a probe sends so the app answers it as it answers a user behind the proxy: the public host
 * name (a Django ALLOWED_HOSTS answers 400 to any other Host) and, where the proxy terminates TLS,
 * `X-Forwarded-Proto: https` (SECURE_SSL_REDIRECT redirects anything else).
 */
export interface ProbeHeaders {
  readonly host: string;
  readonly forwardedProto: "http" | "https";
}

/** The probe headers of an app: its public host name, and https where its proxy terminates TLS. */
export function probeHeaders(app: { readonly publicHost: string; readonly proxy: { readonly tls?: unknown } }): ProbeHeaders {
  return { host: app.publicHost, forwardedProto: app.proxy.tls ? "https" : "http" };
}

/**
 * A health check for an HTTP service, using only what its runtime image ships. Healthy means a 2xx
 * answer to the probe's headers. Values are embedded as JSON string literals, which Python and
 * JavaScript both read.
 */
export function httpHealthcheck(runtime: ServiceRuntime, port: number, path: string, probe: ProbeHeaders): HealthcheckSpec {
  if (!/^\/[A-Za-z0-9._~/-]*$/.test(path)) throw new Error(`\`path\` ${JSON.stringify(path)} must be an absolute URL path`);
  const headers = { Host: probe.host, "X-Forwarded-Proto": probe.forwardedProto };
  const url = `http://127.0.0.1:${port}${path}`;
  switch (runtime) {
    case "python":
      return {
        tests: [
          "CMD",
          "python",
          "-c",
          `import sys, urllib.request as u; r = u.urlopen(u.Request(${JSON.stringify(url)}, headers=${JSON.stringify(headers)}), timeout=4); sys.exit(0 if 200 <= r.status < 300 else 1)`,
        ],
        ...TIMING,
      };
    case "node":
      return {
        tests: [
          "CMD",
          "node",
          "-e",
          `require('http').get({ host: '127.0.0.1', port: ${port}, path: ${JSON.stringify(path)}, headers: ${JSON.stringify(headers)} }, (r) => process.exit(r.statusCode >= 200 && r.statusCode < 300 ? 0 : 1)).on('error', () => process.exit(1))`,
        ],
        ...TIMING,
      };
    case "nginx":
      // BusyBox wget (alpine images): exits non-zero on 4xx/5xx.
      return {
        tests: ["CMD", "wget", "-q", "-O", "/dev/null", "--header", `Host: ${probe.host}`, "--header", `X-Forwarded-Proto: ${probe.forwardedProto}`, url],
        ...TIMING,
      };
  }
}

/** A health check given as a shell command line. */
export function shellHealthcheck(command: string): HealthcheckSpec {
  return { tests: ["CMD-SHELL", command], ...TIMING };
}

export function postgresHealthcheck(user: string, database: string): HealthcheckSpec {
  return { tests: ["CMD", "pg_isready", "-U", user, "-d", database], ...TIMING };
}

export function redisHealthcheck(): HealthcheckSpec {
  return { tests: ["CMD", "redis-cli", "ping"], ...TIMING };
}

export function logOptions(rotation: LogRotationSpec): { logDriver: string; logOpts: Record<string, string> } {
  return { logDriver: "json-file", logOpts: { "max-size": rotation.maxSize, "max-file": String(rotation.maxFile) } };
}

/** Label naming a container's role; the policy pack reads it. */
export const ROLE_LABEL = "runbook.role";
/** Label naming the service a container runs (`backend`, `worker:rq`...): how the pack finds a requirement's containers. */
export const SERVICE_LABEL = "runbook.service";

export type ContainerRole = "proxy" | "backend" | "frontend" | "admin" | "database" | "database-replica" | "cache" | "worker" | "monitoring" | "pooler" | "logging";

/** How long `pulumi up` waits for a new container to report healthy before it fails. */
export const WAIT_TIMEOUT_SECONDS = 180;

export interface LongRunningSpec {
  readonly role: ContainerRole;
  /** The service, as requirements name it: `backend`, `frontend`, `database`, `cache`, `proxy`, `worker:<name>`. */
  readonly service: ServiceName;
  readonly health: HealthcheckSpec;
  readonly limits: ResourceLimits;
  readonly logRotation: LogRotationSpec;
  /** Labels every container of the app carries (app, environment). */
  readonly labels: readonly { readonly label: string; readonly value: pulumi.Input<string> }[];
}

/** The settings every long-running container of an app gets, as docker.Container arguments. */
export function longRunningSettings(spec: LongRunningSpec) {
  return {
    healthcheck: spec.health,
    restart: RESTART_POLICY,
    memory: spec.limits.memoryMb,
    ...(spec.limits.memoryReservationMb !== undefined && { memoryReservation: spec.limits.memoryReservationMb }),
    // Spelled as Docker reads it back ("1.0", not "1"): cpus forces replacement (config/dockerCpus.ts).
    cpus: formatCpus(spec.limits.cpus),
    ...logOptions(spec.logRotation),
    // The role tells the policy pack what a container is (only a `proxy` publishes ports).
    labels: [...spec.labels, { label: ROLE_LABEL, value: spec.role }, { label: SERVICE_LABEL, value: spec.service }],
    // `pulumi up` waits until the container reports healthy: a broken release stops here.
    wait: true,
    waitTimeout: WAIT_TIMEOUT_SECONDS,
  };
}
