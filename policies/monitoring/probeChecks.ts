/**
 * The requirement check of the external probes: each third-party service the runbook checks the app
 * can reach has, in the app's Prometheus, a blackbox probe job (`/probe`, a module, a target) whose
 * series carry `dependency="<name>"`, and an alert rule with that label that reads `probe_success`.
 * Re-exported by policies/runbook/checks.ts, so runbook-staging-parity measures staging against it too.
 */
import type { RequirementCheck, Shortfall } from "../runbook/rules";
import { single } from "../runbook/rules";
import { alertRulesOf, prometheusOf, scrapeJobsOf } from "./rules";
import { DEPENDENCY_LABEL } from "./signals";

export const externalProbes: RequirementCheck = {
  rules: (req) => single(req.externalProbes),
  verify: (app, _entry, _key, value) => {
    const names = value as readonly string[];
    const prometheus = prometheusOf(app);
    if (!prometheus) return [{ detail: `the app has no Prometheus (monitoring is off); a probe of ${names.join(", ")}, with an alert when it fails, is` }];
    const jobs = scrapeJobsOf(prometheus);
    const rules = alertRulesOf(prometheus);
    return names.flatMap((name): Shortfall[] => {
      const want = `a blackbox probe of ${name} (apps.${app.id}.monitoring.externalProbes.${name}.url), with an alert when it fails, is`;
      const probed = jobs.some(
        (j) => j.metrics_path === "/probe" && (j.params?.["module"]?.length ?? 0) > 0 && (j.static_configs ?? []).some((c) => c.labels?.[DEPENDENCY_LABEL] === name && (c.targets?.length ?? 0) > 0),
      );
      const alerted = rules.some((r) => r.labels?.[DEPENDENCY_LABEL] === name && (r.expr ?? "").includes("probe_success"));
      if (!probed) return [{ detail: `no scrape job probes ${name} (${DEPENDENCY_LABEL}="${name}"); ${want}`, urn: prometheus.urn }];
      if (!alerted) return [{ detail: `no alert rule reads probe_success of ${name} (label ${DEPENDENCY_LABEL}="${name}"); ${want}`, urn: prometheus.urn }];
      return [];
    });
  },
};
