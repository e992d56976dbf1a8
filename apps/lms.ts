import { postgres, redis } from "./shared";
import type { AppDefinition } from "./types";

/** The runbook's own staging check: over https, on the health endpoint. */
const STAGING_CHECK = { section: "Staging Deployment", line: 116, quote: "curl https://staging.yourdomain.com/api/healthz/" };

/** Fraction Ball LMS, from ../shared/runbooks/003_3d538838f653fe3e.txt. */
export const lms: AppDefinition = {
  id: "lms",
  displayName: "Fraction Ball LMS",
  runbook: "003_3d538838f653fe3e.txt",
  backend: {
    // Django 5.1 + DRF; "curl https://yourdomain.com/api/healthz/".
    image: "ghcr.io/fractionball/web",
    port: 8000,
    healthPath: "/api/healthz/",
    runtime: "python",
    // "web: limits cpus '2.0' memory 4G, reservations memory 2G".
    limits: { cpus: 2, memoryMb: 4096, memoryReservationMb: 2048 },
    env: {
      DEBUG: "false",
      // "ALLOWED_HOSTS=yourdomain.com"; "SECURE_SSL_REDIRECT=true": from the stack's domain and TLS,
      // so a stack without TLS does not redirect every request to an https that is not there.
      ALLOWED_HOSTS: "{{domain}}",
      SECURE_SSL_REDIRECT: "{{tls}}",
      SESSION_COOKIE_SECURE: "{{tls}}",
      CSRF_COOKIE_SECURE: "{{tls}}",
      SECURE_HSTS_SECONDS: "31536000",
      THROTTLE_ANON: "100/hour",
      THROTTLE_USER: "1000/hour",
      THROTTLE_LIBRARY: "500/hour",
    },
    // "python manage.py migrate", then the release task "python manage.py collectstatic --noinput".
    migrationCommand: ["python", "manage.py", "migrate", "--noinput"],
    releaseTask: ["python", "manage.py", "collectstatic", "--noinput"],
    // "Security Monitoring": failed logins of the last 24 hours from the app's AuditLog, through Django's
    // shell. The runbook's snippet uses timezone and timedelta without importing them: imported here.
    failedLoginsQuery: {
      command: [
        "python",
        "manage.py",
        "shell",
        "-c",
        "from datetime import timedelta\nfrom django.utils import timezone\nfrom content.models import AuditLog\nfailed_logins = AuditLog.objects.filter(action='LOGIN_FAILED', created_at__gte=timezone.now() - timedelta(hours=24)).count()\nprint(f'Failed logins (24h): {failed_logins}')\n",
      ],
      answer: "Failed logins (24h)",
      source: { section: "Security Monitoring", line: 445, quote: "# Check for failed authentication attempts" },
    },
    secretEnv: [
      // Django's own generator makes 50 characters; the runbook does not say how.
      { name: "SECRET_KEY", source: "generated", format: { encoding: "alphanumeric", length: 50 }, kind: "framework-key", previousSlot: true },
      { name: "FIREBASE_CREDENTIALS_JSON", source: "external", description: "Firebase service account key (runbook: 'Rotate Firebase credentials')." },
      { name: "SLACK_WEBHOOK_URL", source: "external", description: "Slack webhook for alerts (runbook: 'SLACK_WEBHOOK_URL')." },
    ],
    volumes: [],
    // Firebase Auth and Storage are external services.
    needsEgress: true,
    // "web: deploy: replicas: 3".
    replicas: 3,
  },
  // PostgreSQL 16; "REINDEX DATABASE fractionball"; "db: limits memory 8G, reservations memory 4G".
  database: postgres("fractionball", "fractionball", { cpus: 2, memoryMb: 8192, memoryReservationMb: 4096 }),
  // Redis 7: sessions, cache and the RQ queue live here, so it persists.
  cache: redis(false, true),
  workers: [
    {
      // "Queue: Redis Queue (RQ) for background jobs".
      name: "rq",
      command: ["python", "manage.py", "rqworker", "default"],
      healthcheck: "python -c \"import os,redis; redis.Redis.from_url(os.environ['REDIS_URL']).ping()\"",
      replicas: 1,
      limits: { cpus: 1, memoryMb: 1024 },
    },
  ],
  routes: [{ path: "/", service: "backend" }],
  healthEndpoints: ["/api/healthz/"],
  requirements: {
    serviceNames: { backend: "web", database: "db", cache: "redis", "worker:rq": "rq worker" },
    replicas: { backend: { value: 3, source: { section: "Horizontal Scaling", line: 397, quote: "replicas: 3" } } },
    limits: {
      backend: { value: { cpus: 2, memoryMb: 4096 }, source: { section: "Vertical Scaling", line: 378, quote: "memory: 4G" } },
      database: { value: { memoryMb: 8192 }, source: { section: "Vertical Scaling", line: 386, quote: "memory: 8G" } },
    },
    health: { backend: { value: { path: "/api/healthz/" }, source: { section: "Rollback Procedure", line: 151, quote: "curl https://yourdomain.com/api/healthz/" } } },
    healthEndpoints: {
      value: ["/api/healthz/"],
      source: { section: "Rollback Procedure", line: 151, quote: "curl https://yourdomain.com/api/healthz/" },
      staging: ["/api/healthz/"],
      stagingSource: STAGING_CHECK,
    },
    migration: {
      value: { command: ["python", "manage.py", "migrate"], then: ["python", "manage.py", "collectstatic", "--noinput"] },
      source: { section: "Production Deployment", line: 127, quote: "docker-compose -f docker-compose.prod.yml exec web python manage.py migrate" },
    },
    // Staging is reached over https too.
    tls: { value: true, source: { section: "Production-Specific", line: 73, quote: "SECURE_SSL_REDIRECT=true" }, staging: true, stagingSource: STAGING_CHECK },
    database: { value: { engine: "postgres", majorVersion: 16 }, source: { section: "Architecture", line: 19, quote: "**Database:** PostgreSQL 16" } },
    private: { value: ["database", "cache", "backend", "worker:rq"], source: { section: "Horizontal Scaling", line: 402, quote: '- "80:80"' } },
    backupSchedule: { value: { maxIntervalHours: 24, cron: "0 2 * * *" }, source: { section: "Automated Backups", line: 207, quote: "**Schedule:** Daily at 2 AM UTC" } },
    backupRetention: { value: { localDays: 30, cloudDays: 90 }, source: { section: "Automated Backups", line: 208, quote: "**Retention:** 30 days local, 90 days cloud" } },
    backupBeforeDeploy: { value: true, source: { section: "Production Deployment", line: 122, quote: "./scripts/backup_database.sh production" } },
    // "Key Metrics to Monitor" gives no durations: 5 minutes, as FDTS's alerts. Severities from
    // "Alert Thresholds": warning for response times, error rates and resources, critical for disk > 95%.
    alerts: {
      latencyAverage: { value: { threshold: 2, forMinutes: 5, severity: "warning", procedure: "High Response Times" }, source: { section: "Key Metrics to Monitor", line: 258, quote: "API endpoints < 2s average" } },
      latencyP95: { value: { threshold: 3, forMinutes: 5, severity: "warning", procedure: "High Response Times" }, source: { section: "Key Metrics to Monitor", line: 259, quote: "Dashboard < 3s p95" } },
      errorRate: { value: { threshold: 1, forMinutes: 5, severity: "warning", procedure: "System Down" }, source: { section: "Key Metrics to Monitor", line: 263, quote: "HTTP 5xx errors < 1%" } },
      cpu: { value: { threshold: 70, forMinutes: 5, severity: "warning", procedure: "High Response Times" }, source: { section: "Key Metrics to Monitor", line: 268, quote: "CPU usage < 70%" } },
      memory: { value: { threshold: 80, forMinutes: 5, severity: "warning", procedure: "Memory Issues" }, source: { section: "Key Metrics to Monitor", line: 269, quote: "Memory usage < 80%" } },
      disk: { value: { threshold: 85, forMinutes: 5, severity: "warning", procedure: "Upload Failures" }, source: { section: "Key Metrics to Monitor", line: 270, quote: "Disk usage < 85%" } },
      diskCritical: { value: { threshold: 95, forMinutes: 5, severity: "critical", procedure: "System Down" }, source: { section: "Alert Thresholds", line: 279, quote: "disk > 95%" } },
      dbConnections: {
        value: { threshold: 80, forMinutes: 5, severity: "warning", procedure: "Database Connection Issues" },
        source: { section: "Key Metrics to Monitor", line: 271, quote: "Database connections < 80% of max" },
      },
    },
  },
};
