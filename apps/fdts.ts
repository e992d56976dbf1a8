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
    noDownMigration: { reason: "the app migrates its SQLite schema itself at start and has no command to go back" },
    secretEnv: [
      // "NEW_JWT_SECRET=$(openssl rand -base64 64)": 64 random bytes, base64.
      { name: "JWT_SECRET", source: "generated", format: { encoding: "base64", bytes: 64 }, kind: "jwt-signing", previousSlot: true },
      { name: "JWT_REFRESH_SECRET", source: "generated", format: { encoding: "base64", bytes: 64 }, kind: "jwt-refresh", previousSlot: true },
    ],
    // "/app/data/database.sqlite" and "/app/uploads".
    volumes: [
      { name: "data", mountPath: "/app/data" },
      { name: "uploads", mountPath: "/app/uploads" },
    ],
    needsEgress: false,
    replicas: 1,
  },
  database: {
    engine: "sqlite",
    path: "/app/data/database.sqlite",
    volume: "data",
    walMode: false,
    // "Security Incident - Critical" 2. Preserve evidence (line 99): "SELECT * FROM audit_logs WHERE timestamp > datetime('now', '-1 hour');"
    auditLog: { table: "audit_logs", timeColumn: "timestamp", hours: 1 },
  },
  workers: [],
  routes: [{ path: "/", service: "backend" }],
  healthEndpoints: ["/api/health"],
  requirements: {
    health: {
      backend: { value: { port: 3001, path: "/api/health" }, source: { section: "Application Down - Critical", line: 43, quote: "curl -f http://localhost:3001/api/health" } },
    },
    healthEndpoints: { value: ["/api/health"], source: { section: "Daily Health Check", line: 141, quote: "curl -f http://localhost:3001/api/health" } },
    tls: { value: true, source: { section: "Security Incident - Critical", line: 90, quote: "ufw deny 443" } },
    database: { value: { engine: "sqlite" }, source: { section: "Database Corruption - Critical", line: 62, quote: 'sqlite3 /app/data/database.sqlite "PRAGMA integrity_check;"' } },
    backupBeforeDeploy: { value: true, source: { section: "Manual Backup Creation", line: 208, quote: "**When**: Before major updates, configuration changes, or on-demand" } },
    backupVerification: { value: { maxIntervalDays: 7 }, source: { section: "Backup Verification", line: 231, quote: "**Schedule**: Weekly" } },
    backupMaxAgeHours: { value: 48, source: { section: "Backup Failure Alert", line: 360, quote: "**Threshold**: No successful backup in 48 hours" } },
    // The runbook's alert thresholds. It sets no severity: an error rate that high and a missing backup
    // page (critical), memory and disk warn. The disk check gives no duration: the 5 minutes of its others.
    alerts: {
      errorRate: {
        value: { threshold: 10, forMinutes: 5, severity: "critical", procedure: "High Error Rate Alert" },
        source: { section: "High Error Rate Alert", line: 307, quote: "**Threshold**: >10% error rate for 5 minutes" },
      },
      memory: {
        value: { threshold: 90, forMinutes: 5, severity: "warning", procedure: "High Memory Usage Alert" },
        source: { section: "High Memory Usage Alert", line: 333, quote: "**Threshold**: >90% memory usage for 5 minutes" },
      },
      // "No successful backup in 48 hours": the 48 hours are the duration, so no `for:` on top.
      backupAge: {
        value: { threshold: 48, forMinutes: 0, severity: "critical", procedure: "Backup Failure Alert" },
        source: { section: "Backup Failure Alert", line: 360, quote: "**Threshold**: No successful backup in 48 hours" },
      },
      disk: { value: { threshold: 80, forMinutes: 5, severity: "warning", procedure: "Daily Health Check" }, source: { section: "Daily Health Check", line: 163, quote: "Disk usage below 80%" } },
    },
    secrets: {
      JWT_SECRET: { value: { encoding: "base64", bytes: 64 }, source: { section: "Security Incident - Critical", line: 105, quote: "NEW_JWT_SECRET=$(openssl rand -base64 64)" } },
      JWT_REFRESH_SECRET: { value: { encoding: "base64", bytes: 64 }, source: { section: "Security Incident - Critical", line: 106, quote: "NEW_JWT_REFRESH_SECRET=$(openssl rand -base64 64)" } },
    },
  },
};
