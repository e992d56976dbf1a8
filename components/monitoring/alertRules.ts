/**
 * An app's Prometheus alert rules, from its runbook thresholds (MonitoringSpec.alerts) and the rules
 * every app gets. Each rule carries the fixture its promtool unit tests are generated from
 * (ruleTests.ts): the series under which it must fire, and those under which it must stay quiet.
 * Pure: no resources.
 */
import { stringify } from "yaml";
import { ALERT_SIGNALS, DEPENDENCY_LABEL, SIGNAL_LABEL, type AlertSeverity, type AlertSignal, type AlertThreshold } from "../../policies/monitoring/signals";
import type { BackendLogMetricsDefinition } from "../../apps/types";
import { BACKUP_METRICS } from "../backups/metrics";
import { IMAGE_SCAN_METRICS } from "../maintenance/imageScan";
import { BACKEND_LOG, BACKEND_LOG_METRICS, databaseErrorMetric } from "./backendLogProgram";
import { externalJob } from "./prometheusConfig";
import { JOBS, PROXY_METRICS, SIGNAL_MODELS, counter, gauge, num, selector, type InputSeries, type Labels } from "./signalModels";

export interface AlertRulesSpec {
  readonly app: string;
  readonly displayName: string;
  /** The runbook file (`001_...txt`): summaries cite it by number. */
  readonly runbook: string;
  readonly alerts: Readonly<Partial<Record<AlertSignal, AlertThreshold>>>;
  readonly slo: { readonly availabilityPercent: number; readonly minRequestsPerHour: number };
  /** The proxy has a certificate: certificate expiry rules. */
  readonly tls: boolean;
  readonly postgres: boolean;
  /** Streaming read replicas of the PostgreSQL database (`database.readReplicas`): lag and missing-replica rules. */
  readonly readReplicas?: number;
  /** PgBouncer runs in front of PostgreSQL (`database.pooler`): rules on its pools. */
  readonly pooler?: boolean;
  readonly cache: boolean;
  /** Third-party services probed: one rule each, firing when the probe has failed for its duration. */
  readonly externalProbes?: readonly { readonly name: string; readonly displayName: string; readonly url: string; readonly forMinutes: number; readonly severity: AlertSeverity; readonly procedure?: string }[];
  /** Metrics counted from the backend's log lines (mtail), where the app's catalog defines them. */
  readonly backendLog?: BackendLogMetricsDefinition;
  /** Where an operator reads what to do: the app's section of docs/operations.md. */
  readonly docsUrl: string;
}

/**
 * Windows and guards of the rules on the backend's log lines. The runbook gives the 10 % and the
 * priorities, no window: ten minutes of payment lines, so a marketplace with a few payments an hour is
 * judged on more than one of them; an error rate needs at least five payments with an outcome (failed or
 * succeeded) in the window, and "completely down" at least three failed ones and no successful one.
 */
export const BACKEND_LOG_RULES = { paymentWindowMinutes: 10, errorRateForMinutes: 5, minPaymentLines: 5, downMinFailures: 3, databaseWindowMinutes: 5 } as const;

/** What a rule's tests are made of. `minutes`: how long the series run; `at`: the minute the test evaluates. */
export interface Fixture {
  /** Series under which the condition holds from minute `lag` on, and the alert's labels beyond the rule's. */
  firing(minutes: number, at: number): { readonly series: InputSeries[]; readonly labels: Labels; readonly lag: number };
  /** Series just past the threshold (or plainly failing), exact after `settle` minutes. */
  justPast(minutes: number, at: number): { readonly series: InputSeries[]; readonly labels: Labels };
  /** Each a case that must never fire: just below the threshold, a healthy target, a quiet app. */
  quiet(minutes: number, at: number): InputSeries[][];
  readonly settle: number;
}

export interface AlertRule {
  readonly group: "runbook" | "platform" | "slo";
  readonly alert: string;
  readonly expr: string;
  readonly forMinutes: number;
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly fixture: Fixture;
}

const runbookNumber = (file: string) => file.slice(0, 3);

/** A rule that fires on a plain condition: `firing` and `healthy` are one series' values. */
function condition(series: string, labels: Labels, firing: (m: number, at: number) => string, healthy: (m: number, at: number) => string, lag = 0): Fixture {
  return {
    firing: (m, at) => ({ series: [{ series, values: firing(m, at) }], labels, lag }),
    justPast: (m, at) => ({ series: [{ series, values: firing(m, at) }], labels }),
    quiet: (m, at) => [[{ series, values: healthy(m, at) }]],
    settle: lag,
  };
}

/** A rule on a runbook threshold: the signal's model at a level just past it, just short of it, and far past it. */
function threshold(signal: AlertSignal, t: AlertThreshold, app: string): Fixture {
  const model = SIGNAL_MODELS[signal];
  const percent = ALERT_SIGNALS[signal].unit === "%";
  const past = percent ? Math.min(t.threshold * 1.02, (t.threshold + 100) / 2) : t.threshold * 1.02;
  const far = percent ? 100 : t.threshold * 4;
  const labels = model.outputLabels(app);
  return {
    firing: (m, at) => ({ series: model.series(far, app, m, at), labels, lag: model.lag }),
    justPast: (m, at) => ({ series: model.series(past, app, m, at), labels }),
    quiet: (m, at) => [model.series(t.threshold * 0.98, app, m, at)],
    settle: model.settle,
  };
}

/**
 * Replay lag (bytes of WAL) past which a read replica alerts: 64 MiB, four of PostgreSQL's 16 MiB WAL
 * segments, for 5 minutes. The runbooks name no figure; reads from a replica that far behind are
 * stale enough for an operator to look.
 */
export const REPLICA_LAG_BYTES = 64 * 1024 * 1024;
/** The metric: postgres_exporter's `pg_stat_replication` on the primary (components/app/readReplicaScripts.ts EXPORTER_REPLICATION_QUERY). */
export const REPLICA_LAG_METRIC = "pg_stat_replication_pg_wal_lsn_diff";

type RuleMaker = (group: AlertRule["group"], alert: string, expr: string, forMinutes: number, severity: AlertSeverity, summary: string, procedure: string | undefined, fixture: Fixture, extra?: Labels) => AlertRule;

/** A replica lagging past REPLICA_LAG_BYTES, and fewer replicas streaming than the stack runs. */
function replicaRules(spec: AlertRulesSpec, rule: RuleMaker): AlertRule[] {
  const n = spec.readReplicas ?? 0;
  const series = (i: number, state = "streaming") =>
    selector(REPLICA_LAG_METRIC, { application_name: `${spec.app}-replica-${i}`, client_addr: `172.18.0.${10 + i}`, instance: "postgres-exporter:9187", job: JOBS.postgres, state });
  const lagging = (bytes: number, m: number) => [
    { series: series(0), values: gauge(bytes, m) },
    ...Array.from({ length: n - 1 }, (_, i) => ({ series: series(i + 1), values: gauge(0, m) })),
  ];
  const streaming = `${REPLICA_LAG_METRIC}{job="${JOBS.postgres}",state="streaming"}`;
  return [
    rule("platform", "DatabaseReplicaLagging", `max by (application_name) (${REPLICA_LAG_METRIC}{job="${JOBS.postgres}"}) > ${REPLICA_LAG_BYTES}`, 5, "warning", `a read replica has not replayed ${REPLICA_LAG_BYTES / 1024 / 1024} MiB of the primary's WAL; its reads are stale`, undefined, {
      firing: (m) => ({ series: lagging(REPLICA_LAG_BYTES * 4, m), labels: { application_name: `${spec.app}-replica-0` }, lag: 0 }),
      justPast: (m) => ({ series: lagging(Math.round(REPLICA_LAG_BYTES * 1.02), m), labels: { application_name: `${spec.app}-replica-0` } }),
      quiet: (m) => [lagging(Math.round(REPLICA_LAG_BYTES * 0.98), m), lagging(0, m)],
      settle: 0,
    }),
    rule("platform", "DatabaseReplicaMissing", `(count(${streaming}) or vector(0)) < ${n}`, 5, "warning", `fewer than ${n} read replica${n === 1 ? "" : "s"} stream from the primary`, undefined, {
      // One replica not streaming (catching up, or gone from pg_stat_replication altogether).
      firing: (m) => ({ series: [{ series: series(0, "catchup"), values: gauge(0, m) }, ...Array.from({ length: n - 1 }, (_, i) => ({ series: series(i + 1), values: gauge(0, m) }))], labels: {}, lag: 0 }),
      justPast: (m) => ({ series: Array.from({ length: n - 1 }, (_, i) => ({ series: series(i + 1), values: gauge(0, m) })).concat(n === 1 ? [{ series: selector("pg_up", { instance: "postgres-exporter:9187", job: JOBS.postgres }), values: gauge(1, m) }] : []), labels: {} }),
      quiet: (m) => [Array.from({ length: n }, (_, i) => ({ series: series(i), values: gauge(0, m) }))],
      settle: 0,
    }),
  ];
}

export function alertRules(spec: AlertRulesSpec): AlertRule[] {
  const { app } = spec;
  const describe = (procedure?: string) =>
    procedure
      ? `Follow runbook ${runbookNumber(spec.runbook)} '${procedure}'; what to check first: ${spec.docsUrl}.`
      : `Runbook ${runbookNumber(spec.runbook)} names no procedure for this alert; what to do: ${spec.docsUrl}.`;
  const rule = (group: AlertRule["group"], alert: string, expr: string, forMinutes: number, severity: AlertSeverity, summary: string, procedure: string | undefined, fixture: Fixture, extra: Labels = {}): AlertRule => ({
    group,
    alert,
    expr,
    forMinutes,
    labels: { app, severity, ...extra },
    annotations: { summary: `${spec.displayName}: ${summary}`, description: describe(procedure), runbook_url: spec.docsUrl },
    fixture,
  });
  const rules: AlertRule[] = [];

  // The runbook's thresholds, one rule per signal.
  for (const [signal, t] of Object.entries(spec.alerts) as [AlertSignal, AlertThreshold][]) {
    const info = ALERT_SIGNALS[signal];
    const duration = t.forMinutes > 0 ? ` for ${t.forMinutes}m` : "";
    rules.push(
      rule("runbook", info.alert, `${SIGNAL_MODELS[signal].value(app)} > ${num(t.threshold)}`, t.forMinutes, t.severity, `${info.what} above ${num(t.threshold)}${info.unit === "%" ? "%" : ` ${info.unit}`}${duration}`, t.procedure, threshold(signal, t, app), { [SIGNAL_LABEL]: signal }),
    );
  }

  // The backend's log lines (mtail): failed payments and database connection errors.
  const log = spec.backendLog;
  if (log) {
    const series = { instance: `backend-log-exporter:${BACKEND_LOG.port}`, job: JOBS.backendLog, prog: BACKEND_LOG.programFile };
    const sel = (metric: string) => `${metric}{job="${JOBS.backendLog}"}`;
    const R = BACKEND_LOG_RULES;
    const priority = (p?: string): Labels => (p ? { priority: p } : {});
    if (log.payments) {
      const p = log.payments;
      const w = `${R.paymentWindowMinutes}m`;
      const rate = (m: string) => `sum(rate(${sel(m)}[${w}]))`;
      const increase = (m: string) => `sum(increase(${sel(m)}[${w}]))`;
      // Lines in the window, exactly: increase() extrapolates, and on a short series (mtail restarted with a
      // release) 4 lines can read as 5. A series younger than the window counts from its start; across a
      // counter reset the count is negative and the guard holds back.
      const count = (m: string) => `sum((${sel(m)} - ${sel(m)} offset ${w}) or ${sel(m)})`;
      const failed = selector(BACKEND_LOG_METRICS.paymentFailed, series);
      const succeeded = selector(BACKEND_LOG_METRICS.paymentSucceeded, series);
      // `perMinute` payment outcomes a minute, `share` of them failed, the rest succeeded.
      const lines = (share: number, m: number, perMinute = 60): InputSeries[] => [
        { series: failed, values: counter(perMinute * share, m) },
        { series: succeeded, values: counter(perMinute * (1 - share), m) },
      ];
      const t = p.errorRate.thresholdPercent;
      rules.push(
        rule("runbook", "PaymentErrorRateHigh",
          `100 * ${rate(BACKEND_LOG_METRICS.paymentFailed)} / (${rate(BACKEND_LOG_METRICS.paymentFailed)} + ${rate(BACKEND_LOG_METRICS.paymentSucceeded)}) > ${num(t)} and ${count(BACKEND_LOG_METRICS.paymentFailed)} + ${count(BACKEND_LOG_METRICS.paymentSucceeded)} >= ${R.minPaymentLines}`,
          R.errorRateForMinutes, p.errorRate.severity, `more than ${num(t)}% of the backend's payment log lines with an outcome report a failure (${w})`, p.errorRate.procedure, {
            firing: (m) => ({ series: lines(0.5, m), labels: {}, lag: 1 }),
            justPast: (m) => ({ series: lines((t * 1.02) / 100, m), labels: {} }),
            quiet: (m, at) => [
              lines((t * 0.98) / 100, m),
              // A quiet hour: the window's only two payments both failed. The guard keeps it from paging.
              [
                { series: failed, values: `0+0x${at - 2} 1 2+0x${m - at}` },
                { series: succeeded, values: gauge(0, m) },
              ],
            ],
            settle: 1,
          }, priority(p.errorRate.priority)),
        // Payments failing and none succeeding. No payment line at all is not "down" (a quiet hour looks
        // the same): a backend that logs nothing is the health probe's and the target's alerts.
        rule("runbook", "PaymentsDown", `${count(BACKEND_LOG_METRICS.paymentFailed)} >= ${R.downMinFailures} and ${increase(BACKEND_LOG_METRICS.paymentSucceeded)} == 0`, 0, p.down.severity,
          `the backend logged ${R.downMinFailures} or more failed payments and no successful one in the last ${w}`, p.down.procedure, {
            firing: (m) => ({ series: lines(1, m, 1), labels: {}, lag: R.downMinFailures }),
            justPast: (m) => ({ series: lines(1, m, 1), labels: {} }),
            quiet: (m, at) => [
              // Failing, but one payment succeeded in the window.
              [
                { series: failed, values: counter(1, m) },
                { series: succeeded, values: `0+0x${at - 2} 1+0x${m - at + 1}` },
              ],
              // Fewer failed lines than the guard.
              [
                { series: failed, values: `0 1 2+0x${m - 2}` },
                { series: succeeded, values: gauge(0, m) },
              ],
            ],
            settle: R.downMinFailures,
          }, priority(p.down.priority)),
      );
    }
    for (const d of log.database ?? []) {
      const metric = databaseErrorMetric(d.name);
      rules.push(
        rule("runbook", d.alert, `sum(increase(${sel(metric)}[${R.databaseWindowMinutes}m])) > 0`, 0, d.alertOn.severity, `${d.what} (a backend log line in the last ${R.databaseWindowMinutes}m)`, d.alertOn.procedure,
          condition(selector(metric, series), {}, (m) => `0 1+0x${m - 1}`, (m) => gauge(0, m), 1), priority(d.alertOn.priority)),
      );
    }
  }

  // Every app: targets, the health probes through the proxy, containers, backups, disks.
  const node = { instance: "node-exporter:9100", job: JOBS.node };
  rules.push(rule("platform", "TargetDown", "up == 0", 5, "warning", "a scrape target is down", undefined, condition(selector("up", node), node, (m) => gauge(0, m), (m) => gauge(1, m))));
  const probe = { instance: "http://proxy:80/health", job: JOBS.health };
  rules.push(
    rule("platform", "HealthProbeFailing", `probe_success{job="${JOBS.health}"} == 0`, 2, "critical", "a health endpoint fails through the proxy", undefined, condition(selector("probe_success", probe), probe, (m) => gauge(0, m), (m) => gauge(1, m))),
  );
  const container = { container_label_runbook_app: app, instance: "cadvisor:8080", job: JOBS.cadvisor, name: `${app}-backend-0` };
  rules.push(
    rule("platform", "ContainerUnhealthy", `min by (name) (container_health_state{job="${JOBS.cadvisor}",container_label_runbook_app="${app}"}) == 0`, 5, "warning", "a container reports unhealthy", undefined,
      condition(selector("container_health_state", container), { name: container.name }, (m) => gauge(0, m), (m) => gauge(1, m))),
    rule("platform", "ContainerRestarting", `sum by (name) (changes(container_start_time_seconds{job="${JOBS.cadvisor}",container_label_runbook_app="${app}"}[15m])) >= 3`, 0, "warning", "a container restarted 3 times in 15 minutes", undefined,
      condition(selector("container_start_time_seconds", container), { name: container.name }, (m) => `100 160 220 280+0x${m - 3}`, (m) => `100 160 220+0x${m - 2}`, 3)),
  );
  const backup = { app, instance: node.instance, job: JOBS.node, kind: "database" };
  const lastSuccess = selector(BACKUP_METRICS.lastSuccess, backup);
  rules.push(
    rule("platform", "BackupVerificationFailed", `max by (app, kind) (${BACKUP_METRICS.verifyLastStatus}{app="${app}"}) == 0`, 0, "warning", "the last backup verification failed", undefined,
      condition(selector(BACKUP_METRICS.verifyLastStatus, backup), { app, kind: "database" }, (m) => gauge(0, m), (m) => gauge(1, m))),
    // The monitoring data's backup (kind="monitoring") is no backup of the app's data: its success alone
    // must not hide a database that has never been backed up.
    rule("platform", "BackupMetricsMissing", `absent(${BACKUP_METRICS.lastSuccess}{app="${app}",kind!="monitoring"})`, 60, "warning", "no backup job has reported a backup", undefined, {
      firing: (m, at) => ({ series: [{ series: selector("up", node), values: gauge(1, m) }, { series: selector(BACKUP_METRICS.lastSuccess, { ...backup, kind: "monitoring" }), values: gauge(at * 60, m) }], labels: { app }, lag: 0 }),
      justPast: (m, at) => ({ series: [{ series: selector("up", node), values: gauge(1, m) }, { series: selector(BACKUP_METRICS.lastSuccess, { ...backup, kind: "monitoring" }), values: gauge(at * 60, m) }], labels: { app } }),
      quiet: (m, at) => [[{ series: lastSuccess, values: gauge(at * 60, m) }]],
      settle: 0,
    }),
    // The monitoring data's daily backup (components/backups/monitoringData.ts): no series before its
    // first run. A job that has failed every time it ran has no success to age (BackupMetricsMissing
    // sees the database's): its failed status fires too, so a host without sqlite3 or a missing
    // container is never silent.
    rule(
      "platform",
      "MonitoringBackupStale",
      `time() - max by (app) (${BACKUP_METRICS.lastSuccess}{app="${app}",kind="monitoring"}) > 2 * 86400 or max by (app) (${BACKUP_METRICS.lastStatus}{app="${app}",kind="monitoring"}) == 0 unless on (app) max by (app) (${BACKUP_METRICS.lastSuccess}{app="${app}",kind="monitoring"})`,
      0,
      "warning",
      "the daily backup of Prometheus' and Grafana's data has not succeeded for more than 2 days, or has never succeeded",
      undefined,
      {
        ...condition(selector(BACKUP_METRICS.lastSuccess, { ...backup, kind: "monitoring" }), { app }, (m, at) => gauge(at * 60 - 3 * 86400, m), (m, at) => gauge(at * 60 - 86400, m)),
        quiet: (m, at) => [
          [{ series: selector(BACKUP_METRICS.lastSuccess, { ...backup, kind: "monitoring" }), values: gauge(at * 60 - 86400, m) }],
          // One failed night after a success: the next night's run may succeed.
          [
            { series: selector(BACKUP_METRICS.lastSuccess, { ...backup, kind: "monitoring" }), values: gauge(at * 60 - 30 * 3600, m) },
            { series: selector(BACKUP_METRICS.lastStatus, { ...backup, kind: "monitoring" }), values: gauge(0, m) },
          ],
        ],
      },
    ),
    rule("platform", "BackupFinished", `time() - max by (app, kind) (${BACKUP_METRICS.lastSuccess}{app="${app}"}) < 900`, 0, "info", "a backup finished", undefined,
      condition(lastSuccess, { app, kind: "database" }, (m, at) => gauge(at * 60, m), (m, at) => gauge(at * 60 - 3600, m))),
  );
  // The weekly image scan (maintenance `image-scan` job): no series before its first run, so no rule fires then.
  const image = `registry.example/${app}-backend:1.0.0`;
  const scanned = { app, image, instance: node.instance, job: JOBS.node, severity: "CRITICAL" };
  rules.push(
    rule("platform", "ImageVulnerabilitiesCritical", `max by (app, image) (${IMAGE_SCAN_METRICS.vulnerabilities}{app="${app}",severity="CRITICAL"}) > 0`, 0, "warning", "an image the app runs has CRITICAL vulnerabilities (weekly trivy scan)", undefined,
      condition(selector(IMAGE_SCAN_METRICS.vulnerabilities, scanned), { image }, (m) => gauge(2, m), (m) => gauge(0, m))),
    rule("platform", "ImageScanStale", `time() - max by (app) (${IMAGE_SCAN_METRICS.lastSuccess}{app="${app}"}) > 8 * 86400`, 0, "warning", "the weekly image scan has not covered every image for more than 8 days", undefined,
      condition(selector(IMAGE_SCAN_METRICS.lastSuccess, { app, instance: node.instance, job: JOBS.node }), {}, (m, at) => gauge(at * 60 - 9 * 86400, m), (m, at) => gauge(at * 60 - 7 * 86400, m))),
    // An image trivy could not scan this week: its counts above are last week's (imageScan.ts keeps them).
    rule("platform", "ImageScanFailed", `max by (app, image) (${IMAGE_SCAN_METRICS.scanFailed}{app="${app}"}) == 1`, 0, "warning", "the weekly image scan could not scan an image the app runs; its vulnerability counts are from its last scan", undefined,
      condition(selector(IMAGE_SCAN_METRICS.scanFailed, { app, image, instance: node.instance, job: JOBS.node }), { image }, (m) => gauge(1, m), (m) => gauge(0, m))),
  );
  const disk = { device: "/dev/sda1", fstype: "ext4", instance: node.instance, job: JOBS.node, mountpoint: "/" };
  rules.push(
    rule("platform", "DiskFillingUp", `predict_linear(node_filesystem_avail_bytes{job="${JOBS.node}",fstype!~"tmpfs|overlay|squashfs|nsfs|ramfs|fuse.lxcfs"}[6h], 24 * 3600) < 0`, 60, "warning", "a disk is predicted to fill within 24 hours", undefined,
      condition(selector("node_filesystem_avail_bytes", disk), disk, (m) => `10000000000-10000000x${m}`, (m) => gauge(1e10, m), 1)),
  );
  if (spec.tls) {
    const cert = { instance: "https://proxy:443/health", job: JOBS.health };
    const expiry = `min by (instance) (probe_ssl_earliest_cert_expiry{job="${JOBS.health}"}) - time()`;
    rules.push(
      rule("platform", "CertificateExpiringSoon", `${expiry} < 20 * 86400`, 10, "warning", "the proxy's certificate expires in less than 20 days", undefined,
        condition(selector("probe_ssl_earliest_cert_expiry", cert), { instance: cert.instance }, (m) => gauge(19 * 86400, m), (m) => gauge(21 * 86400, m))),
      rule("platform", "CertificateExpiringCritical", `${expiry} < 3 * 86400`, 10, "critical", "the proxy's certificate expires in less than 3 days", undefined,
        condition(selector("probe_ssl_earliest_cert_expiry", cert), { instance: cert.instance }, (m) => gauge(2 * 86400, m), (m) => gauge(4 * 86400, m))),
    );
  }
  if (spec.postgres) {
    const pg = { instance: "postgres-exporter:9187", job: JOBS.postgres };
    rules.push(rule("platform", "DatabaseDown", `pg_up{job="${JOBS.postgres}"} == 0`, 1, "critical", "PostgreSQL is unreachable", undefined, condition(selector("pg_up", pg), pg, (m) => gauge(0, m), (m) => gauge(1, m))));
    if ((spec.readReplicas ?? 0) > 0) rules.push(...replicaRules(spec, rule));
  }
  if (spec.pooler) {
    // "Database connection pool exhaustion" (runbook 004's metrics to watch; runbook 002's "connection pool
    // usage"): clients queued in PgBouncer for a server connection, the oldest for a second or more, five
    // minutes on end (a burst that drains within the second is not one).
    const pool = { database: "app", instance: "pgbouncer-exporter:9127", job: JOBS.pgbouncer, user: "app_a" };
    const waiting = selector("pgbouncer_pools_client_waiting_connections", pool);
    const maxwait = selector("pgbouncer_pools_client_maxwait_seconds", pool);
    const exhausted = (clients: number, seconds: number, m: number): InputSeries[] => [
      { series: waiting, values: gauge(clients, m) },
      { series: maxwait, values: gauge(seconds, m) },
    ];
    rules.push(
      rule("platform", "DatabasePoolExhausted",
        `sum by (database) (pgbouncer_pools_client_waiting_connections{job="${JOBS.pgbouncer}"}) > 0 and max by (database) (pgbouncer_pools_client_maxwait_seconds{job="${JOBS.pgbouncer}"}) >= 1`,
        5, "warning", "clients have waited for a pooled database connection for 5 minutes (the pool is exhausted)", spec.alerts.dbConnections?.procedure, {
          firing: (m) => ({ series: exhausted(12, 30, m), labels: { database: pool.database }, lag: 0 }),
          justPast: (m) => ({ series: exhausted(1, 1, m), labels: { database: pool.database } }),
          // Clients that queue but are served within the second, and an idle pool.
          quiet: (m) => [exhausted(8, 0, m), exhausted(0, 0, m)],
          settle: 0,
        }),
    );
    const exporter = { instance: "pgbouncer-exporter:9127", job: JOBS.pgbouncer };
    rules.push(rule("platform", "PoolerDown", `pgbouncer_up{job="${JOBS.pgbouncer}"} == 0`, 5, "warning", "PgBouncer does not answer its exporter", undefined, condition(selector("pgbouncer_up", exporter), exporter, (m) => gauge(0, m), (m) => gauge(1, m))));
  }
  if (spec.cache) {
    const redis = { instance: "redis-exporter:9121", job: JOBS.redis };
    rules.push(rule("platform", "RedisDown", `redis_up{job="${JOBS.redis}"} == 0`, 2, "warning", "Redis is unreachable", undefined, condition(selector("redis_up", redis), redis, (m) => gauge(0, m), (m) => gauge(1, m))));
  }

  // Third-party services the runbook checks: unreachable (no answer, or not the answer counted as up) for the duration.
  for (const e of spec.externalProbes ?? []) {
    const series = { [DEPENDENCY_LABEL]: e.name, instance: e.url, job: externalJob(e.name) };
    const alert = `${e.name.charAt(0).toUpperCase()}${e.name.slice(1)}Unreachable`;
    rules.push(
      rule("platform", alert, `probe_success{job="${externalJob(e.name)}",${DEPENDENCY_LABEL}="${e.name}"} == 0`, e.forMinutes, e.severity, `${e.displayName} does not answer the probe from the host`, e.procedure,
        condition(selector("probe_success", series), { instance: e.url, job: series.job }, (m) => gauge(0, m), (m) => gauge(1, m)), { [DEPENDENCY_LABEL]: e.name }),
    );
  }

  // Network connectivity (Handwork "System Metrics"): with two or more services probed, none answering
  // means the host's outbound network is down, not a third party; as severe as the most severe probe.
  const probes = spec.externalProbes ?? [];
  if (probes.length >= 2) {
    const probe = (e: (typeof probes)[number], up: number, m: number): InputSeries => ({ series: selector("probe_success", { [DEPENDENCY_LABEL]: e.name, instance: e.url, job: externalJob(e.name) }), values: gauge(up, m) });
    const severity = (["critical", "warning", "info"] as const).find((level) => probes.some((e) => e.severity === level))!;
    rules.push(
      rule("platform", "OutboundNetworkDown", `max(probe_success{job=~"${externalJob("")}.+"}) == 0`, Math.min(...probes.map((e) => e.forMinutes)), severity, "no third-party service answers the probe from the host: its outbound network is down", undefined, {
        firing: (m) => ({ series: probes.map((e) => probe(e, 0, m)), labels: {}, lag: 0 }),
        justPast: (m) => ({ series: probes.map((e) => probe(e, 0, m)), labels: {} }),
        // One service down while another answers is that service's outage, not the network's.
        quiet: (m) => [probes.map((e, i) => probe(e, i === 0 ? 0 : 1, m)), probes.map((e, i) => probe(e, i === 0 ? 1 : 0, m))],
        settle: 0,
      }),
    );
  }

  // Availability objective: multi-window, multi-burn-rate (the SRE workbook's 1h/5m at 14.4x and 6h/30m at 6x).
  const budget = (100 - spec.slo.availabilityPercent) / 100;
  const ratio = (window: string) =>
    `sum(rate(${PROXY_METRICS.requests}{job="${JOBS.proxyLog}",status=~"5.."}[${window}])) / sum(rate(${PROXY_METRICS.requests}{job="${JOBS.proxyLog}"}[${window}]))`;
  const guard = `sum(increase(${PROXY_METRICS.requests}{job="${JOBS.proxyLog}"}[1h])) >= ${spec.slo.minRequestsPerHour}`;
  const ok = selector(PROXY_METRICS.requests, { job: JOBS.proxyLog, method: "GET", status: "200" });
  const failed = selector(PROXY_METRICS.requests, { job: JOBS.proxyLog, method: "GET", status: "503" });
  for (const [alert, long, short, factor, forMinutes] of [
    ["AvailabilityBudgetBurnFast", "1h", "5m", 14.4, 2],
    ["AvailabilityBudgetBurnSlow", "6h", "30m", 6, 15],
  ] as const) {
    const limit = num(factor * budget);
    // Enough traffic to pass the guard within the first minute (a counter from 0 is not extrapolated back).
    const perMinute = Math.max(600, 2 * spec.slo.minRequestsPerHour);
    const share = (errorShare: number, m: number): InputSeries[] => [
      { series: ok, values: counter(perMinute * (1 - errorShare), m) },
      { series: failed, values: counter(perMinute * errorShare, m) },
    ];
    rules.push(
      rule("slo", alert, `${ratio(long)} > ${limit} and ${ratio(short)} > ${limit} and ${guard}`, forMinutes, "critical", `the error budget of ${spec.slo.availabilityPercent}% availability burns ${factor}x too fast (${long} and ${short})`, undefined, {
        firing: (m) => ({ series: share(1, m), labels: {}, lag: 1 }),
        justPast: (m) => ({ series: share(factor * budget * 1.02, m), labels: {} }),
        quiet: (m, at) => [
          share(factor * budget * 0.98, m),
          // A quiet app: the hour's only two requests both failed. The guard keeps it from paging.
          [
            { series: ok, values: gauge(0, m) },
            { series: failed, values: `0+0x${at - 2} 1 2+0x${m - at}` },
          ],
        ],
        settle: 1,
      }, { slo: "availability" }),
    );
  }
  return rules;
}

/** The rules file Prometheus loads: one group per kind. */
export function renderAlertRules(spec: AlertRulesSpec): string {
  const rules = alertRules(spec);
  const groups = (["runbook", "platform", "slo"] as const).map((group) => ({
    name: `${spec.app}-${group}`,
    rules: rules
      .filter((r) => r.group === group)
      .map((r) => ({ alert: r.alert, expr: r.expr, ...(r.forMinutes > 0 && { for: `${r.forMinutes}m` }), labels: r.labels, annotations: r.annotations })),
  }));
  return `# Alert rules of ${spec.app}: rendered by runbook-as-code from its runbook's thresholds, do not edit by hand.\n${stringify({ groups: groups.filter((g) => g.rules.length > 0) }, { lineWidth: 0 })}`;
}
