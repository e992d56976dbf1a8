/**
 * Config of the hosts and firewall area: `apps.<id>.firewall` (admin and blocked CIDRs, the incident
 * lockdown) and `apps.<id>.aws` (a host the stack creates), their cross-field rules, and their
 * resolution into AppSpec fields. Pure: no Pulumi runtime.
 */
import { z } from "zod";
import { cidrProblem, cidrsOverlap, isAnywhere, parseCidr } from "../components/firewall/cidr";
import type { FirewallSpec, HostSpec, MachineSpec } from "./spec";

/** Every default of this area, in one place (pinned by test/config/hosts.test.ts). */
export const HOSTS_DEFAULTS = {
  /** The deploy user on a host the stack creates (in the docker group). */
  user: "deploy",
  sshPort: 22,
  /** An incident lockdown is off until a stack turns it on. */
  lockdown: false,
  rootVolumeGb: 30,
  dataVolumeGb: 100,
} as const;

/** AWS's default quota is 20 inbound rules per network ACL; two stay for the ACL's own entries. */
export const MAX_BLOCKED_CIDRS = 18;

const cidr = z.string({ error: "must be a CIDR block string" }).superRefine((text, ctx) => {
  const problem = cidrProblem(text);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

export const port = z
  .number({ error: "must be a port number from 1 to 65535" })
  .int({ error: "must be a port number from 1 to 65535" })
  .min(1, { error: "must be a port number from 1 to 65535" })
  .max(65535, { error: "must be a port number from 1 to 65535" });

export const awsId = (prefix: string) =>
  z.string({ error: `must be an id such as ${prefix}-0123456789abcdef0` }).regex(new RegExp(`^${prefix}-([0-9a-f]{8}|[0-9a-f]{17})$`), {
    error: `must be an id such as ${prefix}-0123456789abcdef0 (from your AWS account; the program looks nothing up)`,
  });

const AUTHORIZED_KEY = /^(ssh-ed25519|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|ssh-rsa|sk-ssh-ed25519@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\r\n]*)?$/;

const firewall = z.strictObject({
  adminCidrs: z.array(cidr, { error: "must be a list of CIDR blocks" }).optional(),
  blockedCidrs: z
    .array(cidr, { error: "must be a list of CIDR blocks" })
    .max(MAX_BLOCKED_CIDRS, { error: `must hold at most ${MAX_BLOCKED_CIDRS} blocks (a network ACL holds 20 inbound rules)` })
    .optional(),
  lockdown: z.boolean({ error: "must be true or false" }).optional(),
  sshPort: port.optional(),
});

const aws = z.strictObject({
  instanceType: z.string({ error: "must be an EC2 instance type string" }).regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, { error: "must be an EC2 instance type such as t3.medium" }),
  amiId: awsId("ami"),
  vpcId: awsId("vpc"),
  subnetId: awsId("subnet"),
  availabilityZone: z.string({ error: "must be an availability zone string" }).regex(/^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/, { error: "must be the subnet's availability zone, such as eu-west-1a" }),
  networkAclId: awsId("acl").optional(),
  sshAuthorizedKeys: z
    .array(z.string().regex(AUTHORIZED_KEY, { error: "must be one public key line, `<type> <base64> [comment]`, as in authorized_keys" }), { error: "must be a list of public keys" })
    .min(1, { error: "must list at least one public key: the deploy user logs in with it" }),
  rootVolumeGb: z.number().int({ error: "must be a whole number of GiB" }).min(8, { error: "must be at least 8" }).max(1024, { error: "must be at most 1024" }).optional(),
  dataVolumeGb: z.number().int({ error: "must be a whole number of GiB" }).min(1, { error: "must be at least 1" }).max(16_384, { error: "must be at most 16384" }).optional(),
  kmsKeyId: z.string().regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]+$/, { error: "must be a KMS key ARN" }).optional(),
});

/** The keys this area adds to `apps.<id>` (spread into the app schema in config/schema.ts). */
export const hostsAndFirewallKeys = { firewall: firewall.optional(), aws: aws.optional() };

type FirewallConfig = z.infer<typeof firewall>;
type AwsConfig = z.infer<typeof aws>;
interface AppSlice {
  readonly host?: string;
  readonly firewall?: FirewallConfig;
  readonly aws?: AwsConfig;
  readonly proxy?: { readonly httpPort?: number; readonly httpsPort?: number; readonly tls?: unknown };
}

interface RawProblem {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const validCidrs = (v: unknown): [number, string][] =>
  (Array.isArray(v) ? v : []).map((c, i) => [i, c] as [number, unknown]).filter((e): e is [number, string] => typeof e[1] === "string" && !cidrProblem(e[1]));

/**
 * Rules across fields and apps. Reads the raw config defensively (the schema reports shapes).
 * @param defaultHost the Docker host an app without `host` uses
 */
export function hostsAndFirewallProblems(raw: unknown, protectedEnvironments: readonly string[], defaultHost: string): RawProblem[] {
  const problems: RawProblem[] = [];
  const prod = isObject(raw) && typeof raw["environment"] === "string" && protectedEnvironments.includes(raw["environment"]);
  const apps = isObject(raw) && isObject(raw["apps"]) ? raw["apps"] : {};
  const byHost = new Map<string, { appId: string; firewall: string }>();
  for (const [appId, appRaw] of Object.entries(apps)) {
    if (!isObject(appRaw)) continue;
    const at = (...rest: PropertyKey[]) => ["apps", appId, ...rest];
    const add = (path: PropertyKey[], message: string) => problems.push({ path: at(...path), message });
    const fw = isObject(appRaw["firewall"]) ? appRaw["firewall"] : {};
    const admin = validCidrs(fw["adminCidrs"]).map(([i, t]) => [i, parseCidr(t)] as const);
    const blocked = validCidrs(fw["blockedCidrs"]).map(([i, t]) => [i, parseCidr(t)] as const);
    const adminGiven = Array.isArray(fw["adminCidrs"]) && fw["adminCidrs"].length > 0;
    const local = !isObject(appRaw["aws"]) && !(typeof appRaw["host"] === "string" ? appRaw["host"] : defaultHost).startsWith("ssh://");

    // ssh is what admin blocks restrict: a local Docker socket has none.
    if (prod && !adminGiven && !local) {
      add(["firewall", "adminCidrs"], "is required in prod: ssh, and the app during a lockdown, are admitted only from these blocks (e.g. [203.0.113.0/24], your VPN's egress)");
    }
    for (const [i, c] of admin) {
      if (isAnywhere(c)) add(["firewall", "adminCidrs", i], `must not be the whole address space (${c.text}): ssh is admitted only from admin blocks`);
    }
    if (prod) {
      for (const [j, b] of admin) {
        const earlier = admin.find(([i, a]) => i < j && cidrsOverlap(a, b));
        if (earlier) add(["firewall", "adminCidrs", j], `overlaps adminCidrs[${earlier[0]}] (${earlier[1].text}); list each admin block once`);
      }
    }
    for (const [i, b] of blocked) {
      if (isAnywhere(b)) add(["firewall", "blockedCidrs", i], `must not be the whole address space (${b.text}); a lockdown is \`firewall.lockdown: true\``);
      const clash = admin.find(([, a]) => cidrsOverlap(a, b));
      if (clash) add(["firewall", "blockedCidrs", i], `overlaps the admin block ${clash[1].text}: admins would be locked out`);
    }
    if (fw["lockdown"] === true && !adminGiven) {
      add(["firewall", "lockdown"], "needs firewall.adminCidrs: during a lockdown only admins reach ssh and the app, so at least one admin block must be set");
    }

    const awsRaw = isObject(appRaw["aws"]) ? appRaw["aws"] : undefined;
    if (awsRaw && fw["sshPort"] !== undefined && fw["sshPort"] !== HOSTS_DEFAULTS.sshPort) {
      add(["firewall", "sshPort"], `must be ${HOSTS_DEFAULTS.sshPort} on a host the stack creates (its sshd listens there)`);
    }
    if (local && (fw["lockdown"] === true || Array.isArray(fw["blockedCidrs"]) && fw["blockedCidrs"].length > 0)) {
      add(["firewall"], "has nothing to govern on the local Docker socket (the machine running Pulumi): a lockdown and blocked CIDRs need an ssh:// host or `aws`");
    }
    if (awsRaw) {
      if (appRaw["host"] !== undefined) add(["host"], "must not be set with `aws`: the stack creates this app's host and its address comes from the instance");
      if (appRaw["hostKey"] !== undefined) add(["hostKey"], "must not be set with `aws`: the stack generates the host key of a host it creates and pins it");
      if (blocked.length > 0 && awsRaw["networkAclId"] === undefined) {
        add(["aws", "networkAclId"], "is required with firewall.blockedCidrs: a security group cannot deny, so blocked addresses become deny entries of the subnet's network ACL");
      }
      continue;
    }
    // Existing hosts share one host firewall: apps on one Docker host must agree on it.
    const host = typeof appRaw["host"] === "string" ? appRaw["host"] : defaultHost;
    const settings = JSON.stringify([fw["adminCidrs"] ?? [], fw["blockedCidrs"] ?? [], fw["lockdown"] ?? false, fw["sshPort"] ?? HOSTS_DEFAULTS.sshPort]);
    const first = byHost.get(host);
    if (!first) byHost.set(host, { appId, firewall: settings });
    else if (first.firewall !== settings) {
      add(["firewall"], `must equal apps.${first.appId}.firewall: both apps run on ${host}, which has one host firewall (the same admin and blocked CIDRs, lockdown and ssh port)`);
    }
  }
  return problems;
}

/** The ports an app's proxy publishes to the public. */
const publicPorts = (app: AppSlice, defaults: { httpPort: number; httpsPort: number }) => [
  app.proxy?.httpPort ?? defaults.httpPort,
  ...(app.proxy?.tls !== undefined ? [app.proxy.httpsPort ?? defaults.httpsPort] : []),
];

/** This area's resolved fields of one app: the firewall, and (for a host the stack creates) the machine and its host. */
export function resolveHostsAndFirewall(
  appId: string,
  app: AppSlice,
  apps: Readonly<Record<string, AppSlice | undefined>>,
  defaults: { host: string; proxy: { httpPort: number; httpsPort: number } },
): { firewall: FirewallSpec; machine?: MachineSpec; host?: HostSpec } {
  const fw = app.firewall ?? {};
  const sshPort = fw.sshPort ?? HOSTS_DEFAULTS.sshPort;
  const common = {
    adminCidrs: (fw.adminCidrs ?? []).map((c) => parseCidr(c).text),
    blockedCidrs: (fw.blockedCidrs ?? []).map((c) => parseCidr(c).text),
    lockdown: fw.lockdown ?? HOSTS_DEFAULTS.lockdown,
    sshPort,
    publicPorts: publicPorts(app, defaults.proxy),
  };
  if (app.aws) {
    const a = app.aws;
    const machine: MachineSpec = {
      instanceType: a.instanceType,
      amiId: a.amiId,
      vpcId: a.vpcId,
      subnetId: a.subnetId,
      availabilityZone: a.availabilityZone,
      ...(a.networkAclId !== undefined && { networkAclId: a.networkAclId }),
      sshAuthorizedKeys: a.sshAuthorizedKeys,
      rootVolumeGb: a.rootVolumeGb ?? HOSTS_DEFAULTS.rootVolumeGb,
      dataVolumeGb: a.dataVolumeGb ?? HOSTS_DEFAULTS.dataVolumeGb,
      ...(a.kmsKeyId !== undefined && { kmsKeyId: a.kmsKeyId }),
      user: HOSTS_DEFAULTS.user,
    };
    return { firewall: { ...common, kind: "security-group" }, machine, host: { kind: "created", user: HOSTS_DEFAULTS.user, port: sshPort } };
  }
  const host = app.host ?? defaults.host;
  if (!host.startsWith("ssh://")) return { firewall: { ...common, kind: "none" } };
  // One host firewall per host: the first app on it applies the rules for every app's ports.
  const others = Object.entries(apps).filter(([id]) => id !== appId);
  const sharing = [...others, [appId, app] as const].filter(([, a]) => a && !a.aws && (a.host ?? defaults.host) === host);
  // In stack order (the app's own place), so every app of a host names the same one to apply.
  const order = Object.keys(apps);
  sharing.sort(([a], [b]) => (order.indexOf(a) + 1 || order.length + 1) - (order.indexOf(b) + 1 || order.length + 1));
  const hostPorts = [...new Set(sharing.flatMap(([, a]) => publicPorts(a!, defaults.proxy)))].sort((x, y) => x - y);
  return { firewall: { ...common, kind: "host", appliesHostFirewall: sharing[0]![0] === appId, appliedBy: sharing[0]![0], hostPorts } };
}
