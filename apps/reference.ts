import { postgres } from "./shared";
import type { AppDefinition } from "./types";

/** The FastAPI + React reference app, from ../shared/runbooks/002_2739fce9e55fe86f.txt. */
export const reference: AppDefinition = {
  id: "reference",
  displayName: "FastAPI + React reference app",
  runbook: "002_2739fce9e55fe86f.txt",
  backend: {
    // "ghcr.io/your-org/your-repo/backend"; "the health check endpoint (/health for backend)"; "/metrics endpoint".
    image: "ghcr.io/your-org/your-repo/backend",
    port: 8000,
    healthPath: "/health",
    metricsPath: "/metrics",
    runtime: "python",
    limits: { cpus: 1, memoryMb: 1024 },
    env: {},
    // The runbook names no migration command.
    // The runbook does not say how: 64 random bytes, base64.
    secretEnv: [{ name: "SECRET_KEY", source: "generated", format: { encoding: "base64", bytes: 64 }, kind: "framework-key", previousSlot: true }],
    volumes: [],
    needsEgress: false,
    // "Both FastAPI and React ... stateless, allowing easy horizontal scaling".
    replicas: 2,
  },
  frontend: {
    image: "ghcr.io/your-org/your-repo/frontend",
    port: 3000,
    healthPath: "/",
    runtime: "node",
    limits: { cpus: 0.5, memoryMb: 256 },
    env: {},
    // "Both FastAPI and React ... stateless, allowing easy horizontal scaling".
    replicas: 1,
  },
  // "Use database-specific tools (e.g., pg_dump for PostgreSQL)".
  database: postgres("app", "app"),
  workers: [],
  routes: [
    { path: "/api/", service: "backend" },
    { path: "/health", service: "backend" },
    { path: "/", service: "frontend" },
  ],
  // "curl -f http://localhost/health (or via Nginx if configured)".
  healthEndpoints: ["/health", "/"],
  requirements: {
    health: {
      backend: { value: { port: 8000, path: "/health" }, source: { section: "1.1 Application Not Starting (Docker Compose)", line: 35, quote: "(`/health` for backend) is accessible and returns `200 OK`" } },
    },
    healthEndpoints: { value: ["/health"], source: { section: "2.2 Deploying a New Version", line: 97, quote: "curl -f http://localhost/health" } },
    // "hourly incremental": pg_dump makes full dumps only, so the job makes an hourly full one.
    backupSchedule: { value: { maxIntervalHours: 1 }, source: { section: "3.1 Data Backup Strategy", line: 130, quote: "Daily full backups, hourly incremental backups." } },
    backupVersioned: { value: true, source: { section: "3.1 Data Backup Strategy", line: 132, quote: "with versioning enabled" } },
    backupEncrypted: { value: true, source: { section: "3.1 Data Backup Strategy", line: 133, quote: "Encrypt backups at rest and in transit." } },
    metricsNotPublic: { value: "/metrics", source: { section: "1.3 Monitoring Data Not Appearing (Prometheus/Grafana)", line: 63, quote: "`/metrics` endpoint is accessible" } },
  },
};
