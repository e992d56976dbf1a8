/**
 * Security group ingress as the firewall policies read it, from the three ways AWS resources
 * declare it: inline rules of a security group, `aws.vpc.SecurityGroupIngressRule` and
 * `aws.ec2.SecurityGroupRule` of type ingress. Shared machinery: no policy here.
 */
export const SG_TYPES = {
  securityGroup: "aws:ec2/securityGroup:SecurityGroup",
  ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  rule: "aws:ec2/securityGroupRule:SecurityGroupRule",
} as const;

export interface Ingress {
  /** `tcp`, `udp`, `icmp`..., or `all`. */
  readonly protocol: string;
  readonly fromPort: number;
  readonly toPort: number;
  /** CIDR blocks it admits (IPv4 and IPv6). */
  readonly sources: readonly string[];
  /** How to name the rule in a message. */
  readonly label: string;
}

export const ANYWHERE = ["0.0.0.0/0", "::/0"];

const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : typeof v === "string" && v ? [v] : []);
const protocolOf = (p: unknown): string => {
  const text = String(p ?? "").toLowerCase();
  return text === "-1" || text === "all" ? "all" : text === "6" ? "tcp" : text === "17" ? "udp" : text;
};

export function ingressOf(type: string, props: Record<string, unknown>): Ingress[] {
  const one = (r: Record<string, unknown>, sources: string[], label: string): Ingress => {
    const protocol = protocolOf(r["protocol"] ?? r["ipProtocol"]);
    const all = protocol === "all";
    return { protocol, fromPort: all ? 0 : Number(r["fromPort"] ?? 0), toPort: all ? 65535 : Number(r["toPort"] ?? r["fromPort"] ?? 0), sources, label };
  };
  if (type === SG_TYPES.securityGroup) {
    const rules = Array.isArray(props["ingress"]) ? (props["ingress"] as Record<string, unknown>[]) : [];
    return rules.map((r, i) => one(r, [...list(r["cidrBlocks"]), ...list(r["ipv6CidrBlocks"])], `ingress[${i}]`));
  }
  if (type === SG_TYPES.ingressRule) return [one(props, [...list(props["cidrIpv4"]), ...list(props["cidrIpv6"])], "the rule")];
  if (type === SG_TYPES.rule && props["type"] === "ingress") return [one(props, [...list(props["cidrBlocks"]), ...list(props["ipv6CidrBlocks"])], "the rule")];
  return [];
}

/** True when the rule admits TCP on `port`. */
export const coversTcp = (r: Ingress, port: number): boolean => (r.protocol === "all" || r.protocol === "tcp") && r.fromPort <= port && port <= r.toPort;

export const portsText = (r: Ingress): string => (r.protocol === "all" ? "all traffic" : r.fromPort === r.toPort ? `${r.protocol} ${r.fromPort}` : `${r.protocol} ${r.fromPort}-${r.toPort}`);
