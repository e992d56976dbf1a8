import type { AppDefinition } from "./types";

/** FDTS, from ../shared/runbooks/001_3eb1f1ca627b8b71.txt. */
export const fdts: AppDefinition = {
  id: "fdts",
  displayName: "FDTS",
  runbook: "001_3eb1f1ca627b8b71.txt",
  backend: {
    // "curl -f http://localhost:3001/api/health".
    image: "ghcr.io/fdts/app",
    port: 3001,
    healthPath: "/api/health",
    runtime: "node",
    limits: { cpus: 1, memoryMb: 1024 },
    env: { NODE_ENV: "production", DATABASE_PATH: "/app/data/database.sqlite", UPLOAD_DIR: "/app/uploads" },
    // The runbook names no migration command: the app migrates its SQLite schema itself.
    secretEnv: [
      // "NEW_JWT_SECRET=$(openssl rand -base64 64)".
      { name: "JWT_SECRET", source: "generated", length: 64 },
      { name: "JWT_REFRESH_SECRET", source: "generated", length: 64 },
    ],
    // "/app/data/database.sqlite" and "/app/uploads".
    volumes: [
      { name: "data", mountPath: "/app/data" },
      { name: "uploads", mountPath: "/app/uploads" },
    ],
    needsEgress: false,
    replicas: 1,
  },
  database: { engine: "sqlite", path: "/app/data/database.sqlite", volume: "data", walMode: false },
  workers: [],
  routes: [{ path: "/", service: "backend" }],
  healthEndpoints: ["/api/health"],
};
