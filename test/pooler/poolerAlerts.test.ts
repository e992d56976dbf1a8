/**
 * The real promtool on the monitoring files of an app whose pooler is on (the committed stacks have it
 * off, so test/tools/promtool.test.ts never sees these rules): prometheus.yml with the PgBouncer
 * exporter's job, the rules, and the unit tests generated for every rule: pool exhaustion fires
 * once clients have waited a second or more for 5 minutes, and stays quiet on a queue that drains.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { alertRules, renderAlertRules } from "../../components/monitoring/alertRules";
import { renderPrometheusConfig } from "../../components/monitoring/prometheusConfig";
import { renderRuleTests, ruleTestCases } from "../../components/monitoring/ruleTests";
import { alertRulesSpec, prometheusSpec } from "../../components/monitoring/specs";
import { parseStackConfig } from "../../config/resolve";
import { rawStackConfig } from "../helpers";
import { requireTool, tempDir } from "../tools/realTools";

const dir = tempDir("pooler-promtool");
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const promtool = (args: string[]) => {
  const res = spawnSync(requireTool("promtool"), args, { encoding: "utf8", cwd: dir, timeout: 120_000 });
  return { status: res.status, output: `${res.stdout}${res.stderr}` };
};

const raw = structuredClone(rawStackConfig("prod")) as { apps: Record<string, Record<string, unknown>> };
raw.apps["lms"] = { ...raw.apps["lms"]!, database: { pooler: { enabled: true } } };
const lms = parseStackConfig(raw).apps.find((a) => a.id === "lms")!;
const spec = alertRulesSpec(lms);

describe("promtool on the monitoring files of an app with its pooler on (LMS)", () => {
  it("has the pool rules: exhaustion after the LMS runbook's own database procedure, and PgBouncer down", () => {
    const rules = alertRules(spec);
    const exhausted = rules.find((r) => r.alert === "DatabasePoolExhausted")!;
    expect(exhausted.forMinutes).toBe(5);
    expect(exhausted.labels).toMatchObject({ app: "lms", severity: "warning" });
    expect(exhausted.annotations["description"]).toContain("Follow runbook 003 'Database Connection Issues'");
    expect(rules.some((r) => r.alert === "PoolerDown")).toBe(true);
    // Without the pooler, neither.
    const off = alertRules(alertRulesSpec(parseStackConfig(rawStackConfig("prod")).apps.find((a) => a.id === "lms")!)).map((r) => r.alert);
    expect(off).not.toContain("DatabasePoolExhausted");
    expect(off).not.toContain("PoolerDown");
  });

  it("accepts prometheus.yml with the pgbouncer job and the rules (promtool check config, check rules)", () => {
    fs.writeFileSync(path.join(dir, "rules.yml"), renderAlertRules(spec));
    fs.writeFileSync(path.join(dir, "prometheus.yml"), renderPrometheusConfig({ ...prometheusSpec(lms), ruleFiles: [path.join(dir, "rules.yml")] }));
    expect(fs.readFileSync(path.join(dir, "prometheus.yml"), "utf8")).toContain("- pgbouncer-exporter:9127");
    const config = promtool(["check", "config", "prometheus.yml"]);
    expect(config.status, config.output).toBe(0);
    const rules = promtool(["check", "rules", "rules.yml"]);
    expect(rules.output).toContain(`SUCCESS: ${alertRules(spec).length} rules found`);
  });

  it("passes the generated unit tests of the pool rules: fires past the wait after 5 minutes, quiet on a queue served within the second and on an idle pool, and not before", () => {
    fs.writeFileSync(path.join(dir, "rules.yml"), renderAlertRules(spec));
    fs.writeFileSync(path.join(dir, "tests.yml"), renderRuleTests(spec, "rules.yml"));
    const cases = ruleTestCases(spec).filter((c) => ["DatabasePoolExhausted", "PoolerDown"].includes(c.alert));
    expect(cases.filter((c) => c.alert === "DatabasePoolExhausted").map((c) => c.kind)).toEqual(["fires", "quiet", "quiet", "before-duration"]);
    const res = promtool(["test", "rules", "tests.yml"]);
    expect(res.output).toContain("SUCCESS");
    expect(res.status, res.output).toBe(0);
  });

  it("fails the generated tests when the rule's condition is loosened (the tests can fail)", () => {
    const loose = renderAlertRules(spec).replace("pgbouncer_pools_client_maxwait_seconds{job=\"pgbouncer\"}) >= 1", "pgbouncer_pools_client_maxwait_seconds{job=\"pgbouncer\"}) >= 0");
    expect(loose).not.toBe(renderAlertRules(spec));
    fs.writeFileSync(path.join(dir, "loose-rules.yml"), loose);
    fs.writeFileSync(path.join(dir, "loose-tests.yml"), renderRuleTests(spec, "loose-rules.yml"));
    const res = promtool(["test", "rules", "loose-tests.yml"]);
    expect(res.status).not.toBe(0);
    expect(res.output).toContain("DatabasePoolExhausted");
  });
});
