/**
 * Monitoring and alerts in a stack's config: the schema of `apps.<id>.monitoring` (plain settings)
 * and of the top-level `alerting` key (where alerts are sent: every leaf a secure value), the
 * cross-field rules, the defaults, and the resolved MonitoringSpec the Monitoring component receives.
 *
 * Why receivers live under their own top-level key: the Pulumi engine tells a program whether a
 * config KEY is secret, not which leaf (config/sources.ts, `readPulumiConfig`). A secure leaf inside
 * `apps` would make the whole `apps` key secret, and every tag and port in it would arrive wrapped.
 */
import { z } from "zod";
import { catalog, catalogIds, type AppDefinition } from "../apps";
import type { BackendLogMetricsDefinition } from "../apps/types";
import { ALERT_SIGNAL_NAMES, ALERT_SIGNALS, type AlertSeverity, type AlertSignal, type AlertThreshold } from "../policies/monitoring/signals";
import { DEFAULTS } from "./defaults";
import { externalProbeProblems, externalProbesSchema, resolveExternalProbes, type ExternalProbeSpec } from "./externalProbes";

export const MONITORING_DEFAULTS = {
  /** Every app is monitored unless its stack turns it off. */
  enabled: true,
  /** Prometheus `--storage.tsdb.retention.time`, in days. */
  retentionDays: 15,
  /**
   * Host ports of the UIs, bound to 127.0.0.1 (reached through an ssh tunnel): these plus
   * `portStep` times the app's place in the catalog, so apps sharing a host never collide by default
   * (FairLens 9090/9093/3000, FDTS 9100/9103/3010, ... Handwork 9130/9133/3040). New apps go at the
   * end of the catalog, so no app's ports move.
   */
  ports: { prometheus: 9090, alertmanager: 9093, grafana: 3000 },
  portStep: 10,
  slo: {
    /** Availability objective of the burn-rate alerts: percent of requests not answered with a 5xx. */
    availabilityPercent: 99.9,
    /** Fewest requests in the last hour before a burn-rate alert may page (a quiet app does not page on two failures). */
    minRequestsPerHour: 100,
  },
  /** `for:` where a stack adds a threshold the runbook does not set, and the runbooks' most common duration. */
  forMinutes: 5,
  /**
   * Rules every app gets where its runbook sets no threshold of its own: disk critical at the LMS's
   * 95 % ("Critical: ... disk > 95%"), and FDTS's 48 hours without a successful backup.
   */
  alerts: {
    diskCritical: { threshold: 95, forMinutes: 5, severity: "critical" },
    backupAge: { threshold: 48, forMinutes: 0, severity: "critical" },
  } satisfies Partial<Record<AlertSignal, AlertThreshold>>,
} as const;

const SEVERITIES = ["critical", "warning", "info"] as const;

const port = z
  .number({ error: "must be a port number from 1 to 65535" })
  .int({ error: "must be a port number from 1 to 65535" })
  .min(1, { error: "must be a port number from 1 to 65535" })
  .max(65535, { error: "must be a port number from 1 to 65535" });

function thresholdSchema(signal: AlertSignal) {
  const unit = ALERT_SIGNALS[signal].unit;
  const base = z.number({ error: `must be a number (${unit === "%" ? "percent" : unit === "s" ? "seconds" : "hours"})` }).positive({ error: "must be more than 0" });
  return unit === "%" ? base.max(99.9, { error: "must be at most 99.9 (percent): an alert above 100 % never fires" }) : base.max(10_000, { error: "must be at most 10000" });
}

const alertOverride = (signal: AlertSignal) =>
  z
    .strictObject({
      threshold: thresholdSchema(signal).optional(),
      forMinutes: z.number().int({ error: "must be a whole number of minutes" }).min(0, { error: "must be at least 0" }).max(1440, { error: "must be at most 1440 (a day)" }).optional(),
      severity: z.enum(SEVERITIES, { error: "must be critical, warning or info" }).optional(),
    })
    .optional();

const alertOverrides = z.strictObject(
  Object.fromEntries(ALERT_SIGNAL_NAMES.map((signal) => [signal, alertOverride(signal)])) as Record<AlertSignal, ReturnType<typeof alertOverride>>,
  { error: `must be a map of alert signal (${ALERT_SIGNAL_NAMES.join(", ")}) to {threshold, forMinutes, severity}` },
);

/** `apps.<id>.monitoring`: plain settings only (see the module comment). */
export const monitoringSchema = z.strictObject({
  enabled: z.boolean({ error: "must be true or false" }).optional(),
  retentionDays: z.number().int({ error: "must be a whole number of days" }).min(1, { error: "must be at least 1" }).max(3650, { error: "must be at most 3650" }).optional(),
  ports: z.strictObject({ prometheus: port.optional(), alertmanager: port.optional(), grafana: port.optional() }).optional(),
  slo: z
    .strictObject({
      availabilityPercent: z.number({ error: "must be a percentage" }).min(90, { error: "must be at least 90" }).max(99.999, { error: "must be at most 99.999" }).optional(),
      minRequestsPerHour: z.number().int({ error: "must be a whole number" }).min(1, { error: "must be at least 1" }).max(1_000_000, { error: "must be at most 1000000" }).optional(),
    })
    .optional(),
  alerts: alertOverrides.optional(),
  /** The URL of each third-party service the runbook checks (config/externalProbes.ts). */
  externalProbes: externalProbesSchema.optional(),
});

const secure = z.strictObject(
  { secure: z.string().min(1) },
  {
    error: (issue) =>
      issue.input === undefined ? undefined : "must be a secret: set it with `pulumi config set --secret --path <key>`, never as plain text",
  },
);

const channels = z.strictObject({
  /** Comma-separated e-mail addresses. */
  email: secure.optional(),
  slackWebhookUrl: secure.optional(),
  webhookUrl: secure.optional(),
});

const appAlerting = z.strictObject({
  critical: channels.optional(),
  warning: channels.optional(),
  info: channels.optional(),
  smtp: z.strictObject({ smarthost: secure, from: secure, username: secure.optional(), password: secure.optional() }).optional(),
});

/** The top-level `alerting` key: per app, where each severity is sent, every leaf a secure value. */
export const alertingSchema = z.strictObject(
  Object.fromEntries(catalogIds.map((id) => [id, appAlerting.optional()])) as Record<string, z.ZodOptional<typeof appAlerting>>,
  { error: "must be a map of app id to its alert receivers" },
);

export type MonitoringConfig = z.infer<typeof monitoringSchema>;
export type AlertingConfig = Record<string, z.infer<typeof appAlerting>>;

/** Where one severity is sent. Plain strings in memory only: the component passes them on as secrets. */
export interface ChannelSpec {
  /** Comma-separated addresses. */
  readonly email?: string;
  readonly slackWebhookUrl?: string;
  readonly webhookUrl?: string;
}

export interface SmtpSpec {
  /** `host:port`. */
  readonly smarthost: string;
  readonly from: string;
  readonly username?: string;
  readonly password?: string;
}

export interface MonitoringSpec {
  readonly retentionDays: number;
  readonly ports: { readonly prometheus: number; readonly alertmanager: number; readonly grafana: number };
  readonly slo: { readonly availabilityPercent: number; readonly minRequestsPerHour: number };
  /** Every threshold rule the app gets: the runbook's, the defaults every app gets, and the stack's changes. */
  readonly alerts: Readonly<Partial<Record<AlertSignal, AlertThreshold>>>;
  /** The third-party services the blackbox exporter probes: those of the catalog the stack gives a URL for. */
  readonly externalProbes: readonly ExternalProbeSpec[];
  /** Metrics counted from the backend's log lines, where the app's catalog entry defines them (`backendLogMetrics`). */
  readonly backendLog?: BackendLogMetricsDefinition;
  readonly receivers: Readonly<Record<AlertSeverity, ChannelSpec>>;
  readonly smtp?: SmtpSpec;
}

/** The UI ports an app gets by default. */
export function defaultPorts(id: string): MonitoringSpec["ports"] {
  const offset = MONITORING_DEFAULTS.portStep * Math.max(0, catalogIds.indexOf(id));
  const p = MONITORING_DEFAULTS.ports;
  return { prometheus: p.prometheus + offset, alertmanager: p.alertmanager + offset, grafana: p.grafana + offset };
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const objectAt = (v: unknown, ...path: string[]): Record<string, unknown> | undefined => {
  let cur: unknown = v;
  for (const p of path) cur = isObject(cur) ? cur[p] : undefined;
  return isObject(cur) ? cur : undefined;
};

/** The thresholds an app starts from: the defaults every app gets, then its runbook's. */
export function baseAlerts(def: AppDefinition): Partial<Record<AlertSignal, AlertThreshold>> {
  const runbook = Object.fromEntries(Object.entries(def.requirements.alerts ?? {}).map(([signal, rule]) => [signal, rule!.value]));
  return { ...MONITORING_DEFAULTS.alerts, ...runbook };
}

/**
 * Rules across fields, reported with their key paths: receivers of apps the stack does not deploy or
 * does not monitor, e-mail without SMTP, a stack's new threshold without a value, and UI ports two
 * containers of one host would both publish.
 */
export function monitoringProblems(raw: unknown): { path: PropertyKey[]; message: string }[] {
  const problems: { path: PropertyKey[]; message: string }[] = [];
  const apps = objectAt(raw, "apps") ?? {};
  const enabledOf = (id: string) => objectAt(apps, id, "monitoring")?.["enabled"] !== false;
  for (const [id, alerting] of Object.entries(objectAt(raw, "alerting") ?? {})) {
    if (!catalog[id]) continue; // reported by the schema as an unknown key
    if (!(id in apps)) problems.push({ path: ["alerting", id], message: "this stack does not deploy that app (add it under apps or remove its receivers)" });
    else if (!enabledOf(id)) problems.push({ path: ["alerting", id], message: `monitoring is off for this app (apps.${id}.monitoring.enabled); remove its receivers or turn it on` });
    const wantsEmail = SEVERITIES.some((s) => objectAt(alerting, s)?.["email"] !== undefined);
    if (wantsEmail && objectAt(alerting, "smtp") === undefined) {
      problems.push({ path: ["alerting", id, "smtp"], message: "is required to send e-mail: at least smarthost (host:port) and from, as secrets" });
    }
  }
  // Host ports: the proxy's, an admin UI's, and the monitoring UIs', per Docker host.
  const taken = new Map<string, string>();
  const claim = (host: string, portNumber: unknown, owner: string, path: PropertyKey[] | undefined) => {
    if (typeof portNumber !== "number") return;
    const key = `${host}#${portNumber}`;
    const held = taken.get(key);
    if (held && path) problems.push({ path, message: `host port ${portNumber} on ${host} is already published by ${held}; give each UI on a host its own port` });
    else if (!held) taken.set(key, owner);
  };
  // Apps on Docker hosts: a Fargate app publishes no port on a host (its `monitoring` key is refused in config/fargate.ts).
  const monitored = Object.entries(apps).filter(([id, a]) => catalog[id] !== undefined && objectAt(a, "fargate") === undefined);
  for (const [id, app] of monitored) {
    const host = typeof objectAt(apps, id)?.["host"] === "string" ? String(objectAt(apps, id)!["host"]) : DEFAULTS.host;
    const proxy = objectAt(app, "proxy") ?? {};
    claim(host, proxy["httpPort"] ?? DEFAULTS.proxy.httpPort, `${id}'s proxy`, undefined);
    if (proxy["tls"] !== undefined) claim(host, proxy["httpsPort"] ?? DEFAULTS.proxy.httpsPort, `${id}'s proxy`, undefined);
    const adminPort = catalog[id]!.frontend?.adminPort;
    if (adminPort !== undefined) claim(host, adminPort, `${id}'s admin UI`, undefined);
  }
  for (const [id, app] of monitored) {
    if (!enabledOf(id)) continue;
    const host = typeof objectAt(apps, id)?.["host"] === "string" ? String(objectAt(apps, id)!["host"]) : DEFAULTS.host;
    const ports = objectAt(app, "monitoring", "ports") ?? {};
    for (const ui of ["prometheus", "alertmanager", "grafana"] as const) {
      claim(host, ports[ui] ?? defaultPorts(id)[ui], `${id}'s ${ui}`, ["apps", id, "monitoring", "ports", ui]);
    }
    const base = baseAlerts(catalog[id]!);
    for (const [signal, override] of Object.entries(objectAt(app, "monitoring", "alerts") ?? {})) {
      if (signal in ALERT_SIGNALS && base[signal as AlertSignal] === undefined && objectAt(override)?.["threshold"] === undefined) {
        problems.push({ path: ["apps", id, "monitoring", "alerts", signal, "threshold"], message: `is required: ${catalog[id]!.displayName}'s runbook sets no ${signal} threshold to start from` });
      }
    }
  }
  problems.push(...externalProbeProblems(apps));
  return problems;
}

const channel = (c: { email?: { secure: string }; slackWebhookUrl?: { secure: string }; webhookUrl?: { secure: string } } | undefined): ChannelSpec => ({
  ...(c?.email && { email: c.email.secure }),
  ...(c?.slackWebhookUrl && { slackWebhookUrl: c.slackWebhookUrl.secure }),
  ...(c?.webhookUrl && { webhookUrl: c.webhookUrl.secure }),
});

/** An app's monitoring under a stack's settings; undefined where the stack turns it off. */
export function resolveMonitoring(def: AppDefinition, config: MonitoringConfig | undefined, alerting: AlertingConfig[string] | undefined): MonitoringSpec | undefined {
  if ((config?.enabled ?? MONITORING_DEFAULTS.enabled) === false) return undefined;
  const alerts: Partial<Record<AlertSignal, AlertThreshold>> = baseAlerts(def);
  for (const [signal, override] of Object.entries(config?.alerts ?? {}) as [AlertSignal, { threshold?: number; forMinutes?: number; severity?: AlertSeverity } | undefined][]) {
    if (!override) continue;
    const base = alerts[signal];
    alerts[signal] = {
      threshold: override.threshold ?? base!.threshold,
      forMinutes: override.forMinutes ?? base?.forMinutes ?? MONITORING_DEFAULTS.forMinutes,
      severity: override.severity ?? base?.severity ?? "warning",
      ...(base?.procedure !== undefined && { procedure: base.procedure }),
    };
  }
  const smtp = alerting?.smtp;
  return {
    retentionDays: config?.retentionDays ?? MONITORING_DEFAULTS.retentionDays,
    ports: { ...defaultPorts(def.id), ...Object.fromEntries(Object.entries(config?.ports ?? {}).filter(([, v]) => v !== undefined)) },
    slo: { ...MONITORING_DEFAULTS.slo, ...Object.fromEntries(Object.entries(config?.slo ?? {}).filter(([, v]) => v !== undefined)) },
    alerts,
    externalProbes: resolveExternalProbes(def, config?.externalProbes),
    ...(def.backendLogMetrics && { backendLog: def.backendLogMetrics }),
    receivers: { critical: channel(alerting?.critical), warning: channel(alerting?.warning), info: channel(alerting?.info) },
    ...(smtp && {
      smtp: {
        smarthost: smtp.smarthost.secure,
        from: smtp.from.secure,
        ...(smtp.username && { username: smtp.username.secure }),
        ...(smtp.password && { password: smtp.password.secure }),
      },
    }),
  };
}
