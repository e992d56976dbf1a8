/**
 * Config of the hosts and firewall area: CIDR and port validation as property tests, every bad
 * input refused with its key path, the defaults pinned, and how apps on one host share its firewall.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addressIn, cidrProblem, cidrsOverlap, parseCidr } from "../../components/firewall/cidr";
import { HOSTS_DEFAULTS } from "../../config/hosts";
import { parseStackConfig, type RawConfig } from "../../config/resolve";
import { problemsOf, rawStackConfig, stackSpec } from "../helpers";
import { AWS_HOST, awsStackConfig } from "../hosts/fixtures";

/** The committed prod stack with lms's `firewall` (or another key of lms) replaced. */
function prodWith(key: string, value: unknown, environment = "prod"): Record<string, unknown> {
  const cfg = structuredClone(rawStackConfig("prod")) as { environment: string; apps: Record<string, Record<string, unknown>> };
  cfg.environment = environment;
  if (value === undefined) delete cfg.apps["lms"]![key];
  else cfg.apps["lms"]![key] = value;
  return cfg;
}

const ipv4Block = fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 32 })).map(([n, prefix]) => {
  const network = prefix === 0 ? 0 : (n >>> (32 - prefix)) * 2 ** (32 - prefix);
  const text = [24, 16, 8, 0].map((s) => Math.floor(network / 2 ** s) % 256).join(".");
  return `${text}/${prefix}`;
});
const ipv6Block = fc.tuple(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.integer({ min: 0, max: 128 })).map(([n, prefix]) => {
  const network = prefix === 0 ? 0n : (n >> BigInt(128 - prefix)) << BigInt(128 - prefix);
  return parseCidr(`::/0`).family === 6 ? `${addressIn({ family: 6, network, prefix: 0, text: "::/0" }, 0n)}/${prefix}` : "";
});

describe("CIDR validation (property tests)", () => {
  it("accepts every network-aligned IPv4 and IPv6 block, and its canonical text parses to itself", () => {
    fc.assert(
      fc.property(fc.oneof(ipv4Block, ipv6Block), (block) => {
        expect(cidrProblem(block)).toBeUndefined();
        const c = parseCidr(block);
        expect(parseCidr(c.text)).toEqual(c);
      }),
    );
  });

  it("refuses a block with host bits set, naming the block it meant", () => {
    fc.assert(
      fc.property(ipv4Block.filter((b) => !b.endsWith("/32")), fc.bigInt({ min: 1n, max: (1n << 32n) - 1n }), (block, offset) => {
        const c = parseCidr(block);
        const address = addressIn(c, offset);
        fc.pre(address !== block.split("/")[0]);
        expect(cidrProblem(`${address}/${c.prefix}`)).toBe(`has host bits set: the block is ${c.text}`);
      }),
    );
  });

  it("refuses anything that is not address/prefix, with the config key path", () => {
    const notCidr = fc.oneof(
      fc.string({ maxLength: 20 }).filter((s) => !/^[0-9a-fA-F:.]+\/\d+$/.test(s)),
      fc.integer({ min: 33, max: 999 }).map((p) => `10.0.0.0/${p}`),
      fc.integer({ min: 256, max: 999 }).map((o) => `10.${o}.0.0/16`),
      fc.integer({ min: 129, max: 999 }).map((p) => `2001:db8::/${p}`),
    );
    fc.assert(
      fc.property(notCidr, (text) => {
        expect(cidrProblem(text)).toBeDefined();
        const problems = problemsOf(prodWith("firewall", { adminCidrs: [text] }));
        expect(problems.some((p) => p.startsWith("runbook:apps.lms.firewall.adminCidrs[0]: "))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it("overlap is symmetric, and every block overlaps each block inside it and no block of the other family", () => {
    fc.assert(
      fc.property(ipv4Block, fc.integer({ min: 0, max: 32 }), fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), (outer, extra, offset) => {
        const a = parseCidr(outer);
        const prefix = Math.min(32, a.prefix + extra);
        const inner = parseCidr(`${addressIn({ ...a, prefix: a.prefix }, offset)}/32`);
        const sub = parseCidr(`${addressIn(parseCidr(`${addressIn(a, offset)}/32`), 0n)}/32`);
        expect(cidrsOverlap(a, inner)).toBe(true);
        expect(cidrsOverlap(inner, a)).toBe(true);
        expect(cidrsOverlap(a, sub)).toBe(cidrsOverlap(sub, a));
        expect(cidrsOverlap(a, parseCidr("::/0"))).toBe(false);
        expect(prefix).toBeGreaterThanOrEqual(a.prefix);
      }),
    );
  });
});

describe("port validation (property test)", () => {
  it("accepts an ssh port from 1 to 65535 and refuses any other number with the key path", () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -100_000, max: 200_000 }), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 })), (port) => {
        const problems = problemsOf(prodWith("firewall", { adminCidrs: ["203.0.113.0/24"], sshPort: port }));
        const valid = Number.isInteger(port) && port >= 1 && port <= 65535;
        expect(problems).toEqual(valid ? [] : ["runbook:apps.lms.firewall.sshPort: must be a port number from 1 to 65535"]);
      }),
      { numRuns: 150 },
    );
  });
});

describe("bad hosts and firewall input is refused with its key path", () => {
  const admin = ["203.0.113.0/24"];
  it.each([
    ["an invalid admin CIDR", prodWith("firewall", { adminCidrs: ["203.0.113.0/33"] }), "runbook:apps.lms.firewall.adminCidrs[0]: must be a CIDR block such as 203.0.113.0/24 or 2001:db8::/48 (the prefix length of an IPv4 block is at most 32)"],
    ["a block with host bits", prodWith("firewall", { adminCidrs: ["203.0.113.7/24"] }), "runbook:apps.lms.firewall.adminCidrs[0]: has host bits set: the block is 203.0.113.0/24"],
    ["no admin CIDRs in prod", prodWith("firewall", undefined), "runbook:apps.lms.firewall.adminCidrs: is required in prod: ssh, and the app during a lockdown, are admitted only from these blocks (e.g. [203.0.113.0/24], your VPN's egress)"],
    ["empty admin CIDRs in prod", prodWith("firewall", { adminCidrs: [] }), "runbook:apps.lms.firewall.adminCidrs: is required in prod: ssh, and the app during a lockdown, are admitted only from these blocks (e.g. [203.0.113.0/24], your VPN's egress)"],
    ["overlapping admin CIDRs in prod", prodWith("firewall", { adminCidrs: ["203.0.113.0/24", "203.0.113.128/25"] }), "runbook:apps.lms.firewall.adminCidrs[1]: overlaps adminCidrs[0] (203.0.113.0/24); list each admin block once"],
    ["admin CIDRs of the whole Internet", prodWith("firewall", { adminCidrs: ["0.0.0.0/0"] }), "runbook:apps.lms.firewall.adminCidrs[0]: must not be the whole address space (0.0.0.0/0): ssh is admitted only from admin blocks"],
    ["a lockdown with no admin CIDR", prodWith("firewall", { lockdown: true }, "staging"), "runbook:apps.lms.firewall.lockdown: needs firewall.adminCidrs: during a lockdown only admins reach ssh and the app, so at least one admin block must be set"],
    ["a blocked CIDR over an admin block", prodWith("firewall", { adminCidrs: admin, blockedCidrs: ["203.0.113.9/32"] }), "runbook:apps.lms.firewall.blockedCidrs[0]: overlaps the admin block 203.0.113.0/24: admins would be locked out"],
    ["blocking everyone", prodWith("firewall", { adminCidrs: admin, blockedCidrs: ["::/0"] }), "runbook:apps.lms.firewall.blockedCidrs[0]: must not be the whole address space (::/0); a lockdown is `firewall.lockdown: true`"],
    ["too many blocked CIDRs", prodWith("firewall", { adminCidrs: admin, blockedCidrs: Array.from({ length: 19 }, (_, i) => `192.0.2.${i}/32`) }), "runbook:apps.lms.firewall.blockedCidrs: must hold at most 18 blocks (a network ACL holds 20 inbound rules)"],
    ["an unknown firewall key", prodWith("firewall", { adminCidrs: admin, openPorts: [5432] }), "runbook:apps.lms.firewall.openPorts: unknown key"],
  ])("%s", (_name, raw, problem) => {
    expect(problemsOf(raw)).toEqual([problem]);
  });

  it.each([
    ["aws with a host URL", { host: "ssh://deploy@fdts.example.com" }, "runbook:apps.fdts.host: must not be set with `aws`: the stack creates this app's host and its address comes from the instance"],
    ["aws with a host key", { hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJl0EPPx/2ItuwpX+EKsF0GxH/x7Z/+V3JRm7SEp89vD" }, "runbook:apps.fdts.hostKey: must not be set with `aws`: the stack generates the host key of a host it creates and pins it"],
    ["blocked CIDRs on aws without a network ACL", { aws: { ...AWS_HOST, networkAclId: undefined }, firewall: { adminCidrs: ["203.0.113.0/24"], blockedCidrs: ["192.0.2.1/32"] } }, "runbook:apps.fdts.aws.networkAclId: is required with firewall.blockedCidrs: a security group cannot deny, so blocked addresses become deny entries of the subnet's network ACL"],
    ["another ssh port on aws", { firewall: { adminCidrs: ["203.0.113.0/24"], sshPort: 2222 } }, "runbook:apps.fdts.firewall.sshPort: must be 22 on a host the stack creates (its sshd listens there)"],
    ["an AMI id that is not one", { aws: { ...AWS_HOST, amiId: "ubuntu-24.04" } }, "runbook:apps.fdts.aws.amiId: must be an id such as ami-0123456789abcdef0 (from your AWS account; the program looks nothing up)"],
    ["no authorized key", { aws: { ...AWS_HOST, sshAuthorizedKeys: [] } }, "runbook:apps.fdts.aws.sshAuthorizedKeys: must list at least one public key: the deploy user logs in with it"],
  ])("%s", (_name, change, problem) => {
    const cfg = awsStackConfig() as { apps: Record<string, Record<string, unknown>> };
    Object.assign(cfg.apps["fdts"]!, change);
    expect(problemsOf(cfg)).toEqual([problem]);
  });

  it("refuses apps on one existing host with different firewalls, and a lockdown on the local Docker socket", () => {
    const staging = structuredClone(rawStackConfig("staging")) as { apps: Record<string, Record<string, unknown>> };
    staging.apps["lms"]!["firewall"] = { adminCidrs: ["203.0.113.0/24"], lockdown: true };
    expect(problemsOf(staging)).toEqual([
      "runbook:apps.lms.firewall: must equal apps.fairlens.firewall: both apps run on ssh://deploy@staging.example.com, which has one host firewall (the same admin and blocked CIDRs, lockdown and ssh port)",
    ]);
    const local = { environment: "staging", apps: { fdts: { backend: { tag: "1.0" }, firewall: { adminCidrs: ["203.0.113.0/24"], lockdown: true } } } };
    expect(problemsOf(local)).toEqual([
      "runbook:apps.fdts.firewall: has nothing to govern on the local Docker socket (the machine running Pulumi): a lockdown and blocked CIDRs need an ssh:// host or `aws`",
    ]);
  });
});

describe("hosts and firewall defaults and resolution", () => {
  it("pins every default", () => {
    expect(HOSTS_DEFAULTS).toEqual({ user: "deploy", sshPort: 22, lockdown: false, rootVolumeGb: 30, dataVolumeGb: 100 });
    const lms = parseStackConfig({ environment: "staging", apps: { lms: { host: "ssh://deploy@lms.example.com", backend: { tag: "1.0" } } } }).apps[0]!;
    expect(lms.firewall).toEqual({ kind: "host", adminCidrs: [], blockedCidrs: [], lockdown: false, sshPort: 22, publicPorts: [80], appliesHostFirewall: true, appliedBy: "lms", hostPorts: [80] });
    expect(lms.proxy.maintenance).toBe(false);
    const fdts = parseStackConfig(awsStackConfig()).apps.find((a) => a.id === "fdts")!;
    expect(fdts.host).toEqual({ kind: "created", user: "deploy", port: 22 });
    expect(fdts.machine).toMatchObject({ rootVolumeGb: 30, dataVolumeGb: 100, user: "deploy" });
  });

  it("a lockdown turns the maintenance page on unless the stack turns it off explicitly (admins verifying the app)", () => {
    const withProxy = (proxy: Record<string, unknown>) => {
      const cfg = awsStackConfig({ lockdown: true }) as { apps: Record<string, Record<string, unknown>> };
      cfg.apps["lms"]!["proxy"] = { ...(cfg.apps["lms"]!["proxy"] as object), ...proxy };
      return parseStackConfig(cfg as RawConfig).apps.find((a) => a.id === "lms")!.proxy.maintenance;
    };
    expect(withProxy({})).toBe(true);
    expect(withProxy({ maintenance: false })).toBe(false);
  });

  it("one app of a shared existing host applies its firewall, for every app's published ports", () => {
    const apps = stackSpec("staging").apps;
    const host = apps.map((a) => a.firewall).filter((f) => f.kind === "host");
    expect(host).toHaveLength(apps.length);
    expect(apps.filter((a) => a.firewall.kind === "host" && a.firewall.appliesHostFirewall).map((a) => a.id)).toEqual([apps[0]!.id]);
    const all = [...new Set(apps.flatMap((a) => a.firewall.publicPorts))].sort((a, b) => a - b);
    for (const f of host) expect(f.kind === "host" && f.hostPorts).toEqual(all);
    // Each prod app has a host of its own, and applies its own firewall.
    for (const a of stackSpec("prod").apps) expect(a.firewall.kind === "host" && a.firewall.appliesHostFirewall, a.id).toBe(true);
  });
});
