/**
 * Pure settings every long-running container gets: a health check fitted to what runs inside,
 * a restart policy, and json-file log rotation. No resources here.
 */
import type { ServiceRuntime } from "../../apps/types";
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

/** A health check for an HTTP service, using only what its runtime image ships. */
export function httpHealthcheck(runtime: ServiceRuntime, port: number, path: string): HealthcheckSpec {
  const url = `http://127.0.0.1:${port}${path}`;
  switch (runtime) {
    case "python":
      return {
        tests: ["CMD", "python", "-c", `import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('${url}', timeout=4).status < 400 else 1)`],
        ...TIMING,
      };
    case "node":
      return {
        tests: ["CMD", "node", "-e", `require('http').get('${url}', (r) => process.exit(r.statusCode < 400 ? 0 : 1)).on('error', () => process.exit(1))`],
        ...TIMING,
      };
    case "nginx":
      return { tests: ["CMD", "wget", "-q", "-O", "/dev/null", url], ...TIMING };
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
