/**
 * The monitoring renderers as pure functions, for every app of the committed stacks: each runbook
 * threshold becomes one rule with its duration, severity and procedure; probes reach every health
 * endpoint through the proxy every 30 s or faster; the routing sends each severity to its receiver;
 * the dashboards name the provisioned data source. Real tools check the same texts in test/tools.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { catalog } from "../../apps";
import { proxyNginxSpec, renderNginxConfig } from "../../components/app/nginxConfig";
import { alertRules, renderAlertRules } from "../../components/monitoring/alertRules";
import { RECEIVERS, renderAlertmanagerConfig, renderBootstrapAlertmanagerConfig } from "../../components/monitoring/alertmanagerConfig";
import { backendLogProblems, databaseErrorMetric, renderBackendLogProgram } from "../../components/monitoring/backendLogProgram";
import { renderBlackboxConfig } from "../../components/monitoring/blackboxConfig";
import { dashboardJson, DATASOURCE_UID, grafanaDashboards, renderGrafanaDashboardProvider, renderGrafanaDatasources } from "../../components/monitoring/grafanaProvisioning";
import { renderPrometheusConfig } from "../../components/monitoring/prometheusConfig";
import { histogramBuckets, PROXY_LOG_FORMAT, renderProxyLogExporterConfig } from "../../components/monitoring/proxyLogExporterConfig";
import { ruleTestCases } from "../../components/monitoring/ruleTests";
import { SIGNAL_MODELS } from "../../components/monitoring/signalModels";
import { ALERT_SIGNAL_NAMES, ALERT_SIGNALS, SIGNAL_LABEL } from "../../policies/monitoring/signals";
import { ROOT, stackSpec } from "../helpers";
import { alertRulesSpec as rulesSpecOf, blackboxSpec as blackboxSpecOf, grafanaSpec as grafanaSpecOf, prometheusSpec as prometheusSpecOf } from "../../components/monitoring/specs";

const apps = ["prod", "staging"].flatMap((stack) => stackSpec(stack).apps.map((app) => [`${stack}/${app.id}`, app] as const));

describe.each(apps)("monitoring of %s", (_name, app) => {
  const monitoring = app.monitoring!;

  it("has one rule per alert threshold, firing above it after its duration, with its severity, signal and procedure", () => {
    const rules = alertRules(rulesSpecOf(app));
    for (const [signal, t] of Object.entries(monitoring.alerts)) {
      const rule = rules.filter((r) => r.labels[SIGNAL_LABEL] === signal);
      expect(rule, signal).toHaveLength(1);
      expect(rule[0]!.expr.endsWith(` > ${t!.threshold}`), rule[0]!.expr).toBe(true);
      expect(rule[0]!.expr).toContain(ALERT_SIGNALS[signal as keyof typeof ALERT_SIGNALS].metric);
      expect(rule[0]!.forMinutes).toBe(t!.forMinutes);
      expect(rule[0]!.labels).toMatchObject({ app: app.id, severity: t!.severity });
      expect(rule[0]!.annotations["description"]).toBe(
        t!.procedure
          ? `Follow runbook ${app.runbook.slice(0, 3)} '${t!.procedure}'; what to check first: docs/operations.md#${app.id}.`
          : `Runbook ${app.runbook.slice(0, 3)} names no procedure for this alert; what to do: docs/operations.md#${app.id}.`,
      );
      expect(rule[0]!.annotations["runbook_url"]).toBe(`docs/operations.md#${app.id}`);
    }
  });

  it("gives every app the rules every app gets, and certificate rules where the proxy has one", () => {
    const names = alertRules(rulesSpecOf(app)).map((r) => r.alert);
    for (const name of ["TargetDown", "HealthProbeFailing", "ContainerUnhealthy", "ContainerRestarting", "BackupTooOld", "BackupVerificationFailed", "DiskFillingUp", "DiskUsageCritical", "AvailabilityBudgetBurnFast", "AvailabilityBudgetBurnSlow"]) {
      expect(names, name).toContain(name);
    }
    expect(names.includes("CertificateExpiringSoon") && names.includes("CertificateExpiringCritical")).toBe(app.proxy.tls !== undefined);
    expect(names.includes("DatabaseDown")).toBe(app.database.engine === "postgres");
    expect(new Set(names).size).toBe(names.length);
  });

  it("renders the rules as YAML Prometheus reads back unchanged", () => {
    const doc = parse(renderAlertRules(rulesSpecOf(app))) as { groups: { name: string; rules: { alert: string; expr: string; for?: string }[] }[] };
    const rules = doc.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => [r.alert, r.expr, r.for ?? "0m"])).toEqual(alertRules(rulesSpecOf(app)).map((r) => [r.alert, r.expr, `${r.forMinutes}m`]));
  });

  it("generates for every rule a test that fires, a test that stays quiet, and one before the duration where it has one", () => {
    const rules = alertRules(rulesSpecOf(app));
    const cases = ruleTestCases(rulesSpecOf(app));
    for (const r of rules) {
      const mine = cases.filter((c) => c.alert === r.alert);
      expect(mine.filter((c) => c.kind === "fires"), r.alert).toHaveLength(1);
      expect(mine.filter((c) => c.kind === "quiet").length, r.alert).toBeGreaterThanOrEqual(1);
      expect(mine.filter((c) => c.kind === "before-duration"), r.alert).toHaveLength(r.forMinutes > 0 ? 1 : 0);
    }
  });

  it("probes each external service the stack gives a URL for: its own blackbox module, a scrape job labelled with it, and an alert when it fails", () => {
    const probes = monitoring.externalProbes;
    // The committed stacks give every service the runbooks check a URL: the checks below are never vacuous there.
    expect(probes.map((p) => p.name)).toEqual((catalog[app.id]!.externalServices ?? []).map((e) => e.name));
    type Module = { prober: string; timeout: string; http: { method: string; fail_if_not_ssl?: boolean; follow_redirects: boolean; tls_config?: { insecure_skip_verify: boolean }; valid_status_codes?: number[] } };
    const modules = (parse(renderBlackboxConfig(blackboxSpecOf(app))) as { modules: Record<string, Module> }).modules;
    type Job = { job_name: string; metrics_path?: string; params?: { module: string[] }; scrape_interval?: string; static_configs: { targets: string[]; labels?: Record<string, string> }[]; relabel_configs: { replacement?: string }[] };
    const jobs = (parse(renderPrometheusConfig(prometheusSpecOf(app))) as { scrape_configs: Job[] }).scrape_configs;
    const rules = alertRules(rulesSpecOf(app));
    expect(Object.keys(modules).filter((m) => m.startsWith("external_"))).toEqual(probes.map((p) => `external_${p.name}`));
    expect(jobs.filter((j) => j.job_name.startsWith("external-")).map((j) => j.job_name)).toEqual(probes.map((p) => `external-${p.name}`));
    for (const p of probes) {
      const m = modules[`external_${p.name}`]!;
      expect(m, p.name).toMatchObject({ prober: "http", timeout: `${p.timeoutSeconds}s`, http: { method: "GET", fail_if_not_ssl: true, follow_redirects: false, tls_config: { insecure_skip_verify: false } } });
      if (p.expect === "2xx") expect(m.http.valid_status_codes, p.name).toBeUndefined();
      else expect(m.http.valid_status_codes, p.name).toEqual(Array.from({ length: 400 }, (_, i) => 200 + i));
      const job = jobs.find((j) => j.job_name === `external-${p.name}`)!;
      expect(job).toMatchObject({ metrics_path: "/probe", params: { module: [`external_${p.name}`] }, scrape_interval: "30s", static_configs: [{ targets: [p.url], labels: { dependency: p.name } }] });
      expect(job.relabel_configs.at(-1)!.replacement).toBe("blackbox:9115");
      const rule = rules.filter((r) => r.labels["dependency"] === p.name);
      expect(rule, p.name).toHaveLength(1);
      expect(rule[0]!.expr).toBe(`probe_success{job="external-${p.name}",dependency="${p.name}"} == 0`);
      expect(rule[0]!.forMinutes).toBe(p.forMinutes);
      expect(rule[0]!.labels).toMatchObject({ app: app.id, severity: p.severity });
    }
  });

  it("probes every health endpoint through the proxy at least every 30 s, and scrapes the backend only where it has metrics", () => {
    const config = parse(renderPrometheusConfig(prometheusSpecOf(app))) as { scrape_configs: { job_name: string; scrape_interval?: string; static_configs?: { targets: string[] }[]; dns_sd_configs?: unknown[]; metrics_path?: string }[] };
    const health = config.scrape_configs.find((j) => j.job_name === "health")!;
    expect(parseInt(health.scrape_interval!, 10)).toBeLessThanOrEqual(30);
    const scheme = app.proxy.tls ? "https://proxy:443" : "http://proxy:80";
    expect(health.static_configs![0]!.targets).toEqual(app.proxy.healthEndpoints.map((p) => `${scheme}${p}`));
    const backend = config.scrape_configs.find((j) => j.job_name === "backend");
    expect(Boolean(backend)).toBe(app.backend.metricsPath !== undefined);
    if (backend) expect(backend).toMatchObject({ metrics_path: app.backend.metricsPath, dns_sd_configs: [{ names: ["backend"], type: "A", port: app.backend.port }] });
    const jobs = config.scrape_configs.map((j) => j.job_name);
    expect(jobs.includes("postgres")).toBe(app.database.engine === "postgres");
    expect(jobs.includes("redis")).toBe(app.cache !== undefined);
  });

  it("probes as the public host name, over TLS verified for it where the proxy has a certificate", () => {
    const blackbox = parse(renderBlackboxConfig({ publicHost: app.publicHost, tls: app.proxy.tls !== undefined, timeoutSeconds: 10 })) as { modules: Record<string, { http: Record<string, unknown> }> };
    const http = Object.values(blackbox.modules)[0]!.http;
    expect(http["headers"]).toEqual({ Host: app.publicHost });
    expect(http["tls_config"]).toEqual(app.proxy.tls ? { server_name: app.publicHost, insecure_skip_verify: false } : undefined);
    expect(http["follow_redirects"]).toBe(false);
  });

  it("sends the proxy's request log to the exporter in the format it parses, health probes left out", () => {
    const nginx = renderNginxConfig(proxyNginxSpec(app, { backends: ["b0"], frontends: ["f0"] }));
    expect(nginx).toContain(`log_format runbook_metrics "${PROXY_LOG_FORMAT.replace(/"/g, '\\"')}";`);
    expect(nginx).toContain("access_log syslog:server=127.0.0.1:5531,tag=proxy,nohostname runbook_metrics if=$metrics_loggable;");
    for (const endpoint of app.proxy.healthEndpoints.filter((p) => app.proxy.routes.some((r) => r.service === "backend" && p.startsWith(r.path)))) {
      expect(nginx).toMatch(new RegExp(`location = ${endpoint.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} \\{[^}]*set \\$metrics_loggable 0;`));
    }
    expect(nginx).toMatch(/location = \/nginx-status \{\n\s+access_log off;\n\s+allow 127\.0\.0\.1;\n\s+deny all;\n\s+stub_status;/);
    const exporter = parse(renderProxyLogExporterConfig([])) as { namespaces: { format: string; source: { syslog: { listen_address: string } } }[] };
    expect(exporter.namespaces[0]!.format).toBe(PROXY_LOG_FORMAT);
    expect(exporter.namespaces[0]!.source.syslog.listen_address).toBe("udp://127.0.0.1:5531");
  });

  it("provisions the data source by uid, dashboards that cannot be edited in the UI, and draws the app's thresholds", () => {
    const g = grafanaSpecOf(app);
    const ds = parse(renderGrafanaDatasources(g)) as { datasources: { uid: string; url: string; editable: boolean }[] };
    expect(ds.datasources).toMatchObject([{ uid: DATASOURCE_UID, url: "http://prometheus:9090", editable: false }]);
    expect(parse(renderGrafanaDashboardProvider(app.displayName))).toMatchObject({ providers: [{ allowUiUpdates: false, disableDeletion: true }] });
    const dashboards = grafanaDashboards(g).map((d) => JSON.parse(dashboardJson(g, d)) as { uid: string; editable: boolean; panels: { datasource: { uid: string }; targets: { datasource: { uid: string } }[]; fieldConfig: { defaults: { thresholds: { steps: { value: number | null }[] } } } }[] });
    expect(dashboards.map((d) => d.uid)).toEqual(["system", "api", "backups"]);
    for (const d of dashboards) {
      expect(d.editable).toBe(false);
      for (const p of d.panels) {
        expect(p.datasource.uid).toBe(DATASOURCE_UID);
        for (const t of p.targets) expect(t.datasource.uid).toBe(DATASOURCE_UID);
      }
    }
    const drawn = dashboards.flatMap((d) => d.panels.flatMap((p) => p.fieldConfig.defaults.thresholds.steps.map((s) => s.value)));
    for (const signal of ["cpu", "memory", "disk", "errorRate", "latencyAverage", "latencyP95", "backupAge"] as const) {
      if (monitoring.alerts[signal]) expect(drawn, signal).toContain(monitoring.alerts[signal]!.threshold);
    }
  });
});

describe("alert routing", () => {
  const receivers = { critical: { webhookUrl: "https://pager.example.com/hook" }, warning: { slackWebhookUrl: "https://hooks.slack.com/services/T/B/C" }, info: { email: "ops@example.com" } };
  const smtp = { smarthost: "smtp.example.com:587", from: "alerts@example.com", password: "smtp-password" };

  it("routes each severity to its receiver and inhibits warnings and info by a critical of the same app", () => {
    const config = parse(renderAlertmanagerConfig({ app: "lms", receivers, smtp })) as { route: { routes: { matchers: string[]; receiver: string }[] }; inhibit_rules: unknown[]; receivers: { name: string }[] };
    expect(config.route.routes.map((r) => [r.matchers, r.receiver])).toEqual([
      [['severity="critical"'], RECEIVERS.critical],
      [['severity="warning"'], RECEIVERS.warning],
      [['severity="info"'], RECEIVERS.info],
    ]);
    expect(config.inhibit_rules).toEqual([{ source_matchers: ['severity="critical"'], target_matchers: ['severity=~"warning|info"'], equal: ["app"] }]);
    expect(config.receivers.map((r) => r.name)).toEqual(["on-call", "chat", "low-priority"]);
  });

  it("keeps receivers' secrets out of the bootstrap config and refuses e-mail without SMTP", () => {
    const bootstrap = renderBootstrapAlertmanagerConfig("lms");
    for (const secret of ["pager.example.com", "hooks.slack.com", "ops@example.com", "smtp-password"]) expect(bootstrap).not.toContain(secret);
    expect(() => renderAlertmanagerConfig({ app: "lms", receivers })).toThrow("`smtp` must be given when a receiver sends e-mail");
  });
});

describe("signal models", () => {
  it.each(ALERT_SIGNAL_NAMES)("%s reads the metric the policies check for", (signal) => {
    expect(SIGNAL_MODELS[signal].value("app")).toContain(ALERT_SIGNALS[signal].metric);
  });

  it("buckets response times at every latency threshold, so a percentile is exact at the threshold", () => {
    expect(histogramBuckets([2, 3, 0.75])).toEqual([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2, 2.5, 3, 5, 10]);
  });
});

describe("the catalog's alert thresholds", () => {
  it.each(Object.values(catalog).filter((a) => a.requirements.alerts).map((a) => [a.id, a] as const))("%s: every procedure it names is a section of its runbook", (_id, app) => {
    const headings = fs
      .readFileSync(path.join(ROOT, "..", "shared", "runbooks", app.runbook), "utf8")
      .split("\n")
      .filter((l) => /^#{1,6} /.test(l))
      .map((l) => l.replace(/^#+ /, "").trim());
    for (const [signal, rule] of Object.entries(app.requirements.alerts!)) {
      if (rule!.value.procedure) expect(headings, `${app.id} ${signal}`).toContain(rule!.value.procedure);
    }
  });
});

describe("docs/operations.md, where every alert's summary sends the operator", () => {
  const doc = fs.readFileSync(path.join(ROOT, "docs/operations.md"), "utf8");
  const section = (heading: string) => doc.split(/^## /m).find((s) => s.startsWith(`${heading}\n`)) ?? "";

  it.each(apps)("%s: has the app's section, and documents each of its alerts there or among those every app gets", (_name, app) => {
    expect(section(app.id), `## ${app.id}`).not.toBe("");
    const common = section("Alerts every app gets");
    for (const rule of alertRules(rulesSpecOf(app))) {
      const documented = common.includes(`| \`${rule.alert}\` |`) || section(app.id).includes(`| \`${rule.alert}\` |`);
      expect(documented, `${app.id} ${rule.alert}`).toBe(true);
    }
  });
});

describe("the backend log program (mtail), rendered from the catalog's patterns", () => {
  const log = catalog["handwork"]!.backendLogMetrics!;

  it("declares one counter per pattern, exports no label and captures nothing from a line", () => {
    const program = renderBackendLogProgram(log, "handwork");
    const counters = [...program.matchAll(/^counter (\S+)$/gm)].map((m) => m[1]);
    expect(counters).toEqual([
      "backend_log_lines_total",
      "backend_log_continuation_lines_total",
      "backend_log_error_lines_total",
      "backend_log_auth_failed_lines_total",
      "backend_log_payment_lines_total",
      "backend_log_payment_failed_lines_total",
      "backend_log_payment_succeeded_lines_total",
      ...log.database!.map((d) => databaseErrorMetric(d.name)),
    ]);
    expect(databaseErrorMetric("poolExhausted")).toBe("backend_log_database_pool_exhausted_lines_total");
    // No `by` (labels), no capture reference ($1, $name) in a statement: a line's text never becomes a label or a value.
    const statements = program.split("\n").filter((l) => !l.trimStart().startsWith("#"));
    expect(statements.join("\n")).not.toMatch(/\bby\b|\$\d|\$[a-z]/);
    // The runbook's greps, case as the runbook has them: `grep -i` for payments, `grep -E` for errors.
    expect(program).toContain("/(?i)payment|stripe|paypal/ {");
    expect(program).toContain("/error|exception|timeout/ {");
    expect(program).toContain("/(?i)authentication failed/ {");
  });

  it.each<[string, (l: typeof log) => typeof log, string]>([
    ["an anchored pattern", (l) => ({ ...l, errors: { ...l.errors!, pattern: "^ERROR" } }), "errors.pattern must not be anchored: it matches inside the JSON line Docker writes"],
    ["a pattern that matches a quote", (l) => ({ ...l, errors: { ...l.errors!, pattern: 'level="error"' } }), "errors.pattern must not match a quote or a backslash: JSON escapes them in the stored line"],
    ["flags inside the pattern", (l) => ({ ...l, errors: { ...l.errors!, pattern: "(?i)error" } }), "errors.pattern must not set flags: use ignoreCase"],
    ["a threshold of 100 %", (l) => ({ ...l, payments: { ...l.payments!, errorRate: { ...l.payments!.errorRate, thresholdPercent: 100 } } }), "payments.errorRate.thresholdPercent must be above 0 and below 100 (got 100)"],
    ["a database name that is no metric name", (l) => ({ ...l, database: [{ ...l.database![0]!, name: "pool-exhausted" }] }), 'database[0].name must be lower camel case letters and digits (got "pool-exhausted")'],
    ["a database error named twice", (l) => ({ ...l, database: [l.database![0]!, l.database![0]!] }), "database[1].name poolExhausted is given twice"],
  ])("refuses %s, naming the key", (_label, change, message) => {
    expect(backendLogProblems(change(log))).toEqual([message]);
    expect(() => renderBackendLogProgram(change(log), "handwork")).toThrow(`\`backendLogMetrics\` of handwork: ${message}`);
  });

  it("accepts Handwork's patterns as they are", () => {
    expect(backendLogProblems(log)).toEqual([]);
  });
});
