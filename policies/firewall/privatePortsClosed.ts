import type { PolicyConfigSchema, ResourceValidationPolicy } from "@pulumi/policy";
import { settings } from "../lib";
import { coversTcp, ingressOf } from "./ingress";

const configSchema: PolicyConfigSchema = {
  properties: {
    privatePorts: {
      type: "array",
      items: { type: "integer" },
      default: [5432, 3306, 6379, 27017, 9090, 9093, 9100, 9115, 3000],
      description: "Database, cache and monitoring ports (PostgreSQL, MySQL, Redis, MongoDB, Prometheus, Alertmanager, node and blackbox exporters, Grafana).",
    },
  },
};

/** The runbooks reach databases, caches and monitoring from inside (`docker-compose exec`, ssh tunnels). */
export const privatePortsClosed: ResourceValidationPolicy = {
  name: "firewall-private-ports-closed",
  description:
    "No security group admits a database, cache or monitoring port from any address. The runbooks reach PostgreSQL, Redis, Prometheus and Grafana only from inside the host, and containers that would publish them are refused by app-database-port-not-published and app-host-port-proxy-only.",
  configSchema,
  validateResource: (args, report) => {
    const { privatePorts } = settings<{ privatePorts: number[] }>(configSchema, args);
    for (const rule of ingressOf(args.type, args.props as Record<string, unknown>)) {
      const open = privatePorts.filter((p) => coversTcp(rule, p));
      if (open.length > 0 && rule.sources.length > 0) report(`${args.name}: ${rule.label} admits private port${open.length > 1 ? "s" : ""} ${open.join(", ")} from ${rule.sources.join(", ")}.`);
    }
  },
};
