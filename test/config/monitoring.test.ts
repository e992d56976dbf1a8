/**
 * Monitoring in the stack config: its defaults pinned, every problem with its key path, receivers
 * only as secure values under their own key, and resolution over the catalog's runbook thresholds.
 */
import { describe, expect, it } from "vitest";
import { catalog, catalogIds } from "../../apps";
import { EXTERNAL_PROBE_DEFAULTS } from "../../config/externalProbes";
import { defaultPorts, MONITORING_DEFAULTS } from "../../config/monitoring";
import { parseStackConfig, type RawConfig } from "../../config/resolve";
import type { AppSpec } from "../../config/spec";
import { problemsOf, rawStackConfig } from "../helpers";

/** The prod stack with `change` applied to a copy. */
function prod(change: (cfg: Record<string, Record<string, Record<string, unknown>>>) => void): Record<string, unknown> {
  const cfg = structuredClone(rawStackConfig("prod")) as Record<string, Record<string, Record<string, unknown>>>;
  change(cfg);
  return cfg;
}

const minimal = (app: string, extra: Record<string, unknown> = {}): AppSpec => {
  const tags: Record<string, unknown> = { backend: { tag: "1.0.0" }, ...extra };
  if (catalog[app]!.frontend) tags["frontend"] = { tag: "1.0.0" };
  return parseStackConfig({ environment: "staging", apps: { [app]: tags } }).apps[0]!;
};

function leaves(value: unknown, prefix = ""): string[] {
  if (value === null || typeof value !== "object") return [prefix];
  return Object.entries(value).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
}

describe("monitoring defaults after resolution", () => {
  const pinned: [string, (a: AppSpec) => unknown, unknown][] = [
    ["enabled", (a) => a.monitoring !== undefined, true],
    ["retentionDays", (a) => a.monitoring!.retentionDays, 15],
    ["slo.availabilityPercent", (a) => a.monitoring!.slo.availabilityPercent, 99.9],
    ["slo.minRequestsPerHour", (a) => a.monitoring!.slo.minRequestsPerHour, 100],
    ["alerts.diskCritical.threshold", (a) => a.monitoring!.alerts.diskCritical!.threshold, 95],
    ["alerts.diskCritical.forMinutes", (a) => a.monitoring!.alerts.diskCritical!.forMinutes, 5],
    ["alerts.diskCritical.severity", (a) => a.monitoring!.alerts.diskCritical!.severity, "critical"],
    ["alerts.backupAge.threshold", (a) => a.monitoring!.alerts.backupAge!.threshold, 48],
    ["alerts.backupAge.forMinutes", (a) => a.monitoring!.alerts.backupAge!.forMinutes, 0],
    ["alerts.backupAge.severity", (a) => a.monitoring!.alerts.backupAge!.severity, "critical"],
  ];
  it.each(pinned)("%s defaults to the pinned value for an app whose runbook sets none (FairLens)", (_leaf, read, value) => {
    expect(read(minimal("fairlens"))).toEqual(value);
  });

  it("gives each app of the catalog its own UI ports, so apps on one host never collide by default", () => {
    expect(Object.fromEntries(catalogIds.map((id) => [id, minimal(id).monitoring!.ports]))).toEqual({
      fairlens: { prometheus: 9090, alertmanager: 9093, grafana: 3000 },
      fdts: { prometheus: 9100, alertmanager: 9103, grafana: 3010 },
      reference: { prometheus: 9110, alertmanager: 9113, grafana: 3020 },
      lms: { prometheus: 9120, alertmanager: 9123, grafana: 3030 },
      handwork: { prometheus: 9130, alertmanager: 9133, grafana: 3040 },
    });
    expect(defaultPorts("fairlens")).toEqual(MONITORING_DEFAULTS.ports);
  });

  it("pins every leaf of MONITORING_DEFAULTS", () => {
    const covered = [...pinned.map(([leaf]) => leaf), "ports.prometheus", "ports.alertmanager", "ports.grafana", "portStep", "forMinutes"];
    expect(covered.sort()).toEqual(leaves(MONITORING_DEFAULTS).sort());
    expect(MONITORING_DEFAULTS.portStep).toBe(10);
    expect(MONITORING_DEFAULTS.forMinutes).toBe(5);
  });

  it("deploys each runbook's own thresholds, over the defaults every app gets", () => {
    for (const id of catalogIds) {
      const alerts = minimal(id).monitoring!.alerts;
      for (const [signal, rule] of Object.entries(catalog[id]!.requirements.alerts ?? {})) {
        expect(alerts[signal as keyof typeof alerts], `${id} ${signal}`).toEqual(rule!.value);
      }
      expect(alerts.backupAge, id).toBeDefined();
      expect(alerts.diskCritical, id).toBeDefined();
    }
    expect(minimal("fdts").monitoring!.alerts.errorRate).toMatchObject({ threshold: 10, forMinutes: 5 });
    expect(minimal("lms").monitoring!.alerts.diskCritical).toMatchObject({ threshold: 95, severity: "critical" });
  });

  it("sends nothing anywhere until the stack names receivers", () => {
    expect(minimal("lms").monitoring!.receivers).toEqual({ critical: {}, warning: {}, info: {} });
    expect(minimal("lms").monitoring!.smtp).toBeUndefined();
  });
});

describe("monitoring settings a stack may change", () => {
  it("loosens or tightens a runbook threshold (policies decide whether the stack still meets its runbook)", () => {
    const fdts = minimal("fdts", { monitoring: { alerts: { errorRate: { threshold: 20 } }, retentionDays: 30 } }).monitoring!;
    expect(fdts.alerts.errorRate).toEqual({ threshold: 20, forMinutes: 5, severity: "critical", procedure: "High Error Rate Alert" });
    expect(fdts.retentionDays).toBe(30);
  });

  it("adds a threshold the runbook does not set, with the default duration and warning severity", () => {
    expect(minimal("fairlens", { monitoring: { alerts: { cpu: { threshold: 75 } } } }).monitoring!.alerts.cpu).toEqual({ threshold: 75, forMinutes: 5, severity: "warning" });
  });

  it("turns monitoring off for an app", () => {
    expect(minimal("fdts", { monitoring: { enabled: false } }).monitoring).toBeUndefined();
  });

  it("takes receivers only as secure values, under the top-level alerting key, and resolves them for the app", () => {
    const spec = parseStackConfig(
      prod((c) => {
        c["alerting"]!["lms"] = {
          critical: { email: { secure: "ops@example.com" }, webhookUrl: { secure: "https://pager.example.com/hook" } },
          warning: { slackWebhookUrl: { secure: "https://hooks.slack.com/services/T/B/C" } },
          smtp: { smarthost: { secure: "smtp.example.com:587" }, from: { secure: "alerts@example.com" } },
        };
      }) as RawConfig,
    );
    const lms = spec.apps.find((a) => a.id === "lms")!.monitoring!;
    expect(lms.receivers.critical).toEqual({ email: "ops@example.com", webhookUrl: "https://pager.example.com/hook" });
    expect(lms.receivers.warning).toEqual({ slackWebhookUrl: "https://hooks.slack.com/services/T/B/C" });
    expect(lms.smtp).toEqual({ smarthost: "smtp.example.com:587", from: "alerts@example.com" });
  });
});

describe("apps.<id>.monitoring.externalProbes: the URL of each service the runbook checks", () => {
  it("resolves the committed stacks' probes in the catalog's order, with the default duration and severity unless set", () => {
    const prodApps = parseStackConfig(rawStackConfig("prod")).apps;
    const probes = (id: string) => prodApps.find((a) => a.id === id)!.monitoring!.externalProbes;
    expect(probes("fairlens")).toEqual([
      { name: "algorand", displayName: "Algorand node", expect: "2xx", timeoutSeconds: 5, procedure: "Blockchain Issues", url: "https://algod.fairlens-prod.example.com/health", forMinutes: 5, severity: "warning" },
    ]);
    expect(probes("handwork").map((p) => [p.name, p.expect, p.url, p.forMinutes, p.severity])).toEqual([
      ["stripe", "any-response", "https://api.stripe.com/v1/charges", 5, "critical"],
      ["paypal", "any-response", "https://api.paypal.com/v1/oauth2/token", 5, "critical"],
      ["firebase", "any-response", "https://fcm.googleapis.com/fcm/send", 5, "warning"],
    ]);
    expect(probes("fdts")).toEqual([]);
    expect(EXTERNAL_PROBE_DEFAULTS).toEqual({ forMinutes: 5, severity: "warning" });
  });

  it("probes nothing the stack gives no URL for, and takes a stack's duration and severity", () => {
    expect(minimal("handwork").monitoring!.externalProbes).toEqual([]);
    const set = minimal("handwork", { monitoring: { externalProbes: { firebase: { url: "https://fcm.googleapis.com/fcm/send", forMinutes: 15, severity: "info" } } } });
    expect(set.monitoring!.externalProbes.map((p) => [p.name, p.forMinutes, p.severity])).toEqual([["firebase", 15, "info"]]);
  });

  const probe = (id: string, name: string, value: unknown) => (c: Record<string, Record<string, Record<string, unknown>>>) => {
    ((c["apps"]![id] as Record<string, unknown>)["monitoring"] = { externalProbes: { [name]: value } });
  };
  it.each<[string, (c: Record<string, Record<string, Record<string, unknown>>>) => void, string[]]>([
    ["plain http", probe("fairlens", "algorand", { url: "http://algod.example.com/health" }), [
      "runbook:apps.fairlens.monitoring.externalProbes.algorand.url: must use https, not plain http: the probe verifies the service's certificate, as the runbook's requests.get does",
    ]],
    ["a string that is no URL", probe("handwork", "stripe", { url: "api.stripe.com/v1/charges" }), [
      "runbook:apps.handwork.monitoring.externalProbes.stripe.url: must be an absolute https URL, such as https://api.stripe.com/v1/charges",
    ]],
    ["another scheme", probe("handwork", "stripe", { url: "ftp://api.stripe.com/" }), ["runbook:apps.handwork.monitoring.externalProbes.stripe.url: must be an https URL (got ftp)"]],
    ["credentials in the URL", probe("handwork", "paypal", { url: "https://client:secret@api.paypal.com/v1/oauth2/token" }), [
      "runbook:apps.handwork.monitoring.externalProbes.paypal.url: must carry no user or password: the URL is written to prometheus.yml in plain text",
    ]],
    ["a query string", probe("fairlens", "algorand", { url: "https://algod.example.com/health?token=abc" }), [
      "runbook:apps.fairlens.monitoring.externalProbes.algorand.url: must have no query string or fragment: the URL is written to prometheus.yml in plain text, and a key in it would be too",
    ]],
    ["the loopback address", probe("fairlens", "algorand", { url: "https://127.0.0.1:8080/health" }), [
      "runbook:apps.fairlens.monitoring.externalProbes.algorand.url: must name the service, not the loopback address (inside the blackbox container that is the exporter itself)",
    ]],
    ["no URL", probe("handwork", "firebase", { severity: "warning" }), ["runbook:apps.handwork.monitoring.externalProbes.firebase.url: is required (must be an https URL string)"]],
    ["an unknown key", probe("handwork", "firebase", { url: "https://fcm.googleapis.com/fcm/send", timeout: 5 }), ["runbook:apps.handwork.monitoring.externalProbes.firebase.timeout: unknown key"]],
    ["a service the runbook does not check", probe("handwork", "twilio", { url: "https://api.twilio.com/" }), [
      "runbook:apps.handwork.monitoring.externalProbes.twilio: is not an external service Handwork Marketplace's runbook checks; it checks stripe, paypal, firebase",
    ]],
    ["a service of an app whose runbook checks none", probe("fdts", "stripe", { url: "https://api.stripe.com/v1/charges" }), [
      "runbook:apps.fdts.monitoring.externalProbes.stripe: is not an external service FDTS's runbook checks; it checks none",
    ]],
    ["a duration of 0", probe("fairlens", "algorand", { url: "https://algod.example.com/health", forMinutes: 0 }), ["runbook:apps.fairlens.monitoring.externalProbes.algorand.forMinutes: must be at least 1"]],
    ["probes of an app whose monitoring is off", (c) => ((c["apps"]!["fairlens"] as Record<string, unknown>)["monitoring"] = { enabled: false, externalProbes: { algorand: { url: "https://algod.example.com/health" } } }), [
      "runbook:alerting.fairlens: monitoring is off for this app (apps.fairlens.monitoring.enabled); remove its receivers or turn it on",
      "runbook:apps.fairlens.monitoring.externalProbes: monitoring is off for this app (apps.fairlens.monitoring.enabled): nothing would probe them; remove them or turn it on",
    ]],
  ])("reports %s, naming the key", (_label, change, expected) => {
    expect(problemsOf(prod(change))).toEqual(expected);
  });
});

describe("monitoring config problems, each with its key path", () => {
  it.each<[string, (c: Record<string, Record<string, Record<string, unknown>>>) => void, string[]]>([
    ["a receiver in plain text", (c) => (c["alerting"]!["fdts"] = { critical: { slackWebhookUrl: "https://hooks.slack.com/x" } }), [
      "runbook:alerting.fdts.critical.slackWebhookUrl: must be a secret: set it with `pulumi config set --secret --path <key>`, never as plain text",
    ]],
    ["receivers of an app the stack does not deploy", (c) => {
      delete c["apps"]!["fdts"];
      c["alerting"]!["fdts"] = { critical: { webhookUrl: { secure: "x" } } };
    }, ["runbook:alerting.fdts: this stack does not deploy that app (add it under apps or remove its receivers)"]],
    ["e-mail without SMTP", (c) => (c["alerting"]!["lms"] = { critical: { email: { secure: "ops@example.com" } } }), [
      "runbook:alerting.lms.smtp: is required to send e-mail: at least smarthost (host:port) and from, as secrets",
    ]],
    ["receivers of an app whose monitoring is off", (c) => ((c["apps"]!["fdts"] as Record<string, unknown>)["monitoring"] = { enabled: false }), [
      "runbook:alerting.fdts: monitoring is off for this app (apps.fdts.monitoring.enabled); remove its receivers or turn it on",
    ]],
    ["an unknown app under alerting", (c) => (c["alerting"]!["blog"] = {}), ["runbook:alerting.blog: unknown app; the catalog has fairlens, fdts, reference, lms, handwork"]],
    ["an unknown alert signal", (c) => ((c["apps"]!["fdts"] as Record<string, unknown>)["monitoring"] = { alerts: { latency: { threshold: 1 } } }), ["runbook:apps.fdts.monitoring.alerts.latency: unknown key"]],
    ["a percentage threshold of 100 or more", (c) => ((c["apps"]!["fdts"] as Record<string, unknown>)["monitoring"] = { alerts: { errorRate: { threshold: 100 } } }), [
      "runbook:apps.fdts.monitoring.alerts.errorRate.threshold: must be at most 99.9 (percent): an alert above 100 % never fires",
    ]],
    ["a new signal without a threshold", (c) => ((c["apps"]!["fairlens"] as Record<string, unknown>)["monitoring"] = { alerts: { cpu: { forMinutes: 10 } } }), [
      "runbook:apps.fairlens.monitoring.alerts.cpu.threshold: is required: FairLens's runbook sets no cpu threshold to start from",
    ]],
    ["a retention out of range", (c) => ((c["apps"]!["lms"] as Record<string, unknown>)["monitoring"] = { retentionDays: 0 }), ["runbook:apps.lms.monitoring.retentionDays: must be at least 1"]],
    ["a UI port another app of the host publishes", (c) => {
      (c["apps"]!["fdts"] as Record<string, unknown>)["host"] = (c["apps"]!["lms"] as Record<string, unknown>)["host"];
      (c["apps"]!["fdts"] as Record<string, unknown>)["hostKey"] = (c["apps"]!["lms"] as Record<string, unknown>)["hostKey"];
      (c["apps"]!["fdts"] as Record<string, unknown>)["monitoring"] = { ports: { grafana: 3030 } };
    }, []],
    ["a UI port the proxy holds", (c) => ((c["apps"]!["fdts"] as Record<string, unknown>)["monitoring"] = { ports: { prometheus: 443 } }), [
      "runbook:apps.fdts.monitoring.ports.prometheus: host port 443 on ssh://deploy@fdts-prod.example.com is already published by fdts's proxy; give each UI on a host its own port",
    ]],
  ])("reports %s", (_label, change, expected) => {
    const problems = problemsOf(prod(change));
    if (expected.length === 0) {
      // Two apps moved onto one host, with one UI port set to the other's: named at the second app.
      expect(problems.some((p) => /monitoring\.ports\.grafana: host port 3030 on ssh:\/\/deploy@lms-prod\.example\.com is already published by (lms|fdts)'s grafana/.test(p)), problems.join("\n")).toBe(true);
    } else {
      expect(problems).toEqual(expected);
    }
  });
});
