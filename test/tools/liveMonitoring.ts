/**
 * The Prometheus config the live monitoring tests run: the app's own, with what changes on a test
 * host (one-second intervals, the rules file in the test's directory, no Alertmanager, nothing else
 * scraped) and the addresses each test gives.
 */
import * as path from "node:path";
import { renderPrometheusConfig } from "../../components/monitoring/prometheusConfig";
import type { prometheusSpec } from "../../components/monitoring/specs";

type PrometheusSpec = ReturnType<typeof prometheusSpec>;

export function testHostPrometheusConfig(spec: PrometheusSpec, dir: string, addresses: Partial<PrometheusSpec>): string {
  return renderPrometheusConfig({
    ...spec,
    scrapeIntervalSeconds: 1,
    evaluationIntervalSeconds: 1,
    probeIntervalSeconds: 1,
    ruleFiles: [path.join(dir, "rules.yml")],
    alertmanagers: [],
    targets: {},
    ...addresses,
  });
}
