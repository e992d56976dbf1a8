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
    // "Service Health Checks": "Check database connectivity" through the app's own engine. The runbook's
    // `engine.execute('SELECT 1')` is SQLAlchemy 1.x only (2.0 removed it); a connection's
    // `exec_driver_sql` does the same on 1.4 and 2.x. Its answer, as the runbook prints it.
    databaseCheck: {
      command: [
        "python",
        "-c",
        "from app.database import engine\ntry:\n    with engine.connect() as connection:\n        connection.exec_driver_sql('SELECT 1')\n    print('Database: OK')\nexcept Exception as e:\n    print(f'Database: ERROR - {e}')\n",
      ],
      ok: "Database: OK",
      source: { section: "Service Health Checks", line: 70, quote: "# Check database connectivity" },
    },
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
  // "Check external service connectivity": the three services the runbook's script requests, each
  // with `requests.get(url, timeout=5)`, printing OK whatever the status (its URLs answer 401/405
  // without a key). Twilio and SendGrid are named in "Components" but never checked.
  externalServices: [
    { name: "stripe", displayName: "Stripe", expect: "any-response", timeoutSeconds: 5, runbookUrl: "https://api.stripe.com/v1/charges", procedure: "Payment Processing Failures" },
    { name: "paypal", displayName: "PayPal", expect: "any-response", timeoutSeconds: 5, runbookUrl: "https://api.paypal.com/v1/oauth2/token", procedure: "Payment Processing Failures" },
    { name: "firebase", displayName: "Firebase", expect: "any-response", timeoutSeconds: 5, runbookUrl: "https://fcm.googleapis.com/fcm/send" },
  ],
  // "Key Metrics to Monitor › Application Metrics" names failed payments and pool exhaustion; the app
  // exports no metrics, so they are counted from its log lines, with the runbook's own greps.
  backendLogMetrics: {
    payments: {
      line: { pattern: "payment|stripe|paypal", ignoreCase: true, source: { section: "Payment Processing Failures", line: 187, quote: 'grep -i "payment\\|stripe\\|paypal"' } },
      // A payment line that reports a failure: Stripe's CardError ("Your card was declined"), a timeout, an exception.
      failure: { pattern: "error|exception|fail|declined|timeout|timed out", ignoreCase: true, source: { section: "Application Metrics", line: 127, quote: "Failed payment transactions" } },
      // The runbook names no success message: Stripe's and PayPal's own status words (a PaymentIntent
      // "succeeded", an order "COMPLETED", a capture, an invoice "paid").
      success: { pattern: "succeeded|success|completed|captured|\\bpaid\\b", ignoreCase: true, source: { section: "P0 - Critical (Response: Immediate)", line: 198, quote: "Payment processing completely down" } },
      errorRate: {
        thresholdPercent: 10,
        // P1 is answered within the hour: a warning (chat), as the runbook's other P1s; P0 pages.
        severity: "warning",
        priority: "P1",
        procedure: "Payment Processing Failures",
        source: { section: "P1 - High (Response: 1 hour)", line: 203, quote: "Payment processing errors >10%" },
      },
      down: { severity: "critical", priority: "P0", procedure: "Payment Processing Failures", source: { section: "P0 - Critical (Response: Immediate)", line: 198, quote: "Payment processing completely down" } },
    },
    authFailures: { pattern: "authentication failed", ignoreCase: true, source: { section: "Security Monitoring", line: 477, quote: 'grep -i "authentication failed" | wc -l' } },
    errors: { pattern: "error|exception|timeout", ignoreCase: false, source: { section: "High CPU Usage Alert", line: 154, quote: 'grep -E "(error|exception|timeout)"' } },
    database: [
      {
        // SQLAlchemy's TimeoutError: "QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 30.00".
        name: "poolExhausted",
        alert: "BackendPoolExhausted",
        what: "the backend's database connection pool is exhausted (requests time out waiting for a connection)",
        line: { pattern: "QueuePool limit of size [0-9]+ overflow [0-9]+ reached", ignoreCase: false, source: { section: "Application Metrics", line: 126, quote: "Database connection pool exhaustion" } },
        alertOn: { severity: "critical", procedure: "Database Connection Issues", source: { section: "Application Metrics", line: 126, quote: "Database connection pool exhaustion" } },
      },
      {
        // sqlite3.OperationalError: "database is locked" (a writer held the lock past the busy timeout).
        name: "locked",
        alert: "DatabaseLocked",
        what: "SQLite reports the database locked",
        line: { pattern: "database is locked", ignoreCase: false, source: { section: "Database Connection Issues", line: 162, quote: "# 2. Check database locks" } },
        alertOn: { severity: "warning", procedure: "Database Connection Issues", source: { section: "Database Connection Issues", line: 162, quote: "# 2. Check database locks" } },
      },
      {
        // sqlite3.OperationalError: "unable to open database file" (permissions, a missing volume).
        name: "cannotOpen",
        alert: "DatabaseCannotOpen",
        what: "SQLite cannot open the database file",
        line: { pattern: "unable to open database file", ignoreCase: false, source: { section: "Database Connection Issues", line: 159, quote: "# 1. Check database file permissions" } },
        alertOn: { severity: "critical", procedure: "Database Connection Issues", source: { section: "Database Connection Issues", line: 159, quote: "# 1. Check database file permissions" } },
      },
    ],
  },
  requirements: {
    health: {
      backend: { value: { path: "/health" }, source: { section: "Service Health Checks", line: 68, quote: "curl -f https://api.handworkmarketplace.com/health" } },
    },
    healthEndpoints: { value: ["/health"], source: { section: "Service Health Checks", line: 68, quote: "curl -f https://api.handworkmarketplace.com/health" } },
    migration: {
      value: { command: ["alembic", "upgrade", "head"] },
      source: { section: "During Maintenance", line: 318, quote: "docker-compose -f docker-compose.prod.yml run backend alembic upgrade head" },
    },
    externalProbes: { value: ["stripe", "paypal", "firebase"], source: { section: "Service Health Checks", line: 80, quote: "# Check external service connectivity" } },
    tls: { value: true, source: { section: "Service Health Checks", line: 68, quote: "curl -f https://api.handworkmarketplace.com/health" } },
    database: { value: { engine: "sqlite" }, source: { section: "Components", line: 22, quote: "**Database**: SQLite with WAL mode" } },
    private: { value: ["backend"], source: { section: "Service Dependencies", line: 31, quote: "Mobile App → Nginx → Backend API → SQLite Database" } },
    backupBeforeDeploy: { value: true, source: { section: "Pre-Maintenance (1 hour before)", line: 298, quote: "/usr/local/bin/backup-db.sh" } },
    backupVerification: { value: { integrityCheck: true }, source: { section: "Automated Backup Verification", line: 401, quote: 'sqlite3 $LATEST_BACKUP "PRAGMA integrity_check;"' } },
    // No durations in the runbook: 5 minutes, as FDTS's alerts. No severities either: the error rate
    // pages (critical), resources and response time warn.
    alerts: {
      cpu: { value: { threshold: 80, forMinutes: 5, severity: "warning", procedure: "High CPU Usage Alert" }, source: { section: "System Metrics", line: 118, quote: "CPU usage > 80%" } },
      memory: { value: { threshold: 85, forMinutes: 5, severity: "warning", procedure: "High CPU Usage Alert" }, source: { section: "System Metrics", line: 119, quote: "Memory usage > 85%" } },
      disk: { value: { threshold: 90, forMinutes: 5, severity: "warning" }, source: { section: "System Metrics", line: 120, quote: "Disk usage > 90%" } },
      latencyAverage: { value: { threshold: 2, forMinutes: 5, severity: "warning" }, source: { section: "Application Metrics", line: 124, quote: "API response time > 2 seconds" } },
      errorRate: { value: { threshold: 5, forMinutes: 5, severity: "critical", procedure: "Scenario 3: High Error Rate" }, source: { section: "Application Metrics", line: 125, quote: "Error rate > 5%" } },
    },
    secrets: {
      JWT_SECRET_KEY: { value: { encoding: "hex", bytes: 32 }, source: { section: "Security Incident Response", line: 492, quote: "NEW_SECRET=$(openssl rand -hex 32)" } },
    },
  },
};
