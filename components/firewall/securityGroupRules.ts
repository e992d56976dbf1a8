/**
 * The security group and network ACL entries of a host the stack creates, as pure functions of the
 * firewall spec: what the Firewall component declares, and what the tests and policies read.
 */
import { ANYWHERE, parseCidr } from "./cidr";

export interface SecurityGroupRule {
  readonly description: string;
  readonly protocol: string;
  readonly fromPort: number;
  readonly toPort: number;
  readonly cidrBlocks: string[];
  readonly ipv6CidrBlocks: string[];
}

export interface SecurityGroupSpec {
  readonly publicPorts: readonly number[];
  readonly sshPort: number;
  readonly adminCidrs: readonly string[];
  readonly lockdown: boolean;
}

const split = (cidrs: readonly string[]) => {
  const parsed = cidrs.map(parseCidr);
  return { cidrBlocks: parsed.filter((c) => c.family === 4).map((c) => c.text), ipv6CidrBlocks: parsed.filter((c) => c.family === 6).map((c) => c.text) };
};

/**
 * Ingress: the proxy's public ports from anywhere (from the admin blocks only in a lockdown), ssh
 * from the admin blocks only, nothing else. A rule with no admin block is left out, never widened.
 */
export function securityGroupIngress(spec: SecurityGroupSpec): SecurityGroupRule[] {
  const rules: SecurityGroupRule[] = [];
  const tcp = (description: string, port: number, sources: { cidrBlocks: string[]; ipv6CidrBlocks: string[] }) => {
    if (sources.cidrBlocks.length + sources.ipv6CidrBlocks.length === 0) return;
    rules.push({ description, protocol: "tcp", fromPort: port, toPort: port, ...sources });
  };
  for (const port of [...new Set(spec.publicPorts)].sort((a, b) => a - b)) {
    if (spec.lockdown) tcp(`port ${port}, admins only (incident lockdown)`, port, split(spec.adminCidrs));
    else tcp(`port ${port}, public`, port, { cidrBlocks: [ANYWHERE[4]], ipv6CidrBlocks: [ANYWHERE[6]] });
  }
  tcp("ssh, admins only", spec.sshPort, split(spec.adminCidrs));
  return rules;
}

/** Egress: anywhere (package updates, image pulls, the apps' third-party APIs, backups to S3). */
export function securityGroupEgress(): SecurityGroupRule[] {
  return [{ description: "all outbound", protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: [ANYWHERE[4]], ipv6CidrBlocks: [ANYWHERE[6]] }];
}

export interface NetworkAclDeny {
  readonly ruleNumber: number;
  readonly cidrBlock?: string;
  readonly ipv6CidrBlock?: string;
}

/** One inbound deny entry per blocked block, numbered from `base` (below the ACL's allow rules). */
export function networkAclDenies(blockedCidrs: readonly string[], base: number): NetworkAclDeny[] {
  return blockedCidrs.map(parseCidr).map((c, i) => ({ ruleNumber: base + i, ...(c.family === 4 ? { cidrBlock: c.text } : { ipv6CidrBlock: c.text }) }));
}
