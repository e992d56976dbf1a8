import type { PolicyConfigSchema, ResourceValidationPolicy } from "@pulumi/policy";
import { forContainers, roleOf, settings } from "../lib";

const configSchema: PolicyConfigSchema = {
  properties: {
    adminBindAddress: { type: "string", default: "127.0.0.1", description: "The only address an admin UI may bind." },
  },
};

/** Only the proxy faces the network (reference app: "Nginx acts as a basic load balancer"). */
export const hostPortProxyOnly: ResourceValidationPolicy = {
  name: "app-host-port-proxy-only",
  description:
    "Only the proxy publishes host ports; an admin UI may bind the loopback address only. Backends, frontends and workers sit behind the proxy, where its rate limit, security headers and maintenance switch apply.",
  configSchema,
  validateResource: forContainers((props, args, report) => {
    const ports = props.ports ?? [];
    if (ports.length === 0) return;
    const role = roleOf(props);
    if (role === "proxy") return;
    if (role === "database" || role === "cache") return; // app-database-port-not-published owns these
    const { adminBindAddress } = settings<{ adminBindAddress: string }>(configSchema, args);
    if (role === "admin") {
      for (const p of ports) {
        if (p.ip !== adminBindAddress) {
          report(`Admin UI ${args.name} publishes port ${p.external ?? p.internal} on ${p.ip || "every address"}; bind it to ${adminBindAddress} only.`);
        }
      }
      return;
    }
    const list = ports.map((p) => p.external ?? p.internal).join(", ");
    report(`Container ${args.name} (${role ?? "no role label"}) publishes host port ${list}; only the proxy publishes ports.`);
  }),
};
