/**
 * renderAlertmanagerConfig: routing by severity as a pure function. Critical alerts go to the
 * on-call receiver, warnings to chat, info to a low-priority receiver; grouped by alert and app; a
 * critical alert of an app silences that app's warnings and info (inhibition), and each severity
 * repeats at its own pace. The text holds the receivers' webhook URLs, addresses and SMTP
 * credentials: the component hands it over only as a Pulumi secret, on a deploy step's stdin.
 */
import { stringify } from "yaml";
import type { AlertSeverity } from "../../policies/monitoring/signals";
import type { ChannelSpec, SmtpSpec } from "../../config/monitoring";

/** Receiver of each severity, by name. */
export const RECEIVERS: Readonly<Record<AlertSeverity, string>> = { critical: "on-call", warning: "chat", info: "low-priority" };

export interface AlertmanagerTiming {
  readonly groupWait: string;
  readonly groupInterval: string;
  readonly repeat: Readonly<Record<AlertSeverity, string>>;
}

export const DEFAULT_TIMING: AlertmanagerTiming = { groupWait: "30s", groupInterval: "5m", repeat: { critical: "1h", warning: "4h", info: "24h" } };

export interface AlertmanagerConfigSpec {
  readonly app: string;
  /** Where each severity is sent; a severity with no channel is routed to a receiver that sends nothing. */
  readonly receivers: Readonly<Record<AlertSeverity, ChannelSpec>>;
  readonly smtp?: SmtpSpec;
  readonly timing?: AlertmanagerTiming;
}

const SEVERITIES: readonly AlertSeverity[] = ["critical", "warning", "info"];

const SLACK_TITLE = '[{{ .Status | toUpper }}] {{ .CommonLabels.app }}: {{ .CommonLabels.alertname }}';
const SLACK_TEXT = '{{ range .Alerts }}{{ .Annotations.summary }} {{ .Annotations.description }} ({{ .Annotations.runbook_url }})\n{{ end }}';

function receiver(name: string, channels: ChannelSpec) {
  return {
    name,
    ...(channels.email && { email_configs: [{ to: channels.email, send_resolved: true }] }),
    ...(channels.slackWebhookUrl && { slack_configs: [{ api_url: channels.slackWebhookUrl, send_resolved: true, title: SLACK_TITLE, text: SLACK_TEXT }] }),
    ...(channels.webhookUrl && { webhook_configs: [{ url: channels.webhookUrl, send_resolved: true }] }),
  };
}

export function renderAlertmanagerConfig(spec: AlertmanagerConfigSpec): string {
  const timing = spec.timing ?? DEFAULT_TIMING;
  if (SEVERITIES.some((s) => spec.receivers[s].email !== undefined) && !spec.smtp) {
    throw new Error("`smtp` must be given when a receiver sends e-mail");
  }
  const config = {
    global: {
      resolve_timeout: "5m",
      ...(spec.smtp && {
        smtp_smarthost: spec.smtp.smarthost,
        smtp_from: spec.smtp.from,
        ...(spec.smtp.username !== undefined && { smtp_auth_username: spec.smtp.username }),
        ...(spec.smtp.password !== undefined && { smtp_auth_password: spec.smtp.password }),
        smtp_require_tls: true,
      }),
    },
    route: {
      receiver: RECEIVERS.info,
      group_by: ["alertname", "app"],
      group_wait: timing.groupWait,
      group_interval: timing.groupInterval,
      repeat_interval: timing.repeat.info,
      routes: SEVERITIES.map((s) => ({ matchers: [`severity="${s}"`], receiver: RECEIVERS[s], repeat_interval: timing.repeat[s] })),
    },
    inhibit_rules: [{ source_matchers: ['severity="critical"'], target_matchers: ['severity=~"warning|info"'], equal: ["app"] }],
    receivers: SEVERITIES.map((s) => receiver(RECEIVERS[s], spec.receivers[s])),
  };
  return `# alertmanager.yml for ${spec.app}: rendered by runbook-as-code, do not edit by hand.\n${stringify(config, { lineWidth: 0 })}`;
}

/** What Alertmanager starts with, before the deploy step delivers the receivers: the same routes, sending nothing. */
export function renderBootstrapAlertmanagerConfig(app: string): string {
  return renderAlertmanagerConfig({ app, receivers: { critical: {}, warning: {}, info: {} } });
}
