import { postgres, redis } from "./shared";
import type { AppDefinition } from "./types";

/** FairLens, from ../shared/runbooks/000_3328d0061f3c45ca.txt. */
export const fairlens: AppDefinition = {
  id: "fairlens",
  displayName: "FairLens",
  runbook: "000_3328d0061f3c45ca.txt",
  backend: {
    // "Backend API | 8000 | REST API"; "API Health: GET /healthz".
    image: "ghcr.io/fairlens/backend",
    port: 8000,
    healthPath: "/healthz",
    runtime: "python",
    limits: { cpus: 1, memoryMb: 1024 },
    env: { ALGORAND_NETWORK: "testnet" },
    // "docker-compose exec backend alembic upgrade head".
    migrationCommand: ["alembic", "upgrade", "head"],
    secretEnv: [
      { name: "JWT_SECRET", source: "generated", length: 64 },
      { name: "ALGORAND_API_KEY", source: "external", description: "Algorand API key (runbook: 'Algorand API keys')." },
    ],
    volumes: [],
    // Smart contracts are deployed to Algorand nodes from the backend.
    needsEgress: true,
    // "Backend: Multiple instances with shared database".
    replicas: 2,
  },
  frontend: {
    // "Frontend | 8080 | User interface": React served by Nginx.
    image: "ghcr.io/fairlens/frontend",
    port: 8080,
    healthPath: "/",
    runtime: "nginx",
    limits: { cpus: 0.5, memoryMb: 256 },
    env: {},
  },
  // "pg_dump -U fairlens_user fairlens".
  database: postgres("fairlens", "fairlens_user"),
  // "Redis | 6379 | Caching (optional)".
  cache: redis(true),
  workers: [],
  routes: [
    { path: "/api/", service: "backend" },
    { path: "/healthz", service: "backend" },
    { path: "/", service: "frontend" },
  ],
  healthEndpoints: ["/healthz", "/"],
};
