/**
 * The container definition of a Fargate task, as ECS takes it (`containerDefinitions`, a JSON
 * string): pure, from plain values, so the text the provider sends is what the tests read.
 *
 * The same settings a Docker container of the app gets: the catalog's health check (its command and
 * timing), the runbook's memory limit as the container's hard limit, secrets only by reference to
 * Secrets Manager (ECS injects them at start; the task definition holds ARNs, never a value), and
 * logs to CloudWatch Logs.
 */
import type { HealthcheckSpec } from "../app/containerDefaults";
import type { ResourceLimits } from "../../apps/types";

export interface FargateContainerSpec {
  /** The container's name in its task (the service's name: `backend`, `worker-rq`). */
  readonly name: string;
  /** `repository:tag`, or `repository@sha256:...`. */
  readonly image: string;
  /** The port the load balancer sends to; absent for a worker or a one-off task. */
  readonly port?: number;
  /** Replaces the image's command (a worker's, a migration's). */
  readonly command?: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Variable name -> Secrets Manager secret ARN. */
  readonly secrets: Readonly<Record<string, string>>;
  /** Absent for a one-off task, which is judged by its exit code. */
  readonly health?: HealthcheckSpec;
  readonly limits: ResourceLimits;
  /** CloudWatch Logs group, its region, and the stream prefix (`<prefix>/<container>/<task id>`). */
  readonly logs: { readonly group: string; readonly region: string; readonly streamPrefix: string };
}

/** ECS's bounds on a health check's timing (ECS API HealthCheck: interval 5-300, timeout 2-60, retries 1-10, startPeriod 0-300). */
const BOUNDS = { interval: [5, 300], timeout: [2, 60], retries: [1, 10], startPeriod: [0, 300] } as const;

function seconds(text: string, field: keyof typeof BOUNDS): number {
  const m = /^(\d+)(s|m)$/.exec(text);
  if (!m) throw new Error(`health check \`${field}\` ${JSON.stringify(text)} must be whole seconds or minutes (e.g. 10s)`);
  const value = Number(m[1]) * (m[2] === "m" ? 60 : 1);
  const [min, max] = BOUNDS[field];
  return Math.min(max, Math.max(min, value));
}

/** A Docker health check as ECS spells it. */
export function ecsHealthCheck(health: HealthcheckSpec) {
  if (health.tests[0] !== "CMD" && health.tests[0] !== "CMD-SHELL") throw new Error(`a health check must start with CMD or CMD-SHELL (got ${JSON.stringify(health.tests[0])})`);
  return {
    command: [...health.tests],
    interval: seconds(health.interval, "interval"),
    timeout: seconds(health.timeout, "timeout"),
    retries: Math.min(BOUNDS.retries[1], Math.max(BOUNDS.retries[0], health.retries)),
    startPeriod: seconds(health.startPeriod, "startPeriod"),
  };
}

const NAME = /^[A-Za-z0-9_-]{1,255}$/;
const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;

/** One container, the task's only one, as the JSON text of `containerDefinitions`. */
export function renderContainerDefinitions(spec: FargateContainerSpec): string {
  if (!NAME.test(spec.name)) throw new Error(`\`name\` ${JSON.stringify(spec.name)} must be letters, digits, - and _`);
  for (const name of [...Object.keys(spec.env), ...Object.keys(spec.secrets)]) {
    if (!VARIABLE.test(name)) throw new Error(`environment variable ${JSON.stringify(name)} is not a valid name`);
  }
  const both = Object.keys(spec.env).filter((k) => k in spec.secrets);
  if (both.length > 0) throw new Error(`${both.join(", ")} given both as plain environment and as a secret`);
  for (const [name, arn] of Object.entries(spec.secrets)) {
    if (!SECRET_ARN.test(arn)) throw new Error(`secret ${name} must be a Secrets Manager secret ARN (got ${JSON.stringify(arn)})`);
  }
  const sorted = <T>(record: Readonly<Record<string, T>>) => Object.keys(record).sort().map((k) => [k, record[k]!] as const);
  const container = {
    name: spec.name,
    image: spec.image,
    essential: true,
    ...(spec.command && { command: [...spec.command] }),
    ...(spec.port !== undefined && { portMappings: [{ containerPort: spec.port, protocol: "tcp" }] }),
    environment: sorted(spec.env).map(([name, value]) => ({ name, value })),
    secrets: sorted(spec.secrets).map(([name, valueFrom]) => ({ name, valueFrom })),
    // The runbook's memory limit is the container's hard limit (killed above it), as `docker --memory`.
    memory: spec.limits.memoryMb,
    ...(spec.limits.memoryReservationMb !== undefined && { memoryReservation: spec.limits.memoryReservationMb }),
    cpu: Math.ceil(spec.limits.cpus * 1024),
    ...(spec.health && { healthCheck: ecsHealthCheck(spec.health) }),
    // An init process reaps children and forwards SIGTERM, as `docker run --init`.
    linuxParameters: { initProcessEnabled: true },
    // Seconds between SIGTERM and SIGKILL at a replacement: in-flight requests finish.
    stopTimeout: 30,
    logConfiguration: {
      logDriver: "awslogs",
      options: { "awslogs-group": spec.logs.group, "awslogs-region": spec.logs.region, "awslogs-stream-prefix": spec.logs.streamPrefix },
    },
  };
  return JSON.stringify([container]);
}
