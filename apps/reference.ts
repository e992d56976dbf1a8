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
    secretEnv: [{ name: "SECRET_KEY", source: "generated", length: 64 }],
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
};
