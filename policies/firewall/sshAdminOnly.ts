import type { PolicyConfigSchema, ResourceValidationPolicy } from "@pulumi/policy";
import { settings } from "../lib";
import { ANYWHERE, coversTcp, ingressOf } from "./ingress";

const configSchema: PolicyConfigSchema = {
  properties: {
    sshPorts: { type: "array", items: { type: "integer" }, default: [22], description: "Ports sshd listens on." },
    minPrefixIpv4: { type: "integer", minimum: 1, maximum: 32, default: 16, description: "The widest IPv4 block ssh may be admitted from (prefix length)." },
    minPrefixIpv6: { type: "integer", minimum: 1, maximum: 128, default: 32, description: "The widest IPv6 block ssh may be admitted from (prefix length)." },
  },
};

/** Administrators reach hosts over ssh (every runbook's `ssh`, `docker-compose exec`), from known places. */
export const sshAdminOnly: ResourceValidationPolicy = {
  name: "firewall-ssh-admin-only",
  description:
    "A security group admits ssh only from the admin CIDR blocks, never from anywhere and never from a block wider than a /16 (IPv4) or /32 (IPv6). Operators reach the hosts over ssh, and an ssh port open to the Internet is scanned within minutes.",
  configSchema,
  validateResource: (args, report) => {
    const cfg = settings<{ sshPorts: number[]; minPrefixIpv4: number; minPrefixIpv6: number }>(configSchema, args);
    for (const rule of ingressOf(args.type, args.props as Record<string, unknown>)) {
      const port = cfg.sshPorts.find((p) => coversTcp(rule, p));
      if (port === undefined) continue;
      for (const source of rule.sources) {
        const prefix = Number(source.split("/")[1]);
        const min = source.includes(":") ? cfg.minPrefixIpv6 : cfg.minPrefixIpv4;
        if (ANYWHERE.includes(source)) report(`${args.name}: ${rule.label} admits ssh (${port}) from anywhere (${source}); admit the admin CIDR blocks only.`);
        else if (prefix < min) report(`${args.name}: ${rule.label} admits ssh (${port}) from ${source}, wider than /${min}; admit the admin CIDR blocks only.`);
      }
    }
  },
};
