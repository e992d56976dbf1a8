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
      // "NEW_SECRET=$(openssl rand -hex 32)".
      { name: "JWT_SECRET_KEY", source: "generated", length: 64 },
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
  },
  database: { engine: "sqlite", path: "/app/data/handwork_marketplace.db", volume: "data", walMode: true },
  workers: [],
  routes: [{ path: "/", service: "backend" }],
  healthEndpoints: ["/health"],
};
