/**
 * The monitoring policies as plain functions: a compliant app, then one field broken per case, with
 * the exact message; the external probes against a Prometheus given the real renderers' files. And the whole program: a prod stack that loosens FDTS's error-rate threshold to
 * 20 % is refused, naming the app and the runbook line.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { renderAlertmanagerConfig } from "../../components/monitoring/alertmanagerConfig";
import { renderAlertRules } from "../../components/monitoring/alertRules";
import { renderPrometheusConfig } from "../../components/monitoring/prometheusConfig";
import { alertRulesSpec, prometheusSpec } from "../../components/monitoring/specs";
import { stackSpec } from "../helpers";
import { monitoringPolicies } from "../../policies/monitoring";
import type { AppRequirementsEntry, RequirementsData } from "../../policies/runbook";
import type { PlanDocument } from "../../plan/report";
import { ROOT, runPlanCli } from "../helpers";
import { CONTAINER, check, checkStack, stack } from "./harness";

const CMD = "command:remote:Command";
const src = (section: string, line: number) => ({ section, line, quote: "q" });
const entry: AppRequirementsEntry = {
  displayName: "Demo",
  runbook: "009_demo.txt",
  secretEnv: [],
  requirements: {
    alerts: {
      errorRate: { value: { threshold: 10, forMinutes: 5, severity: "critical" }, source: src("High Error Rate Alert", 307) },
      backupAge: { value: { threshold: 48, forMinutes: 0, severity: "critical" }, source: src("Backup Failure Alert", 360) },
    },
  },
};
const data: RequirementsData = { demo: entry };
const policies = Object.fromEntries(monitoringPolicies(data).map((p) => [p.name, p]));

const labels = (service: string, env: string, role = "monitoring") => [
  { label: "runbook.app", value: "demo" },
  { label: "runbook.environment", value: env },
  { label: "runbook.role", value: role },
  { label: "runbook.service", value: service },
];
const ERRORS = '100 * sum(rate(proxy_http_response_count_total{status=~"5.."}[5m])) / sum(rate(proxy_http_response_count_total[5m]))';
const BACKUP = "(time() - max by (app, kind) (runbook_backup_last_success_timestamp_seconds{app=\"demo\"})) / 3600";
type PromRule = { alert: string; expr: string; for?: string; labels: Record<string, string> };
const RULES: PromRule[] = [
  { alert: "HighErrorRate", expr: `${ERRORS} > 10`, for: "5m", labels: { app: "demo", severity: "critical", signal: "errorRate" } },
  { alert: "BackupTooOld", expr: `${BACKUP} > 48`, labels: { app: "demo", severity: "critical", signal: "backupAge" } },
];
const amConfig = (critical: Record<string, string>) =>
  renderAlertmanagerConfig({ app: "demo", receivers: { critical, warning: {}, info: {} } });

type Entry = Parameters<typeof stack>[0][number];
function demo(change: (rules: PromRule[], e: Record<string, Entry>) => void = () => undefined, env = "prod"): PolicyResource[] {
  const rules = structuredClone(RULES);
  const e: Record<string, Entry> = {
    "demo-backend-0": { name: "", type: CONTAINER, parent: "demo", props: { labels: [{ label: "runbook.app", value: "demo" }, { label: "runbook.environment", value: env }, { label: "runbook.service", value: "backend" }] } },
    "demo-monitoring-prometheus": { name: "", type: CONTAINER, parent: "demo-monitoring", props: { labels: labels("monitoring:prometheus", env, "admin"), ports: [{ internal: 9090, external: 9090, ip: "127.0.0.1" }] } },
    "demo-monitoring-alertmanager-config": { name: "", type: CMD, parent: "demo-monitoring", props: { stdin: amConfig({ slackWebhookUrl: "https://hooks.slack.com/services/T/B/C" }) } },
  };
  change(rules, e);
  const prometheus = e["demo-monitoring-prometheus"];
  if (prometheus) (prometheus.props as Record<string, unknown>)["uploads"] = [{ file: "/etc/prometheus/rules/runbook.yml", content: stringify({ groups: [{ name: "demo", rules }] }) }];
  return stack([{ name: "demo", type: "runbook:app:AppStack" }, { name: "demo-monitoring", type: "runbook:monitoring:Monitoring" }, ...Object.entries(e).map(([name, x]) => ({ ...x, name }))]);
}

const runStack = (name: string, resources: PolicyResource[]) => checkStack(policies[name] as StackValidationPolicy, resources);
const errorRate = (rules: PromRule[]) => rules.find((r) => r.labels["signal"] === "errorRate")!;
const WANT = "an alert on requests answered with a 5xx above 10% within 5m, at critical or higher, is required in production (009 'High Error Rate Alert')";

describe("monitoring policies", () => {
  it.each(["monitoring-alerts-runbook-thresholds", "monitoring-routing-critical-receiver"])("%s accepts a compliant app", async (name) => {
    expect(await runStack(name, demo())).toEqual([]);
  });

  it.each<[string, (rules: PromRule[], e: Record<string, Entry>) => void, string[]]>([
    ["a threshold looser than the runbook's", (r) => (errorRate(r).expr = `${ERRORS} > 20`), [`demo: HighErrorRate fires only above 20%; ${WANT}`]],
    ["a longer duration", (r) => (errorRate(r).for = "10m"), [`demo: HighErrorRate waits 10m; ${WANT}`]],
    ["a lower severity", (r) => (errorRate(r).labels["severity"] = "warning"), [`demo: HighErrorRate is warning; ${WANT}`]],
    ["a rule that reads another metric", (r) => (errorRate(r).expr = "vector(0) > 10"), [`demo: HighErrorRate does not read proxy_http_response_count_total; ${WANT}`]],
    ["a rule with no threshold", (r) => (errorRate(r).expr = ERRORS), [`demo: HighErrorRate compares with no threshold (\`... > N\`); ${WANT}`]],
    ["no rule for the signal", (r) => r.splice(r.indexOf(errorRate(r)), 1), [`demo: no rule has the label signal="errorRate"; ${WANT}`]],
    ["no Prometheus", (_r, e) => delete e["demo-monitoring-prometheus"], [
      `demo: the app has no Prometheus (monitoring is off); ${WANT}`,
      "demo: the app has no Prometheus (monitoring is off); an alert on hours since the last successful backup above 48 h, at critical or higher, is required in production (009 'Backup Failure Alert')",
    ]],
  ])("monitoring-alerts-runbook-thresholds refuses %s, naming the app and the runbook line", async (_label, change, messages) => {
    expect(await runStack("monitoring-alerts-runbook-thresholds", demo(change))).toEqual(messages);
  });

  it("holds staging to nothing the runbook does not set for staging", async () => {
    expect(await runStack("monitoring-alerts-runbook-thresholds", demo((r) => (errorRate(r).expr = `${ERRORS} > 20`), "staging"))).toEqual([]);
  });

  it.each<[string, (e: Record<string, Entry>) => void, string[]]>([
    ["a critical receiver with no channel", (e) => (e["demo-monitoring-alertmanager-config"]!.props!["stdin"] = amConfig({})), [
      "demo: critical alerts go to receiver \"on-call\", which notifies nobody; give it a channel: pulumi config set --secret --path 'alerting.demo.critical.slackWebhookUrl' <url> (or .email, .webhookUrl).",
    ]],
    ["critical alerts caught by an earlier route to a silent receiver", (e) => {
      const config = amConfig({ webhookUrl: "https://pager.example.com" }).replace("  routes:\n", "  routes:\n    - matchers:\n        - app=\"demo\"\n      receiver: low-priority\n");
      e["demo-monitoring-alertmanager-config"]!.props!["stdin"] = config;
    }, [
      "demo: critical alerts go to receiver \"low-priority\", which notifies nobody; give it a channel: pulumi config set --secret --path 'alerting.demo.critical.slackWebhookUrl' <url> (or .email, .webhookUrl).",
    ]],
    ["an inhibition rule that can silence critical alerts", (e) => {
      e["demo-monitoring-alertmanager-config"]!.props!["stdin"] = amConfig({ webhookUrl: "https://pager.example.com" }).replace('target_matchers:\n      - severity=~"warning|info"', 'target_matchers:\n      - severity=~"critical|warning|info"');
    }, ["demo: an inhibition rule can silence critical alerts; only warnings and info may be inhibited."]],
    ["no Alertmanager", (e) => delete e["demo-monitoring-alertmanager-config"], ["demo: no Alertmanager routes its alerts (monitoring is off); production needs its critical alerts sent to someone."]],
  ])("monitoring-routing-critical-receiver refuses %s in production", async (_label, change, messages) => {
    const resources = demo((_r, e) => change(e));
    expect(await runStack("monitoring-routing-critical-receiver", resources)).toEqual(messages);
    // Staging is not held to it.
    expect(await runStack("monitoring-routing-critical-receiver", demo((_r, e) => change(e), "staging"))).toEqual([]);
  });

  it("never quotes the Alertmanager config (it holds the receivers' secrets)", async () => {
    const messages = await runStack("monitoring-routing-critical-receiver", demo((_r, e) => (e["demo-monitoring-alertmanager-config"]!.props!["stdin"] = "route: [unclosed\n# https://hooks.slack.com/services/SECRET")));
    expect(messages).toEqual(["demo: the Alertmanager config demo-monitoring-alertmanager-config delivers is not YAML."]);
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    ["a UI on 127.0.0.1", { ports: [{ internal: 3000, external: 3000, ip: "127.0.0.1" }] }, []],
    ["a UI on every address", { ports: [{ internal: 3000, external: 3000 }] }, ["Monitoring container grafana publishes port 3000 on every address; bind it to 127.0.0.1 and reach it through an ssh tunnel."]],
    ["an exporter on a public address", { ports: [{ internal: 9100, external: 9100, ip: "0.0.0.0" }] }, ["Monitoring container grafana publishes port 9100 on 0.0.0.0; bind it to 127.0.0.1 and reach it through an ssh tunnel."]],
  ])("monitoring-ui-loopback-only: %s", async (_label, props, messages) => {
    const policy = policies["monitoring-ui-loopback-only"] as ResourceValidationPolicy;
    expect(await check(policy, { name: "grafana", props: { labels: labels("monitoring:grafana", "prod", "admin"), ...props } })).toEqual(messages);
    // Only monitoring containers: the proxy publishes every address, as it should.
    expect(await check(policy, { name: "proxy", props: { labels: [{ label: "runbook.service", value: "proxy" }], ports: [{ internal: 80, external: 80 }] } })).toEqual([]);
  });
});

describe("monitoring-external-probes-runbook", () => {
  // Handwork's prod files as the program renders them, on a demo app that requires two services probed.
  const handwork = stackSpec("prod").apps.find((a) => a.id === "handwork")!;
  const probesEntry: AppRequirementsEntry = { ...entry, requirements: { externalProbes: { value: ["stripe", "paypal"], source: src("Service Health Checks", 80) } } };
  const policy = monitoringPolicies({ demo: probesEntry }).find((p) => p.name === "monitoring-external-probes-runbook") as StackValidationPolicy;
  const files = (change: { config?: (t: string) => string; rules?: (t: string) => string } = {}) => [
    { file: "/etc/prometheus/prometheus.yml", content: (change.config ?? ((t) => t))(renderPrometheusConfig(prometheusSpec(handwork))) },
    { file: "/etc/prometheus/rules/runbook.yml", content: (change.rules ?? ((t) => t))(renderAlertRules(alertRulesSpec(handwork))) },
  ];
  const withFiles = (uploads: unknown, env = "prod") => {
    const resources = demo(undefined, env);
    (resources.find((r) => r.name === "demo-monitoring-prometheus")!.props as Record<string, unknown>)["uploads"] = uploads;
    return resources;
  };
  const WANT_PAYPAL = "a blackbox probe of paypal (apps.demo.monitoring.externalProbes.paypal.url), with an alert when it fails, is required in production (009 'Service Health Checks')";

  it("accepts the files the program renders for a stack that gives every URL", async () => {
    expect(await checkStack(policy, withFiles(files()))).toEqual([]);
  });

  it.each<[string, { config?: (t: string) => string; rules?: (t: string) => string }, string]>([
    ["no scrape job probing the service", { config: (t) => t.replace(/ {2}- job_name: external-paypal[\s\S]*?(?= {2}- job_name: external-firebase)/, "") }, `demo: no scrape job probes paypal (dependency="paypal"); ${WANT_PAYPAL}`],
    ["a job whose series do not name the service", { config: (t) => t.replace("dependency: paypal", "dependency: other") }, `demo: no scrape job probes paypal (dependency="paypal"); ${WANT_PAYPAL}`],
    ["no alert rule for the service", { rules: (t) => t.replace("dependency: paypal", "dependency: other") }, `demo: no alert rule reads probe_success of paypal (label dependency="paypal"); ${WANT_PAYPAL}`],
  ])("refuses %s in production, naming the app, the setting and the runbook line", async (_label, change, message) => {
    expect(await checkStack(policy, withFiles(files(change)))).toEqual([message]);
    // Staging: no staging rule in the runbook, so this policy does not hold it (runbook-staging-parity advises).
    expect(await checkStack(policy, withFiles(files(change), "staging"))).toEqual([]);
  });

  it("refuses an app without Prometheus", async () => {
    expect(await checkStack(policy, demo((_r, e) => delete e["demo-monitoring-prometheus"]))).toEqual([
      "demo: the app has no Prometheus (monitoring is off); a probe of stripe, paypal, with an alert when it fails, is required in production (009 'Service Health Checks')",
    ]);
  });
});

describe("a prod stack that loosens FDTS's error-rate threshold to 20 %", () => {
  it("is refused by monitoring-alerts-runbook-thresholds, naming the app and the runbook line", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "loosened-"));
    const file = path.join(dir, "Pulumi.loosened.yaml");
    const text = fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8").replace(/( {4}fdts:\n)/, "$1      monitoring:\n        alerts:\n          errorRate:\n            threshold: 20\n");
    fs.writeFileSync(file, text);
    const res = runPlanCli(["--config-file", file, "--json"]);
    fs.rmSync(dir, { recursive: true, force: true });
    expect(res.status, res.stderr).toBe(1);
    const violations = (JSON.parse(res.stdout) as PlanDocument).violations;
    expect(violations.map((v) => [v.policy, v.enforcementLevel, v.message])).toEqual([
      [
        "monitoring-alerts-runbook-thresholds",
        "mandatory",
        "fdts: HighErrorRate fires only above 20%; an alert on requests answered with a 5xx above 10% within 5m, at critical or higher, is required in production (001 'High Error Rate Alert')",
      ],
    ]);
  });
});
