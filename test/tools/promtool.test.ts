/**
 * The real promtool (and the blackbox exporter's own config check) on what every app of the
 * committed stacks would ship: prometheus.yml with its rules, the rules themselves, the unit tests
 * generated from each app's runbook thresholds, and every Grafana panel's query.
 */
import { execFile, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { alertRules, REPLICA_LAG_BYTES, renderAlertRules, type AlertRulesSpec } from "../../components/monitoring/alertRules";
import { renderBlackboxConfig } from "../../components/monitoring/blackboxConfig";
import { dashboardJson, DATASOURCE_UID, grafanaDashboards } from "../../components/monitoring/grafanaProvisioning";
import { renderPrometheusConfig } from "../../components/monitoring/prometheusConfig";
import { renderRuleTests, ruleTestCases } from "../../components/monitoring/ruleTests";
import { alertRulesSpec, blackboxSpec, grafanaSpec, prometheusSpec } from "../../components/monitoring/specs";
import { stackSpec } from "../helpers";
import { requireTool, tempDir } from "./realTools";

const dir = tempDir("promtool");
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const apps = ["prod", "staging"].flatMap((stack) => stackSpec(stack).apps.map((app) => ({ name: `${stack}-${app.id}`, app })));

function promtool(args: string[]) {
  const res = spawnSync(requireTool("promtool"), args, { encoding: "utf8", cwd: dir });
  return { status: res.status, output: `${res.stdout}${res.stderr}` };
}

/** Runs promtool asynchronously: several test files at once on the CI's two cores. */
function promtoolAsync(args: string[]): Promise<{ status: number; output: string }> {
  return new Promise((resolve) => {
    execFile(requireTool("promtool"), args, { cwd: dir, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

/**
 * Writes a rules file and its generated tests; returns the test file's name. `only`: the generated cases
 * of the alerts a mutation changes, not the app's hundred others (each promtool run then takes a fraction
 * of a second instead of seconds; the whole sets run unfiltered in the test above).
 */
function writeTests(name: string, rules: string, spec: AlertRulesSpec, only?: RegExp): string {
  fs.writeFileSync(path.join(dir, `${name}-rules.yml`), rules);
  fs.writeFileSync(path.join(dir, `${name}-tests.yml`), renderRuleTests(spec, `${name}-rules.yml`, only && ((alert) => only.test(alert))));
  return `${name}-tests.yml`;
}

describe("promtool on every app's rendered monitoring files", () => {
  it("accepts every app's prometheus.yml with its rules (promtool check config)", () => {
    for (const { name, app } of apps) {
      const rules = path.join(dir, `${name}-config-rules.yml`);
      fs.writeFileSync(rules, renderAlertRules(alertRulesSpec(app)));
      fs.writeFileSync(path.join(dir, `${name}-prometheus.yml`), renderPrometheusConfig({ ...prometheusSpec(app), ruleFiles: [rules] }));
      const res = promtool(["check", "config", `${name}-prometheus.yml`]);
      expect(res.output, name).toContain("SUCCESS");
      expect(res.status, `${name}: ${res.output}`).toBe(0);
    }
  });

  it("accepts every app's alert rules (promtool check rules), and refuses a broken one (the check can fail)", () => {
    for (const { name, app } of apps) {
      fs.writeFileSync(path.join(dir, `${name}-rules.yml`), renderAlertRules(alertRulesSpec(app)));
      const res = promtool(["check", "rules", `${name}-rules.yml`]);
      expect(res.output, name).toContain(`SUCCESS: ${alertRules(alertRulesSpec(app)).length} rules found`);
    }
    fs.writeFileSync(path.join(dir, "broken-rules.yml"), "groups:\n  - name: x\n    rules:\n      - alert: Broken\n        expr: sum(rate(x[5m]) > \n");
    expect(promtool(["check", "rules", "broken-rules.yml"]).status).not.toBe(0);
  });

  it("passes the unit tests generated for every rule of every app: fires past its threshold after its duration, quiet just short of it and before", async () => {
    const started = Date.now();
    // Apps whose rules are the same text (staging and prod often are) are tested once.
    const unique = new Map<string, { name: string; spec: AlertRulesSpec }>();
    for (const { name, app } of apps) unique.set(renderAlertRules(alertRulesSpec(app)), { name, spec: alertRulesSpec(app) });
    const runs = await Promise.all([...unique].map(async ([rules, { name, spec }]) => ({ name, spec, res: await promtoolAsync(["test", "rules", writeTests(name, rules, spec)]) })));
    let cases = 0;
    for (const { name, spec, res } of runs) {
      expect(res.output, name).toContain("SUCCESS");
      expect(res.status, `${name}: ${res.output}`).toBe(0);
      cases += ruleTestCases(spec).length;
    }
    const rules = runs.reduce((n, r) => n + alertRules(r.spec).length, 0);
    console.log(`promtool test rules: ${runs.length} rule sets, ${rules} rules, ${cases} generated test cases, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  it.each<[string, (s: AlertRulesSpec) => AlertRulesSpec, string]>([
    ["a threshold looser than the runbook's", (s) => ({ ...s, alerts: { ...s.alerts, errorRate: { ...s.alerts.errorRate!, threshold: s.alerts.errorRate!.threshold * 1.1 } } }), "alertname: HighErrorRate"],
    ["a duration longer than the runbook's", (s) => ({ ...s, alerts: { ...s.alerts, errorRate: { ...s.alerts.errorRate!, forMinutes: s.alerts.errorRate!.forMinutes + 2 } } }), "alertname: HighErrorRate"],
    ["a duration shorter than the runbook's", (s) => ({ ...s, alerts: { ...s.alerts, errorRate: { ...s.alerts.errorRate!, forMinutes: s.alerts.errorRate!.forMinutes - 2 } } }), "alertname: HighErrorRate"],
    ["a threshold stricter than the runbook's", (s) => ({ ...s, alerts: { ...s.alerts, memory: { ...s.alerts.memory!, threshold: s.alerts.memory!.threshold * 0.9 } } }), "alertname: HighMemoryUsage"],
  ])("fails the generated tests of FDTS's rules when the rules have %s (the tests can fail)", async (_label, change, failure) => {
    const fdts = alertRulesSpec(stackSpec("prod").apps.find((a) => a.id === "fdts")!);
    const res = await promtoolAsync(["test", "rules", writeTests("fdts-changed", renderAlertRules(change(fdts)), fdts, new RegExp(`^${failure.split(": ")[1]}$`))]);
    expect(res.status).not.toBe(0);
    expect(res.output).toContain(failure);
  });

  it.each<[string, (p: NonNullable<AlertRulesSpec["externalProbes"]>[number]) => typeof p]>([
    ["waits longer than its duration", (p) => ({ ...p, forMinutes: p.forMinutes + 2 })],
    ["waits less than its duration", (p) => ({ ...p, forMinutes: p.forMinutes - 2 })],
    ["watches another service", (p) => ({ ...p, name: "paypal" })],
  ])("fails the generated tests of Handwork's rules when the Stripe probe's alert %s (the tests can fail)", async (_label, change) => {
    const handwork = alertRulesSpec(stackSpec("prod").apps.find((a) => a.id === "handwork")!);
    expect(handwork.externalProbes?.[0]?.name).toBe("stripe");
    const changed = { ...handwork, externalProbes: [change(handwork.externalProbes![0]!)] };
    const res = await promtoolAsync(["test", "rules", writeTests("handwork-changed", renderAlertRules(changed), handwork, /^StripeUnreachable$/)]);
    expect(res.status).not.toBe(0);
    expect(res.output).toContain("alertname: StripeUnreachable");
  });

  it("fails the generated tests of Handwork's OutboundNetworkDown when it fires on one provider's outage (min instead of max over the probes: the tests can fail)", async () => {
    const handwork = alertRulesSpec(stackSpec("prod").apps.find((a) => a.id === "handwork")!);
    const rendered = renderAlertRules(handwork);
    const changed = rendered.replace('max(probe_success{job=~"external-.+"}) == 0', 'min(probe_success{job=~"external-.+"}) == 0');
    expect(changed).not.toBe(rendered);
    const res = await promtoolAsync(["test", "rules", writeTests("handwork-network", changed, handwork, /^OutboundNetworkDown$/)]);
    expect(res.status).not.toBe(0);
    expect(res.output).toContain("alertname: OutboundNetworkDown");
  });

  it.each([1, 3])("passes the generated tests of the read-replica rules with %i replica(s): lag past 64 MiB for 5 minutes, fewer replicas streaming than the stack runs", async (n) => {
    const fairlens = { ...alertRulesSpec(stackSpec("prod").apps.find((a) => a.id === "fairlens")!), readReplicas: n };
    const rules = alertRules(fairlens).filter((r) => r.alert.startsWith("DatabaseReplica"));
    expect(rules.map((r) => [r.alert, r.expr])).toEqual([
      ["DatabaseReplicaLagging", `max by (application_name) (pg_stat_replication_pg_wal_lsn_diff{job="postgres"}) > ${REPLICA_LAG_BYTES}`],
      ["DatabaseReplicaMissing", `(count(pg_stat_replication_pg_wal_lsn_diff{job="postgres",state="streaming"}) or vector(0)) < ${n}`],
    ]);
    const text = renderAlertRules(fairlens);
    fs.writeFileSync(path.join(dir, `replicas-${n}-check.yml`), text);
    expect(promtool(["check", "rules", `replicas-${n}-check.yml`]).output).toContain(`SUCCESS: ${alertRules(fairlens).length} rules found`);
    const res = await promtoolAsync(["test", "rules", writeTests(`replicas-${n}`, text, fairlens, /^DatabaseReplica/)]);
    expect(res.status, res.output).toBe(0);
    // The tests can fail: the rules of a stack that runs one replica fewer (n - 1 streaming counts as enough) or a looser lag threshold.
    const fewer = await promtoolAsync(["test", "rules", writeTests(`replicas-${n}-fewer`, renderAlertRules({ ...fairlens, readReplicas: Math.max(n - 1, 0) }), fairlens, /^DatabaseReplica/)]);
    expect(fewer.status).not.toBe(0);
    const looser = text.replace(`> ${REPLICA_LAG_BYTES}`, `> ${REPLICA_LAG_BYTES * 2}`);
    expect(looser).not.toBe(text);
    const loose = await promtoolAsync(["test", "rules", writeTests(`replicas-${n}-looser`, looser, fairlens, /^DatabaseReplica/)]);
    expect(loose.status).not.toBe(0);
    expect(loose.output).toContain("alertname: DatabaseReplicaLagging");
  });

  it.each<[string, (l: NonNullable<AlertRulesSpec["backendLog"]>) => NonNullable<AlertRulesSpec["backendLog"]>, string]>([
    ["a payment error rate looser than the runbook's 10 %", (l) => ({ ...l, payments: { ...l.payments!, errorRate: { ...l.payments!.errorRate, thresholdPercent: 11 } } }), "alertname: PaymentErrorRateHigh"],
    ["PaymentsDown softened to a warning", (l) => ({ ...l, payments: { ...l.payments!, down: { ...l.payments!.down, severity: "warning" } } }), "alertname: PaymentsDown"],
    ["the pool-exhaustion rule watching another counter", (l) => ({ ...l, database: [{ ...l.database![0]!, name: "locked" }, ...l.database!.slice(1)] }), "alertname: BackendPoolExhausted"],
  ])("fails the generated tests of Handwork's rules on its backend log lines when the rules have %s (the tests can fail)", async (_label, change, failure) => {
    const handwork = alertRulesSpec(stackSpec("prod").apps.find((a) => a.id === "handwork")!);
    const changed = { ...handwork, backendLog: change(handwork.backendLog!) };
    const res = await promtoolAsync(["test", "rules", writeTests("handwork-log-changed", renderAlertRules(changed), handwork, new RegExp(`^${failure.split(": ")[1]}$`))]);
    expect(res.status).not.toBe(0);
    expect(res.output).toContain(failure);
  });

  it("parses every dashboard panel's query (as recording rules for promtool), each panel naming the provisioned data source", () => {
    let queries = 0;
    for (const { name, app } of apps) {
      const g = grafanaSpec(app);
      const rules = grafanaDashboards(g).flatMap((d) => {
        const json = JSON.parse(dashboardJson(g, d)) as { panels: { id: number; datasource: { uid: string }; targets: { refId: string; expr: string; datasource: { uid: string } }[] }[] };
        return json.panels.flatMap((p) => {
          expect(p.datasource.uid, `${name} ${d.uid} ${p.id}`).toBe(DATASOURCE_UID);
          return p.targets.map((t) => {
            expect(t.datasource.uid).toBe(DATASOURCE_UID);
            return { record: `panel:${d.uid}_${p.id}_${t.refId}`, expr: t.expr };
          });
        });
      });
      queries += rules.length;
      fs.writeFileSync(path.join(dir, `${name}-panels.json`), JSON.stringify({ groups: [{ name: "panels", rules }] }));
      const res = promtool(["check", "rules", `${name}-panels.json`]);
      expect(res.output, name).toContain(`SUCCESS: ${rules.length} rules found`);
    }
    expect(queries).toBeGreaterThan(50);
  });

  it("accepts every app's blackbox config (blackbox_exporter --config.check)", () => {
    for (const { name, app } of apps) {
      const file = path.join(dir, `${name}-blackbox.yml`);
      // With a module per external service the stack probes (FairLens's Algorand node, Handwork's three providers).
      fs.writeFileSync(file, renderBlackboxConfig(blackboxSpec(app)));
      const res = spawnSync(requireTool("prometheus-blackbox-exporter"), ["--config.check", `--config.file=${file}`], { encoding: "utf8" });
      expect(`${res.stdout}${res.stderr}`, name).toContain("Config file is ok");
      expect(res.status, name).toBe(0);
    }
  });
});
