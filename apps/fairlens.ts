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
    // "Monitoring Setup": Prometheus scrapes `backend:8000` at its default metrics path.
    metricsPath: "/metrics",
    secretEnv: [
      // The runbook does not say how: 64 random bytes, base64, as the FDTS runbook makes its JWT secret.
      { name: "JWT_SECRET", source: "generated", format: { encoding: "base64", bytes: 64 }, kind: "jwt-signing", previousSlot: true },
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
    // "Frontend: Multiple instances behind load balancer".
    replicas: 2,
  },
  // "pg_dump -U fairlens_user fairlens".
  database: postgres("fairlens", "fairlens_user"),
  // "Redis | 6379 | Caching (optional)".
  cache: redis(true, false),
  workers: [],
  routes: [
    { path: "/api/", service: "backend" },
    { path: "/healthz", service: "backend" },
    { path: "/", service: "frontend" },
  ],
  healthEndpoints: ["/healthz", "/"],
  // "Blockchain: Check Algorand node connectivity": the node's URL is the stack's (algod answers
  // GET /health with 200 and no token); no timeout in the runbook, so Handwork's 5 seconds.
  externalServices: [{ name: "algorand", displayName: "Algorand node", expect: "2xx", timeoutSeconds: 5, procedure: "Blockchain Issues" }],
  // "Log Management": "Alerting on error patterns". The app exports no error metrics, so its backend's
  // lines are counted (mtail): the runbook's own troubleshooting case, a database the backend cannot
  // reach, pages from its first line; error lines are counted for the dashboard.
  backendLogMetrics: {
    // Python's logging level and an uncaught exception's traceback header, as `docker-compose logs backend` shows them.
    errors: { pattern: "ERROR|CRITICAL|Traceback \\(most recent call last\\)", ignoreCase: false, source: { section: "API Errors", line: 204, quote: "Check backend logs: `docker-compose logs backend`" } },
    database: [
      {
        // libpq's own messages (psycopg2, SQLAlchemy): "could not connect to server" (libpq before 14),
        // "connection to server at "db" (...), port 5432 failed" (14 and later), and PostgreSQL's refusal of
        // the credentials. Not a bare "Connection refused": the Algorand node's client says that too.
        name: "unreachable",
        alert: "BackendDatabaseUnreachable",
        what: "the backend cannot connect to PostgreSQL (server down or unreachable, or its credentials refused)",
        line: {
          pattern: "could not connect to server|connection to server at .* failed|password authentication failed for user",
          ignoreCase: false,
          source: { section: "Database Connection Issues", line: 200, quote: "Test connection: `docker-compose exec backend pg_isready -h db -U fairlens_user`" },
        },
        alertOn: { severity: "critical", procedure: "Database Connection Issues", source: { section: "Log Management", line: 183, quote: "Alerting on error patterns" } },
      },
    ],
  },
  requirements: {
    replicas: {
      backend: { value: 2, source: { section: "Horizontal Scaling", line: 271, quote: "**Backend**: Multiple instances with shared database" } },
      frontend: { value: 2, source: { section: "Horizontal Scaling", line: 270, quote: "**Frontend**: Multiple instances behind load balancer" } },
    },
    health: {
      backend: { value: { port: 8000, path: "/healthz" }, source: { section: "Initial Deployment", line: 73, quote: "curl http://localhost:8000/healthz" } },
    },
    healthEndpoints: { value: ["/healthz"], source: { section: "Health Checks", line: 158, quote: "API Health: `GET /healthz`" } },
    migration: { value: { command: ["alembic", "upgrade", "head"] }, source: { section: "Initial Deployment", line: 67, quote: "docker-compose exec backend alembic upgrade head" } },
    database: { value: { engine: "postgres" }, source: { section: "Ports and Services", line: 29, quote: "| Database | 5432 | PostgreSQL |" } },
    cacheOnly: { value: ["cache"], source: { section: "Ports and Services", line: 30, quote: "| Redis | 6379 | Caching (optional) |" } },
    externalProbes: { value: ["algorand"], source: { section: "Health Checks", line: 160, quote: "Blockchain: Check Algorand node connectivity" } },
    metricsNotPublic: { value: "/metrics", source: { section: "Monitoring Setup", line: 310, quote: "targets: ['backend:8000']" } },
    // "Quarterly" is every 90 days at most; it covers every secret and key the app has.
    rotation: { "*": { value: 90, source: { section: "Routine Maintenance", line: 174, quote: "**Quarterly**: Review and rotate secrets/keys" } } },
  },
};
