import type { PolicyConfigSchema, ResourceValidationPolicy } from "@pulumi/policy";
import { settings } from "../lib";
import { ANYWHERE, ingressOf, portsText } from "./ingress";

const configSchema: PolicyConfigSchema = {
  properties: {
    publicPorts: { type: "array", items: { type: "integer" }, default: [80, 443], description: "TCP ports a security group may admit from anywhere (the proxy's)." },
  },
};

/** The runbooks expose only nginx's 80 and 443 (LMS "80:80", "443:443"; FDTS ufw 80/443). */
export const ingressPublicWebOnly: ResourceValidationPolicy = {
  name: "firewall-ingress-public-web-only",
  description:
    "No security group admits traffic from anywhere (0.0.0.0/0 or ::/0) except TCP on the proxy's ports 80 and 443. The runbooks publish only nginx's 80 and 443, and everything else is reached from inside the host.",
  configSchema,
  validateResource: (args, report) => {
    const { publicPorts } = settings<{ publicPorts: number[] }>(configSchema, args);
    for (const rule of ingressOf(args.type, args.props as Record<string, unknown>)) {
      const open = rule.sources.filter((s) => ANYWHERE.includes(s));
      if (open.length === 0) continue;
      const onlyPublic = rule.protocol === "tcp" && rule.fromPort === rule.toPort && publicPorts.includes(rule.fromPort);
      if (!onlyPublic) {
        report(`${args.name}: ${rule.label} admits ${portsText(rule)} from ${open.join(" and ")}; only TCP ${publicPorts.join(" and ")} may be open to anywhere.`);
      }
    }
  },
};
