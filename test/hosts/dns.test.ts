/**
 * `apps.<id>.dns`: an A record in a Route 53 zone for the app's name, at the elastic IP of a host the
 * stack creates or the address of an existing host; config errors name the key; under mocks, the
 * record a recovery stack with the same setting would make points at its own new host.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { DNS_DEFAULTS } from "../../config/dns";
import { parseStackConfig, type RawConfig } from "../../config/resolve";
import { runUnderMocks, type PlannedResource } from "../../plan/mockRuntime";
import type { StackOutputs } from "../../program";
import { inputs, problemsOf } from "../helpers";
import { awsStackConfig } from "./fixtures";

const ZONE = "Z0123456789ABCDEFGHIJ";

/** The fixture (fdts created on AWS, lms on an existing ssh host), with `dns` set per app. */
function withDns(dns: Record<string, Record<string, unknown> | undefined>, change: (apps: Record<string, Record<string, unknown>>) => void = () => {}): RawConfig {
  const raw = structuredClone(awsStackConfig()) as unknown as { apps: Record<string, Record<string, unknown>> };
  for (const [id, d] of Object.entries(dns)) if (d) raw.apps[id]!["dns"] = d;
  change(raw.apps);
  return raw as unknown as RawConfig;
}

describe("dns config", () => {
  it("resolves the name from the domain, a short TTL, no overwrite, and the address of an ssh host given by IP", () => {
    const spec = parseStackConfig(withDns({ fdts: { zoneId: ZONE }, lms: { zoneId: ZONE, name: "www.lms.example.com", ttl: 300 } }, (apps) => (apps["lms"]!["host"] = "ssh://deploy@192.0.2.10:2222")));
    expect(spec.apps.find((a) => a.id === "fdts")!.dns).toEqual({ zoneId: ZONE, name: "fdts.example.com", ttl: DNS_DEFAULTS.ttl, allowOverwrite: false });
    expect(spec.apps.find((a) => a.id === "lms")!.dns).toEqual({ zoneId: ZONE, name: "www.lms.example.com", ttl: 300, allowOverwrite: false, address: "192.0.2.10" });
    expect(DNS_DEFAULTS).toEqual({ ttl: 60, allowOverwrite: false });
  });

  it.each([
    ["a zone id that is not one", { fdts: { zoneId: "example.com" } }, "runbook:apps.fdts.dns.zoneId: must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ (from your AWS account; the program looks nothing up)"],
    ["an address for a created host", { fdts: { zoneId: ZONE, address: "192.0.2.1" } }, "runbook:apps.fdts.dns.address: must not be set: the record points at the elastic IP of the host the stack creates"],
    ["no address for an ssh host known by name", { lms: { zoneId: ZONE } }, "runbook:apps.lms.dns.address: is required: the app's host (ssh://deploy@lms-prod.example.com) is not an IPv4 address, and an A record needs the host's public IPv4 address"],
    ["an address that is not IPv4", { lms: { zoneId: ZONE, address: "2001:db8::1" } }, "runbook:apps.lms.dns.address: must be an IPv4 address such as 198.51.100.7"],
    ["a TTL of 0", { fdts: { zoneId: ZONE, ttl: 0 } }, "runbook:apps.fdts.dns.ttl: must be at least 1 second"],
    ["an unknown key", { fdts: { zoneId: ZONE, type: "CNAME" } }, "runbook:apps.fdts.dns"],
  ])("refuses %s, naming the key", (_, dns, message) => {
    const problems = problemsOf(withDns(dns));
    expect(problems.some((p) => p.startsWith(message)), problems.join("\n")).toBe(true);
  });

  it("needs a name when the app has no domain", () => {
    const raw = withDns({ lms: { zoneId: ZONE, address: "192.0.2.10" } }, (apps) => {
      delete apps["lms"]!["domain"];
      delete apps["lms"]!["proxy"];
    });
    expect(problemsOf(raw)).toContain("runbook:apps.lms.dns.name: is required: apps.lms.domain is not set, and the record needs a name");
  });
});

describe("dns records under mocks", () => {
  let resources: readonly PlannedResource[];
  let outputs: StackOutputs;
  beforeAll(async () => {
    const run = await runUnderMocks(parseStackConfig(withDns({ fdts: { zoneId: ZONE }, lms: { zoneId: ZONE, address: "192.0.2.10", allowOverwrite: true } })), "prod");
    resources = run.resources;
    outputs = run.outputs as StackOutputs;
  }, 120_000);
  const record = (id: string) => resources.find((r) => r.type === "aws:route53/record:Record" && r.name === `${id}-dns`);

  it("points a created host's name at its elastic IP, the address its deploy steps use", async () => {
    const r = record("fdts")!;
    const eip = resources.find((x) => x.type === "aws:ec2/eip:Eip" && x.name === "fdts-host-ip")!;
    expect(r.dependencies).toContain(eip.urn);
    const docker = resources.find((x) => x.name === "fdts-docker")!;
    const ip = String(inputs(docker)["host"]).replace("ssh://deploy@", "");
    expect(ip).toMatch(/^198\.51\.100\.\d+$/);
    expect(inputs(r)).toMatchObject({ zoneId: ZONE, name: "fdts.example.com", type: "A", ttl: 60, records: [ip], allowOverwrite: false });
    const reported = await new Promise<string>((resolve) => pulumi.output(outputs.apps["fdts"]!.hosting!.dns!).apply(resolve));
    expect(reported).toBe(`fdts.example.com A ${ip}`);
  });

  it("points an existing host's name at its configured address, and takes the record over only when told", () => {
    expect(inputs(record("lms")!)).toMatchObject({ zoneId: ZONE, name: "lms.example.com", type: "A", ttl: 60, records: ["192.0.2.10"], allowOverwrite: true });
  });

  it("makes no record for an app without the setting", async () => {
    const run = await runUnderMocks(parseStackConfig(awsStackConfig()), "prod");
    expect(run.resources.filter((r) => r.type === "aws:route53/record:Record")).toEqual([]);
  });
});
