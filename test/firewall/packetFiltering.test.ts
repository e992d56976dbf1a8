/**
 * The host firewall with real packet filtering: the rendered install script applied with iptables
 * inside a network namespace that carries Docker's own published-port rules (DNAT to a container
 * behind a bridge-named interface), probed from a client namespace with an admin, a public and a
 * blocked source address. What `ufw deny 80` cannot do, these rules must: close the DNAT path.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderHostFirewallInstallScript, type HostFirewallSpec } from "../../components/firewall/hostFirewallRules";
import { requireTool, tempDir } from "../tools/realTools";
import { ADDRESSES, ADMIN_CIDR, BLOCKED_CIDR, Namespaces, requireNamespaceSupport, type Probe } from "./netns";

const base: HostFirewallSpec = { publicPorts: [80, 443], sshPort: 22, adminCidrs: [ADMIN_CIDR], blockedCidrs: [], lockdown: false };

let ns: Namespaces;
beforeAll(async () => {
  requireNamespaceSupport();
  ns = new Namespaces();
  try {
    await ns.setUp();
  } catch (err) {
    await ns.tearDown();
    throw err;
  }
}, 60_000);
afterAll(async () => {
  await ns?.tearDown();
});

const root = tempDir("fwroot");
function apply(spec: HostFirewallSpec): string {
  return ns.exec(ns.names.host, [requireTool("sh"), "-s"], renderHostFirewallInstallScript(spec), { RUNBOOK_FIREWALL_ROOT: root });
}

type Reach = Record<string, boolean>;
/** For each source, which host ports and published (DNAT) ports connect. */
function reach(): Record<"public" | "admin" | "blocked", Reach> {
  const sources = ["public", "admin", "blocked"] as const;
  const targets: [string, string, number][] = [
    ["ssh", ADDRESSES.host, 22],
    ["host:80", ADDRESSES.host, 80],
    ["host:443", ADDRESSES.host, 443],
    ["host:5432", ADDRESSES.host, 5432],
    ["dnat:80", ADDRESSES.published, 80],
    ["dnat:443", ADDRESSES.published, 443],
    ["dnat:5432", ADDRESSES.published, 5432],
  ];
  const probes: Probe[] = sources.flatMap((s) => targets.map(([, host, port]) => ({ from: ADDRESSES[s], host, port })));
  const results = ns.probe(probes);
  const out = {} as Record<(typeof sources)[number], Reach>;
  sources.forEach((s, i) => {
    out[s] = Object.fromEntries(targets.map(([name], j) => [name, results[i * targets.length + j]!]));
  });
  return out;
}

const all = (open: boolean, names: string[]) => Object.fromEntries(names.map((n) => [n, open]));
const NAMES = ["ssh", "host:80", "host:443", "host:5432", "dnat:80", "dnat:443", "dnat:5432"];

describe("host firewall, real packet filtering in network namespaces", () => {
  it("without the firewall, every port connects from everywhere, the published database port included (the probe can see an open port)", () => {
    const r = reach();
    for (const source of ["public", "admin", "blocked"] as const) expect(r[source], source).toEqual(all(true, NAMES));
  });

  it("normal mode: 80/443 connect from anywhere, on the host and through Docker's DNAT; 5432 does not; ssh only from an admin address", () => {
    apply(base);
    const r = reach();
    expect(r.public).toEqual({ ...all(true, ["host:80", "host:443", "dnat:80", "dnat:443"]), ...all(false, ["ssh", "host:5432", "dnat:5432"]) });
    expect(r.admin).toEqual({ ...all(true, ["ssh", "host:80", "host:443", "dnat:80", "dnat:443"]), ...all(false, ["host:5432", "dnat:5432"]) });
  });

  it("applying the same rules twice changes nothing (iptables-save and ip6tables-save identical)", () => {
    apply(base);
    const once = ns.ruleset();
    apply(base);
    expect(ns.ruleset()).toBe(once);
    expect(once).toContain("-A DOCKER-USER -j RUNBOOK-DOCKER");
    expect(once.match(/-A DOCKER-USER -j RUNBOOK-DOCKER/g)).toHaveLength(2); // once per family
  });

  it("lockdown: 80/443 refused to the public on both paths, the DNAT path included; admins keep ssh and 80/443", () => {
    apply({ ...base, lockdown: true });
    const r = reach();
    expect(r.public).toEqual(all(false, NAMES));
    expect(r.admin).toEqual({ ...all(true, ["ssh", "host:80", "host:443", "dnat:80", "dnat:443"]), ...all(false, ["host:5432", "dnat:5432"]) });
  });

  it("lockdown also cuts the public's open connections through Docker's DNAT, and not an admin's", async () => {
    apply(base);
    const pub = await ns.hold({ from: ADDRESSES.public, host: ADDRESSES.published, port: 443 });
    const admin = await ns.hold({ from: ADDRESSES.admin, host: ADDRESSES.published, port: 443 });
    try {
      expect(await pub.ping()).toBe(true);
      expect(await admin.ping()).toBe(true);
      apply({ ...base, lockdown: true });
      expect(await pub.ping()).toBe(false);
      expect(await admin.ping()).toBe(true);
    } finally {
      pub.close();
      admin.close();
    }
  });

  it("a blocked CIDR is refused everything while the public still connects to 80/443", () => {
    apply({ ...base, blockedCidrs: [BLOCKED_CIDR] });
    const r = reach();
    expect(r.blocked).toEqual(all(false, NAMES));
    expect(r.public).toEqual({ ...all(true, ["host:80", "host:443", "dnat:80", "dnat:443"]), ...all(false, ["ssh", "host:5432", "dnat:5432"]) });
  });

  it("turning lockdown off restores public access, and the ruleset is the normal mode's again", () => {
    apply(base);
    const normal = ns.ruleset();
    apply({ ...base, lockdown: true });
    expect(ns.ruleset()).not.toBe(normal);
    apply(base);
    expect(ns.ruleset()).toBe(normal);
    expect(reach().public).toEqual({ ...all(true, ["host:80", "host:443", "dnat:80", "dnat:443"]), ...all(false, ["ssh", "host:5432", "dnat:5432"]) });
  });

  it("keeps its jumps first when another tool inserted a rule above them", () => {
    apply(base);
    ns.exec(ns.names.host, [requireTool("iptables"), "-I", "INPUT", "1", "-p", "tcp", "--dport", "5432", "-j", "ACCEPT"]);
    ns.exec(ns.names.host, [requireTool("iptables"), "-I", "DOCKER-USER", "1", "-j", "RETURN"]);
    apply(base);
    const rules = ns.exec(ns.names.host, [requireTool("iptables"), "-S"]);
    const first = (chain: string) => rules.split("\n").find((l) => l.startsWith(`-A ${chain} `));
    expect(first("INPUT")).toBe("-A INPUT -j RUNBOOK-INPUT");
    expect(first("DOCKER-USER")).toBe("-A DOCKER-USER -j RUNBOOK-DOCKER");
    expect(reach().public["dnat:5432"]).toBe(false);
  });
});
