import type { PolicyConfigSchema, StackValidationPolicy } from "@pulumi/policy";
import { settings, TYPES } from "../lib";

/** The component that states a host's memory and its apps (components/maintenance/capacity.ts). */
export const HOST_CAPACITY_TYPE = "runbook:maintenance:HostCapacity";

const configSchema: PolicyConfigSchema = {
  properties: {
    reservedMb: { type: "integer", minimum: 0, maximum: 1048576, default: 0, description: "Memory kept for the host itself (kernel, Docker, sshd), in MiB." },
  },
};

interface HostCapacityProps {
  readonly host?: string;
  readonly memoryMb?: number;
  readonly source?: string;
  readonly apps?: readonly string[];
}

/**
 * LMS "Vertical Scaling" sizes web at 4 GiB and db at 8 GiB; FDTS alerts on memory above 90 % for 5
 * minutes. Limits that add up to more than the host has make both meaningless: the kernel's OOM
 * killer picks a victim before any container reaches its limit. Several apps may share a host.
 */
export const hostMemory: StackValidationPolicy = {
  name: "capacity-host-memory",
  description:
    "The memory limits of every container on a Docker host, for all the apps that share it, add up to no more than the host's memory (from apps.<id>.hostMemoryMb or the instance type). A host whose limits exceed its memory runs out of memory before any container reaches its own limit.",
  configSchema,
  validateStack: (args, report) => {
    const { reservedMb } = settings<{ reservedMb: number }>(configSchema, args);
    const memoryByApp = new Map<string, number>();
    for (const r of args.resources) {
      if (r.type !== TYPES.container) continue;
      const props = r.props as { memory?: number; labels?: readonly { label: string; value: string }[] };
      const app = props.labels?.find((l) => l.label === "runbook.app")?.value;
      if (app === undefined || typeof props.memory !== "number") continue;
      memoryByApp.set(app, (memoryByApp.get(app) ?? 0) + props.memory);
    }
    for (const r of args.resources) {
      if (r.type !== HOST_CAPACITY_TYPE) continue;
      const host = r.props as HostCapacityProps;
      if (typeof host.memoryMb !== "number") continue;
      const apps = host.apps ?? [];
      const total = apps.reduce((sum, id) => sum + (memoryByApp.get(id) ?? 0), 0);
      const available = host.memoryMb - reservedMb;
      if (total > available) {
        const parts = apps.map((id) => `${id} ${memoryByApp.get(id) ?? 0} MiB`).join(", ");
        report(
          `Host ${host.host ?? r.name} has ${host.memoryMb} MiB (${host.source ?? "unknown source"})${reservedMb ? `, ${reservedMb} MiB kept for the host` : ""}, but the memory limits of its containers add up to ${total} MiB (${parts}); give the host more memory or lower limits or replicas.`,
          r.urn,
        );
      }
    }
  },
};
