/** Hosts and firewall in words, for the offline plan and the stack outputs. Pure. */
import type { AppSpec, FirewallSpec } from "../../config/spec";

/** What the firewall admits: one line per rule. */
export function describeFirewall(fw: FirewallSpec): string[] {
  const admins = fw.adminCidrs.length ? fw.adminCidrs.join(", ") : "anywhere (no admin CIDRs)";
  const ports = fw.kind === "host" ? fw.hostPorts : fw.publicPorts;
  const kind = { "security-group": "security group", host: "host firewall", none: "no firewall managed (local Docker socket)" }[fw.kind];
  return [
    `${kind}${fw.lockdown ? ", LOCKDOWN" : ""}`,
    `ports ${ports.join(", ")}: ${fw.lockdown ? `admins only (${fw.adminCidrs.join(", ")})` : "anywhere"}`,
    `ssh ${fw.sshPort}: ${admins}`,
    ...(fw.blockedCidrs.length ? [`blocked: ${fw.blockedCidrs.join(", ")}`] : []),
  ];
}

/** Where the app runs, in one line. */
export function describeHost(app: Pick<AppSpec, "host" | "machine" | "firewall">): string {
  if (app.machine) {
    const m = app.machine;
    return `an instance the stack creates (${m.instanceType}, ${m.amiId}, ${m.subnetId}), reached as ssh://${m.user}@<its elastic IP> with a generated host key`;
  }
  if (app.host.kind === "ssh") {
    const applies = app.firewall.kind === "host" && !app.firewall.appliesHostFirewall ? `; the host's firewall is applied by ${app.firewall.appliedBy}` : "";
    return `${String(app.host.dockerHost)} (${app.host.hostKey !== undefined ? "host key pinned" : "host key NOT pinned"})${applies}`;
  }
  return app.host.kind === "local" ? app.host.dockerHost : "a host the stack creates";
}

/** The plan's "Hosts and firewall" lines. */
export function describeHosting(apps: readonly Pick<AppSpec, "id" | "host" | "machine" | "firewall" | "fargate">[]): string[] {
  return apps.flatMap((app) =>
    app.fargate
      ? [
          // An app on ECS Fargate has no host: what it has is its VPC's security groups (components/fargate/loadBalancer.ts).
          `  ${app.id}: ECS Fargate in ${app.fargate.vpcId} (no Docker host)`,
          "      load balancer 443, and 80 redirecting to it: anywhere",
          "      tasks: from the load balancer only; database and cache: from the tasks only",
        ]
      : [`  ${app.id}: ${describeHost(app)}`, ...describeFirewall(app.firewall).map((l) => `      ${l}`)],
  );
}
