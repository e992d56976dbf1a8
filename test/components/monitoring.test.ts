/**
 * Monitoring under mocks, for every app of the committed prod and staging stacks (and a stack that
 * sets receivers): the containers with their checks, limits and labels; UIs on 127.0.0.1 only;
 * protected data volumes; the rules Prometheus is given; secrets only as secrets; and cloud alarms
 * only for an app on an AWS instance.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { renderAlertRules } from "../../components/monitoring/alertRules";
import { BACKEND_LOG, BACKEND_LOG_IMAGE, renderBackendLogProgram } from "../../components/monitoring/backendLogProgram";
import { CloudAlarms } from "../../components/monitoring/cloudAlarms";
import { Monitoring, validateMonitoringArgs } from "../../components/monitoring/monitoring";
import { DEFAULTS, monitoringServices, PATHS, UIS } from "../../components/monitoring/settings";
import { alertRulesSpec } from "../../components/monitoring/specs";
import { AppStack } from "../../components/app/appStack";
import { AppSecrets, GRAFANA_PASSWORD_LENGTH } from "../../components/secrets/appSecrets";
import { parseStackConfig, type RawConfig } from "../../config/resolve";
import type { StackSpec } from "../../config/spec";
import { runUnderMocks, type PlannedResource } from "../../plan/mockRuntime";
import { CONTAINER, ROOT, byType, inputs, isSecretWire, rawStackConfig, stackSpec } from "../helpers";

type Labels = { label: string; value: string }[];
const COMMANDS = ["command:remote:Command", "command:local:Command"];

/** The committed prod stack, with receivers of every kind for the LMS (values are test strings). */
const SECRETS = { email: "oncall-not-real@example.com", slack: "https://hooks.slack.com/services/TNOTREAL/BNOTREAL/notreal", smtpPassword: "smtp-password-not-real" };
function withReceivers(): StackSpec {
  const raw = structuredClone(rawStackConfig("prod")) as Record<string, Record<string, unknown>>;
  raw["alerting"]!["lms"] = {
    critical: { email: { secure: SECRETS.email }, slackWebhookUrl: { secure: SECRETS.slack } },
    smtp: { smarthost: { secure: "smtp.example.com:587" }, from: { secure: "alerts@example.com" }, password: { secure: SECRETS.smtpPassword } },
  };
  return parseStackConfig(raw as RawConfig);
}

const runs: Record<string, { spec: StackSpec; resources: readonly PlannedResource[] }> = {};
beforeAll(async () => {
  for (const [name, spec] of [["prod", stackSpec("prod")], ["staging", stackSpec("staging")], ["receivers", withReceivers()]] as const) {
    runs[name] = { spec, resources: (await runUnderMocks(spec, name)).resources };
  }
});

const cases = ["prod", "staging"].flatMap((stack) => stackSpec(stack).apps.map((app) => [`${stack}/${app.id}`, stack, app.id] as const));

function view(stack: string, id: string) {
  const { spec, resources } = runs[stack]!;
  const app = spec.apps.find((a) => a.id === id)!;
  const component = resources.find((r) => r.type === "runbook:monitoring:Monitoring" && r.name === `${id}-monitoring`)!;
  const children = resources.filter((r) => r.parent === component.urn);
  const containers = byType(children, CONTAINER);
  const label = (c: PlannedResource, name: string) => (inputs(c)["labels"] as Labels).find((l) => l.label === name)?.value;
  const service = (s: string) => containers.find((c) => label(c, "runbook.service") === `monitoring:${s}`);
  const step = (suffix: string) => children.find((r) => COMMANDS.includes(r.type) && r.name === `${id}-monitoring-${suffix}`);
  return { app, component, children, containers, label, service, step, resources };
}

describe.each(cases)("Monitoring %s", (_name, stack, id) => {
  it("runs Prometheus, Alertmanager, Grafana and the exporters the app needs, labelled with the app", () => {
    const v = view(stack, id);
    expect(v.containers.map((c) => v.label(c, "runbook.service")).sort()).toEqual(monitoringServices(v.app).map((s) => `monitoring:${s}`).sort());
    for (const c of v.containers) {
      expect(v.label(c, "runbook.app"), c.name).toBe(id);
      expect(v.label(c, "runbook.environment"), c.name).toBe(v.app.environment);
    }
  });

  it("gives every container a health check that requests it, a restart policy, limits, log rotation and a health wait", () => {
    const v = view(stack, id);
    for (const c of v.containers) {
      const i = inputs(c);
      const tests = (i["healthcheck"] as { tests: string[] }).tests;
      expect(tests[0], c.name).toBe("CMD");
      expect(tests.join(" "), c.name).toMatch(/wget -q -O \/dev\/null http:\/\/127\.0\.0\.1:\d+\//);
      expect(i["restart"], c.name).toBe("unless-stopped");
      expect(i["memory"], c.name).toBeGreaterThanOrEqual(128);
      expect(Number(i["cpus"]), c.name).toBeGreaterThan(0);
      expect(i["logOpts"], c.name).toEqual({ "max-size": v.app.logRotation.maxSize, "max-file": String(v.app.logRotation.maxFile) });
      expect(i["wait"], c.name).toBe(true);
    }
  });

  it("publishes only the UIs, on 127.0.0.1 and the stack's ports; the proxy's exporters share its network namespace", () => {
    const v = view(stack, id);
    for (const c of v.containers) {
      const ports = (inputs(c)["ports"] ?? []) as { internal: number; external: number; ip: string }[];
      const service = v.label(c, "runbook.service")!.replace("monitoring:", "");
      if ((UIS as readonly string[]).includes(service)) {
        expect(ports, c.name).toEqual([expect.objectContaining({ external: v.app.monitoring!.ports[service as (typeof UIS)[number]], ip: "127.0.0.1" })]);
        expect(v.label(c, "runbook.role")).toBe("admin");
      } else {
        expect(ports, c.name).toEqual([]);
      }
    }
    const proxy = v.resources.find((r) => r.name === `${id}-proxy`)!;
    for (const s of ["nginx-exporter", "proxy-log-exporter"]) {
      expect(inputs(v.service(s)!)["networkMode"]).toBe(`container:${id}-proxy-id`);
      expect(v.service(s)!.dependencies).toContain(proxy.urn);
    }
  });

  it("lets the blackbox exporter out through the monitoring network only where it probes external services; the internal network has no route out", () => {
    const v = view(stack, id);
    const network = (name: string) => v.children.find((r) => r.type === "docker:index/network:Network" && r.name === name);
    const monitoringNet = network(`${id}-monitoring-net`)!;
    expect(inputs(monitoringNet)["internal"]).toBe(false);
    const blackbox = v.service("blackbox")!;
    const on = (c: PlannedResource) => c.dependencies.includes(monitoringNet.urn);
    expect(on(blackbox), "blackbox").toBe(v.app.monitoring!.externalProbes.length > 0);
    expect((inputs(blackbox)["networksAdvanced"] as unknown[]).length).toBe(v.app.monitoring!.externalProbes.length > 0 ? 2 : 1);
    // Apart from the blackbox exporter, only the UIs are on it.
    const others = v.containers.filter((c) => c !== blackbox && on(c)).map((c) => v.label(c, "runbook.service")!.replace("monitoring:", ""));
    expect(others.sort()).toEqual([...UIS].sort());
    expect(["fairlens", "handwork"].includes(id)).toBe(v.app.monitoring!.externalProbes.length > 0);
  });

  it("keeps Prometheus and Grafana data on volumes, protected and retained in prod, and Prometheus' retention from the config", () => {
    const v = view(stack, id);
    for (const key of ["prometheus-data", "grafana-data"]) {
      const volume = v.children.find((r) => r.name === `${id}-monitoring-${key}`)!;
      expect(volume.options.protect, key).toBe(v.app.protectState);
      expect(volume.options.retainOnDelete, key).toBe(v.app.protectState);
    }
    expect(inputs(v.service("prometheus")!)["command"]).toContain(`--storage.tsdb.retention.time=${v.app.monitoring!.retentionDays}d`);
  });

  it("gives Prometheus the rules rendered from the app's runbook thresholds", () => {
    const v = view(stack, id);
    const uploads = inputs(v.service("prometheus")!)["uploads"] as { file: string; content: string }[];
    expect(uploads.find((u) => u.file === PATHS.rules)!.content).toBe(renderAlertRules(alertRulesSpec(v.app)));
  });

  it("passes Grafana its generated password and Alertmanager its receivers only as secrets", () => {
    const v = view(stack, id);
    const grafana = v.service("grafana")!;
    expect(grafana.options.additionalSecretOutputs).toContain("envs");
    const secretEnvs = (grafana.wireInputs["envs"] as unknown[]).filter(isSecretWire);
    expect(secretEnvs).toHaveLength(1);
    expect(isSecretWire(v.step("alertmanager-config")!.wireInputs["stdin"])).toBe(true);
    expect(isSecretWire(v.step("grafana-password")!.wireInputs["stdin"])).toBe(true);
    const password = v.resources.find((r) => r.name === `${id}-secrets-grafana-admin-password`)!;
    expect(inputs(password)).toMatchObject({ length: GRAFANA_PASSWORD_LENGTH, special: false, keepers: { "runbook.app": id, "runbook.secret": "GF_SECURITY_ADMIN_PASSWORD" } });
  });

  it("makes no cloud alarm for a host reached over ssh", () => {
    const v = view(stack, id);
    // The app's Secrets Manager copies are AWS resources too; the monitoring's would be alarms or topics.
    expect(v.resources.filter((r) => /^aws:(cloudwatch|sns)\//.test(r.type))).toEqual([]);
    expect(v.resources.some((r) => r.type === "runbook:monitoring:CloudAlarms")).toBe(false);
  });
});

describe.each(cases)("the backend log exporter of %s", (_name, stack, id) => {
  const optsIn = ["handwork", "fairlens"].includes(id);

  it("runs mtail, a Prometheus job for it and its rules only where the app's catalog counts log lines (Handwork, FairLens)", () => {
    const v = view(stack, id);
    expect(v.app.monitoring!.backendLog !== undefined).toBe(optsIn);
    expect(v.service("backend-log-exporter") !== undefined).toBe(optsIn);
    const prometheus = parse((inputs(v.service("prometheus")!)["uploads"] as { file: string; content: string }[]).find((u) => u.file === PATHS.prometheusConfig)!.content) as {
      scrape_configs: { job_name: string; static_configs?: { targets: string[] }[] }[];
    };
    const job = prometheus.scrape_configs.find((j) => j.job_name === "backend-log");
    expect(job?.static_configs).toEqual(optsIn ? [{ targets: [`backend-log-exporter:${BACKEND_LOG.port}`] }] : undefined);
    const rules = renderAlertRules(alertRulesSpec(v.app));
    for (const alert of ["PaymentErrorRateHigh", "PaymentsDown", "BackendPoolExhausted", "DatabaseLocked", "DatabaseCannotOpen"]) expect(rules.includes(`alert: ${alert}\n`), alert).toBe(id === "handwork");
    expect(rules.includes("alert: BackendDatabaseUnreachable\n")).toBe(id === "fairlens");
  });

});

describe.each(cases.filter(([, , id]) => id === "handwork"))("the backend log exporter of %s, the app that counts its log lines", (_name, stack, id) => {
  it("tails each backend replica's json-file log, from a read-only mount of Docker's containers directory, with the rendered program, after the replicas start", () => {
    const v = view(stack, id);
    const mtail = v.service("backend-log-exporter")!;
    const i = inputs(mtail);
    const replicas = v.resources.filter((r) => r.type === CONTAINER && (inputs(r)["labels"] as Labels).some((l) => l.label === "runbook.service" && l.value === "backend") && (inputs(r)["labels"] as Labels).some((l) => l.label === "runbook.app" && l.value === id));
    expect(replicas).toHaveLength(v.app.backend.replicas);
    const files = replicas.map((r) => `/var/lib/docker/containers/${r.name}-id/${r.name}-id-json.log`);
    expect(i["command"]).toEqual([`--progs=${BACKEND_LOG.programDir}`, `--logs=${files.join(",")}`, `--port=${BACKEND_LOG.port}`, "--logtostderr"]);
    expect(i["volumes"]).toEqual([{ hostPath: "/var/lib/docker/containers", containerPath: "/var/lib/docker/containers", readOnly: true }]);
    expect(i["ports"] ?? []).toEqual([]);
    expect((i["uploads"] as { file: string; content: string }[]).map((u) => [u.file, u.content])).toEqual([[PATHS.backendLogProgram, renderBackendLogProgram(v.app.monitoring!.backendLog!, id)]]);
    for (const r of replicas) expect(mtail.dependencies, r.name).toContain(r.urn);
    // A new mtail starts before the old one goes: no host port, no volume of its own.
    expect(mtail.options.deleteBeforeReplace).toBe(false);
  });

  it("builds its pinned image on the host from the committed Dockerfile (google/mtail publishes no image), kept locally", () => {
    const v = view(stack, id);
    const image = v.children.find((r) => r.name === `${id}-monitoring-backend-log-exporter-image`)!;
    expect(inputs(image)).toMatchObject({ name: DEFAULTS.images["backend-log-exporter"], keepLocally: true, build: { context: BACKEND_LOG_IMAGE.context } });
    // Relative to the project root, where the engine starts the provider: the same in every checkout.
    expect(path.isAbsolute(BACKEND_LOG_IMAGE.context)).toBe(false);
    const dockerfile = fs.readFileSync(path.join(ROOT, BACKEND_LOG_IMAGE.context, "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/^FROM debian:12\.\d+-slim$/m);
    expect(dockerfile).toContain("mtail=3.0.0~rc50-1+b6");
    expect(DEFAULTS.images["backend-log-exporter"]).toBe("runbook/mtail:3.0.0-rc50-debian12");
  });
});

describe("receivers set in a stack", () => {
  it("never appear in plain text in any input of any resource", () => {
    const plain = JSON.stringify(runs["receivers"]!.resources.map((r) => inputs(r)));
    for (const secret of Object.values(SECRETS)) expect(plain).not.toContain(secret);
    // They do reach the step, as a secret.
    const step = runs["receivers"]!.resources.find((r) => r.name === "lms-monitoring-alertmanager-config")!;
    expect(JSON.stringify(step.wireInputs["stdin"])).toContain(SECRETS.slack);
  });
});

describe("cloud alarms for an app on an AWS instance", () => {
  it("watches the instance's status check and CPU, to an SNS topic with the critical receivers as subscriptions", async () => {
    const spec = withReceivers();
    const run = await runUnderMocks(spec, "aws", (s) => {
      const lms = s.apps.find((a) => a.id === "lms")!;
      const secrets = new AppSecrets("lms-secrets", { app: lms });
      const stack = new AppStack("lms", { app: lms, secrets });
      // The hosts area makes the instance; here a fake id stands in for it.
      return new Monitoring("lms-monitoring", { app: lms, stack, secrets, instance: { id: "i-0123456789abcdef0", arn: "arn:aws:ec2:eu-west-1:111122223333:instance/i-0123456789abcdef0" } });
    });
    const aws = run.resources.filter((r) => r.type.startsWith("aws:"));
    const alarms = aws.filter((r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm").map(inputs);
    expect(alarms.map((a) => [a["metricName"], a["dimensions"], a["threshold"]])).toEqual([
      ["StatusCheckFailed", { InstanceId: "i-0123456789abcdef0" }, 1],
      ["CPUUtilization", { InstanceId: "i-0123456789abcdef0" }, 70],
    ]);
    const topic = aws.find((r) => r.type === "aws:sns/topic:Topic")!;
    for (const a of alarms) expect(a["alarmActions"]).toEqual([`arn:aws:sns:eu-west-1:123456789012:${topic.name}`]);
    const subscriptions = aws.filter((r) => r.type === "aws:sns/topicSubscription:TopicSubscription");
    expect(subscriptions.map((s) => inputs(s)["protocol"])).toEqual(["email"]);
    expect(isSecretWire(subscriptions[0]!.wireInputs["endpoint"])).toBe(true);
    expect(JSON.stringify(aws.map(inputs))).not.toContain(SECRETS.email);
    // Under a key of its own that CloudWatch alarms may use: with alias/aws/sns no alarm could publish.
    const key = aws.find((r) => r.type === "aws:kms/key:Key" && r.name === "lms-monitoring-alarms-topic-key")!;
    expect(topic.dependencies).toContain(key.urn);
    expect(inputs(topic)["kmsMasterKeyId"]).not.toBe("alias/aws/sns");
    const policy = JSON.parse(String(inputs(key)["policy"])) as { Statement: { Principal: Record<string, string>; Action: unknown }[] };
    expect(policy.Statement).toEqual([
      expect.objectContaining({ Principal: { AWS: "arn:aws:iam::111122223333:root" }, Action: "kms:*" }),
      expect.objectContaining({ Principal: { Service: "cloudwatch.amazonaws.com" }, Action: ["kms:Decrypt", "kms:GenerateDataKey*"] }),
    ]);
  });
});

describe("Monitoring and CloudAlarms refuse bad arguments before any resource", () => {
  const lms = stackSpec("prod").apps.find((a) => a.id === "lms")!;
  const stack = {} as Parameters<typeof validateMonitoringArgs>[0]["stack"];
  const secrets = { grafanaAdminPassword: undefined, database: undefined };
  it.each<[string, Parameters<typeof validateMonitoringArgs>[0], string]>([
    ["monitoring off", { app: { ...lms, monitoring: undefined }, stack, secrets }, "`app.monitoring` must be set: monitoring is off for lms"],
    ["no Grafana password", { app: lms, stack, secrets }, "`secrets.grafanaAdminPassword` must be given: Grafana never runs on its default admin password"],
  ])("%s", (_label, args, message) => {
    expect(() => validateMonitoringArgs(args)).toThrow(message);
  });

  it("refuses an image that is not pinned", () => {
    const args = { app: lms, stack: { database: {} } as typeof stack, secrets: { grafanaAdminPassword: "x" as never, database: {} as never }, images: { grafana: "grafana/grafana:latest" } };
    expect(() => validateMonitoringArgs(args)).toThrow("`images.grafana` must be pinned to a tag or digest (got grafana/grafana:latest)");
  });

  it.each<[string, ConstructorParameters<typeof CloudAlarms>[1], string]>([
    ["a CPU threshold of 100", { app: "lms", instanceId: "i-1", instanceArn: "arn:aws:ec2:eu-west-1:111122223333:instance/i-1", cpuPercent: 100 }, "`cpuPercent` must be between 0 and 100 (got 100)"],
    ["an https subscription to a plain http endpoint", { app: "lms", instanceId: "i-1", instanceArn: "arn:aws:ec2:eu-west-1:111122223333:instance/i-1", subscriptions: [{ protocol: "https", endpoint: "http://pager.example.com" }] }, "`subscriptions`: an https subscription needs an https:// endpoint"],
  ])("CloudAlarms refuses %s", (_label, args, message) => {
    expect(() => new CloudAlarms("bad", args)).toThrow(message);
  });
});
