import type { StackValidationPolicy } from "@pulumi/policy";
import { appViews } from "../runbook/appView";
import { ALERTMANAGER_STEP, inhibitable, integrations, parseYaml, receiversFor } from "./rules";

/**
 * LMS "Alert Thresholds": critical alerts (system down, database unreachable, disk > 95%) must reach
 * someone. Read from the alertmanager.yml the deploy step delivers: CrossGuard hands policies secret
 * values unwrapped, so the routing can be walked; no message ever quotes the file.
 */
export const routingCriticalReceiver: StackValidationPolicy = {
  name: "monitoring-routing-critical-receiver",
  description:
    "In production, every app's Alertmanager sends critical alerts to a receiver that notifies someone (e-mail, Slack or a webhook), and no inhibition rule can silence them. A critical alert routed to a receiver without channels pages nobody.",
  validateStack: (args, report) => {
    for (const app of appViews(args.resources)) {
      if (app.environment !== "prod") continue;
      const step = app.step(ALERTMANAGER_STEP);
      if (!step) {
        report(`${app.id}: no Alertmanager routes its alerts (monitoring is off); production needs its critical alerts sent to someone.`, app.component?.urn);
        continue;
      }
      let config: unknown;
      try {
        config = parseYaml(String(step.props["stdin"] ?? ""));
      } catch {
        report(`${app.id}: the Alertmanager config ${step.name} delivers is not YAML.`, step.urn);
        continue;
      }
      const critical = { alertname: "RunbookCriticalAlert", app: app.id, severity: "critical" };
      const receivers = receiversFor(config, critical);
      const silent = receivers.filter((r) => integrations(config, r) === 0);
      if (receivers.length === 0 || silent.length === receivers.length) {
        report(
          `${app.id}: critical alerts go to ${receivers.map((r) => `receiver "${r}"`).join(", ") || "no receiver"}, which notifies nobody; give it a channel: pulumi config set --secret --path 'alerting.${app.id}.critical.slackWebhookUrl' <url> (or .email, .webhookUrl).`,
          step.urn,
        );
      }
      if (inhibitable(config, critical)) report(`${app.id}: an inhibition rule can silence critical alerts; only warnings and info may be inhibited.`, step.urn);
    }
  },
};
