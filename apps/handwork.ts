import type { AppDefinition } from "./types";

/** Handwork Marketplace, from ../shared/runbooks/004_e051784874df9289.txt. */
export const handwork: AppDefinition = {
  id: "handwork",
  displayName: "Handwork Marketplace",
  runbook: "004_e051784874df9289.txt",
  backend: {
    // "Backend API: Python FastAPI application"; "curl -f https://api.handworkmarketplace.com/health".
    image: "ghcr.io/handwork/backend",
    port: 8000,
    healthPath: "/health",
    runtime: "python",
    limits: { cpus: 1, memoryMb: 1024 },
    env: { DATABASE_URL: "sqlite:////app/data/handwork_marketplace.db", UPLOAD_DIR: "/app/uploads" },
    // "docker-compose ... run backend alembic upgrade head".
    migrationCommand: ["alembic", "upgrade", "head"],
    secretEnv: [
      // "NEW_SECRET=$(openssl rand -hex 32)": 32 random bytes, hex.
      { name: "JWT_SECRET_KEY", source: "generated", format: { encoding: "hex", bytes: 32 }, kind: "jwt-signing", previousSlot: true },
      { name: "STRIPE_SECRET_KEY", source: "external", description: "Stripe secret key." },
      { name: "PAYPAL_CLIENT_SECRET", source: "external", description: "PayPal client secret." },
      { name: "TWILIO_AUTH_TOKEN", source: "external", description: "Twilio auth token." },
      { name: "SENDGRID_API_KEY", source: "external", description: "SendGrid API key." },
    ],
    // "SQLite with WAL mode"; "File Storage: Local filesystem with backup".
    volumes: [
      { name: "data", mountPath: "/app/data" },
      { name: "uploads", mountPath: "/app/uploads" },
    ],
    // "External Services: Stripe, PayPal, Firebase, Twilio, SendGrid".
    needsEgress: true,
    // "docker-compose ... up -d --scale backend=2".
    replicas: 2,
  },
  frontend: {
    // "Admin Dashboard: React web application": an admin UI, so it binds 127.0.0.1 only.
    image: "ghcr.io/handwork/admin",
    port: 80,
    healthPath: "/",
    runtime: "nginx",
    limits: { cpus: 0.5, memoryMb: 256 },
    env: {},
    adminPort: 8081,
    replicas: 1,
  },
  database: { engine: "sqlite", path: "/app/data/handwork_marketplace.db", volume: "data", walMode: true },
  workers: [],
  routes: [{ path: "/", service: "backend" }],
  healthEndpoints: ["/health"],
  requirements: {
    health: {
      backend: { value: { path: "/health" }, source: { section: "Service Health Checks", line: 68, quote: "curl -f https://api.handworkmarketplace.com/health" } },
    },
    healthEndpoints: { value: ["/health"], source: { section: "Service Health Checks", line: 68, quote: "curl -f https://api.handworkmarketplace.com/health" } },
    migration: {
      value: { command: ["alembic", "upgrade", "head"] },
      source: { section: "During Maintenance", line: 318, quote: "docker-compose -f docker-compose.prod.yml run backend alembic upgrade head" },
    },
    tls: { value: true, source: { section: "Service Health Checks", line: 68, quote: "curl -f https://api.handworkmarketplace.com/health" } },
    database: { value: { engine: "sqlite" }, source: { section: "Components", line: 22, quote: "**Database**: SQLite with WAL mode" } },
    private: { value: ["backend"], source: { section: "Service Dependencies", line: 31, quote: "Mobile App → Nginx → Backend API → SQLite Database" } },
    secrets: {
      JWT_SECRET_KEY: { value: { encoding: "hex", bytes: 32 }, source: { section: "Security Incident Response", line: 492, quote: "NEW_SECRET=$(openssl rand -hex 32)" } },
    },
  },
};
