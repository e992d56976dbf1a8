/**
 * Centralized logging under mocks, for every app of the committed prod stack: each app's log
 * collector reads Docker's container logs read-only and writes the store on the host; its inputs step
 * waits for every container of the app and re-runs when any is new; the forward, where set, has its
 * own network, the CA and the receiver's name; `logging.enabled: false` runs none. And the setting's
 * errors name their key.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { hostStore, LOG_COLLECTOR, renderCollectorConfig, renderCollectorStart } from "../../components/logging/collectorConfig";
import { LOG_COLLECTOR_IMAGE } from "../../components/logging/logCollector";
import { PROJECT } from "../../config/defaults";
import { parseStackConfig, type RawConfig } from "../../config/resolve";
import { runUnderMocks, type PlannedResource } from "../../plan/mockRuntime";
import type { StackOutputs } from "../../program";
import { CONTAINER, ROOT, inputs, named, problemsOf, rawStackConfig } from "../helpers";

const CA = "-----BEGIN CERTIFICATE-----\nMIIBfTCCASOgAwIBAgIUJ2Vq0m2l1yS0aGVsbG8=\n-----END CERTIFICATE-----\n";
const FORWARD = { address: "logs.example.com", caCertificate: CA };

type Run = { resources: readonly PlannedResource[]; outputs: StackOutputs };
const runs: Record<string, Run> = {};

function withLogging(logging: unknown): RawConfig {
  const raw = structuredClone(rawStackConfig("prod")) as { apps: Record<string, Record<string, unknown>> };
  for (const app of Object.values(raw.apps)) app["logging"] = logging;
  return raw as unknown as RawConfig;
}

beforeAll(async () => {
  for (const [key, raw] of [["prod", rawStackConfig("prod")], ["forward", withLogging({ forward: FORWARD })], ["off", withLogging({ enabled: false })]] as const) {
    const run = await runUnderMocks(parseStackConfig(raw, PROJECT), "prod");
    runs[key] = { resources: run.resources, outputs: run.outputs as StackOutputs };
  }
}, 120_000);

const ids = parseStackConfig(rawStackConfig("prod"), PROJECT).apps.map((a) => a.id);
const labelOf = (r: PlannedResource, label: string) => (inputs(r)["labels"] as { label: string; value: string }[] | undefined)?.find((l) => l.label === label)?.value;

describe("the log collector under mocks", () => {
  it.each(ids)("%s: reads Docker's container logs read-only, writes the store under /var/log/runbook on the host, has no network, and stops before its replacement starts", (id) => {
    const { resources, outputs } = runs["prod"]!;
    const collector = named(resources, `${id}-logs-collector`);
    const args = inputs(collector);
    expect(args["volumes"]).toEqual([
      { hostPath: "/var/lib/docker/containers", containerPath: "/var/lib/docker/containers", readOnly: true },
      { hostPath: `/var/log/runbook/${id}`, containerPath: "/logs" },
    ]);
    expect(args["networkMode"]).toBe("none");
    // Its own start command: a stale pid file (after a kill) would keep rsyslogd from starting.
    expect([args["entrypoints"], args["command"]]).toEqual([["/bin/sh", "-c"], [renderCollectorStart()]]);
    expect(renderCollectorStart()).toMatch(/^mkdir -p \/logs\/.rsyslog && rm -f \/run\/rsyslogd.pid && .* && exec rsyslogd -n -f \/etc\/runbook-logs\/rsyslog.conf -i \/run\/rsyslogd.pid$/);
    expect(args["networksAdvanced"]).toBeUndefined();
    expect(args["uploads"]).toEqual([{ file: LOG_COLLECTOR.configFile, content: renderCollectorConfig({ appId: id, environment: "prod" }) }]);
    expect(collector.options.deleteBeforeReplace).toBe(true);
    expect(labelOf(collector, "runbook.service")).toBe("logging:collector");
    expect(outputs.apps[id]!.logs).toEqual({ store: hostStore(id) });
  });

  it.each(ids)("%s: the inputs step waits for the collector and every other container of the app, and re-runs when any of them is replaced", (id) => {
    const { resources } = runs["prod"]!;
    const step = named(resources, `${id}-logs-inputs`);
    const collector = named(resources, `${id}-logs-collector`);
    const appContainers = resources.filter((r) => r.type === CONTAINER && labelOf(r, "runbook.app") === id && r !== collector);
    expect(appContainers.length).toBeGreaterThan(5);
    expect(appContainers.some((c) => labelOf(c, "runbook.service")?.startsWith("monitoring:"))).toBe(true);
    for (const c of [collector, ...appContainers]) expect(step.dependencies, c.name).toContain(c.urn);
    const triggers = inputs(step)["triggers"] as unknown[];
    expect(triggers[0]).toBe(`${collector.name}-id`);
    expect([...(triggers[1] as string[])].sort()).toEqual(appContainers.map((c) => `${c.name}-id`).sort());
    expect(String(inputs(step)["create"])).toContain(`--filter label=runbook.app=${id} --filter label=runbook.environment=prod`);
  });

  it.each(ids)("%s: with logging.forward, joins a network with a route out, carries the receiver's CA, and names the receiver it checks", (id) => {
    const { resources, outputs } = runs["forward"]!;
    const collector = named(resources, `${id}-logs-collector`);
    const network = named(resources, `${id}-logs-net`);
    expect(inputs(network)["internal"]).toBe(false);
    expect(inputs(collector)["networkMode"]).toBeUndefined();
    expect(inputs(collector)["networksAdvanced"]).toEqual([{ name: inputs(network)["name"] ?? expect.any(String) }]);
    const uploads = inputs(collector)["uploads"] as { file: string; content: string }[];
    expect(uploads.find((u) => u.file === LOG_COLLECTOR.caFile)?.content).toBe(CA);
    const config = uploads.find((u) => u.file === LOG_COLLECTOR.configFile)!.content;
    expect(config).toContain('target="logs.example.com" port="6514" protocol="tcp"');
    expect(config).toContain('StreamDriverMode="1" StreamDriverAuthMode="x509/name" StreamDriverPermittedPeers="logs.example.com"');
    expect(outputs.apps[id]!.logs).toEqual({ store: hostStore(id), forwardedTo: "logs.example.com:6514" });
  });

  it.each(ids)("%s: builds its image on the host from the committed Dockerfile, by a context path relative to the project root (the same in every checkout), pinned rsyslog", (id) => {
    const image = named(runs["prod"]!.resources, `${id}-logs-image`);
    expect(inputs(image)).toMatchObject({ name: LOG_COLLECTOR_IMAGE.name, keepLocally: true, build: { context: "components/logging/rsyslog-image" } });
    const dockerfile = fs.readFileSync(path.join(ROOT, LOG_COLLECTOR_IMAGE.context, "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/^FROM debian:12\.\d+-slim$/m);
    expect(dockerfile).toContain("rsyslog=8.2302.0-1+deb12u2 rsyslog-gnutls=8.2302.0-1+deb12u2");
    // The list of logs to follow lives in the store on the host, which a new container keeps.
    expect(LOG_COLLECTOR.inputsFile.startsWith(`${LOG_COLLECTOR.store}/`)).toBe(true);
  });

  it.each(ids)("%s: logging.enabled false runs no collector and counts none in the capacity output", (id) => {
    const { resources, outputs } = runs["off"]!;
    expect(resources.some((r) => r.name.startsWith(`${id}-logs-`))).toBe(false);
    expect(outputs.apps[id]!.logs).toBeUndefined();
    expect(outputs.apps[id]!.capacity!.services[LOG_COLLECTOR.service]).toBeUndefined();
    expect(runs["prod"]!.outputs.apps[id]!.capacity!.services[LOG_COLLECTOR.service]).toEqual({ replicas: 1, cpus: 0.25, memoryMb: 128 });
  });
});

describe("apps.<id>.logging errors name their key", () => {
  const problems = (logging: unknown) => problemsOf(withLogging(logging)).filter((p) => p.startsWith("runbook:apps.fairlens.logging"));
  it("refuses a receiver given by IP address without the name its certificate carries", () => {
    expect(problems({ forward: { ...FORWARD, address: "10.0.0.5" } })).toEqual([
      "runbook:apps.fairlens.logging.forward.serverName: must be set when `address` is an IP address: the name the receiver's certificate carries, which the collector checks",
    ]);
    expect(problems({ forward: { ...FORWARD, address: "10.0.0.5", serverName: "logs.example.com" } })).toEqual([]);
  });
  it("refuses a CA that is not a PEM certificate, an address with a scheme, and a forward with the collector off", () => {
    expect(problems({ forward: { ...FORWARD, caCertificate: "not a certificate" } })).toEqual([
      "runbook:apps.fairlens.logging.forward.caCertificate: must be one or more PEM certificates (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)",
    ]);
    expect(problems({ forward: { ...FORWARD, address: "tcp://logs.example.com" } })).toEqual([
      "runbook:apps.fairlens.logging.forward.address: must be the receiver's DNS name or IPv4 address (no scheme or port)",
    ]);
    expect(problems({ enabled: false, forward: FORWARD })).toEqual(["runbook:apps.fairlens.logging.forward: forwarding needs the log collector: remove `forward` or set `enabled: true`"]);
  });
});
