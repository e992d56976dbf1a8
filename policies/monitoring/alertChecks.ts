/**
 * The requirement check of the alert thresholds: each signal the runbook sets a threshold for has a
 * rule in the app's Prometheus that reads the signal's metric, fires at that threshold or below,
 * within the runbook's duration or sooner, and at its severity or higher. Re-exported by
 * policies/runbook/checks.ts, so runbook-staging-parity measures staging against it too.
 */
import type { RequirementCheck, Shortfall } from "../runbook/rules";
import { byService } from "../runbook/rules";
import { alertRulesOf, comparedWith, forMinutes, prometheusOf } from "./rules";
import { ALERT_SIGNALS, SEVERITY_RANK, SIGNAL_LABEL, type AlertSignal, type AlertThreshold } from "./signals";

const unit = (signal: AlertSignal, n: number) => `${n}${ALERT_SIGNALS[signal].unit === "%" ? "%" : ` ${ALERT_SIGNALS[signal].unit}`}`;

export const alertThresholds: RequirementCheck = {
  rules: (req) => byService(req.alerts),
  verify: (app, _entry, key, value) => {
    const signal = key as AlertSignal;
    const t = value as AlertThreshold;
    const info = ALERT_SIGNALS[signal];
    // "<what is wrong>; an alert on <signal> above <threshold> ... is" + " required in production (...)".
    const want = `an alert on ${info.what} above ${unit(signal, t.threshold)}${t.forMinutes > 0 ? ` within ${t.forMinutes}m` : ""}, at ${t.severity} or higher, is`;
    const prometheus = prometheusOf(app);
    if (!prometheus) return [{ detail: `the app has no Prometheus (monitoring is off); ${want}` }];
    const rules = alertRulesOf(prometheus).filter((r) => r.labels?.[SIGNAL_LABEL] === signal);
    if (rules.length === 0) return [{ detail: `no rule has the label ${SIGNAL_LABEL}="${signal}"; ${want}`, urn: prometheus.urn }];
    return rules.flatMap((r): Shortfall[] => {
      const problems: string[] = [];
      const threshold = comparedWith(r.expr);
      if (!r.expr?.includes(info.metric)) problems.push(`does not read ${info.metric}`);
      if (threshold === undefined) problems.push("compares with no threshold (`... > N`)");
      else if (threshold > t.threshold) problems.push(`fires only above ${unit(signal, threshold)}`);
      const minutes = forMinutes(r.for);
      if (minutes > t.forMinutes) problems.push(`waits ${r.for}`);
      const severity = r.labels?.["severity"] ?? "";
      if (!(severity in SEVERITY_RANK) || SEVERITY_RANK[severity as keyof typeof SEVERITY_RANK] < SEVERITY_RANK[t.severity]) problems.push(`is ${severity || "of no severity"}`);
      return problems.length ? [{ detail: `${r.alert} ${problems.join(", ")}; ${want}`, urn: prometheus.urn }] : [];
    });
  },
};
