import type { PolicyConfigSchema, ResourceValidationPolicy } from "@pulumi/policy";
import { forContainers, settings } from "../lib";

const configSchema: PolicyConfigSchema = {
  properties: {
    minMemoryMb: { type: "integer", minimum: 4, maximum: 1048576, default: 64, description: "Smallest memory limit that counts, in MiB." },
    requireCpuLimit: { type: "boolean", default: true, description: "Also require a CPU limit." },
  },
};

/** LMS "Vertical Scaling" (limits for web and db); FDTS "High Memory Usage Alert". */
export const memoryLimitRequired: ResourceValidationPolicy = {
  name: "app-container-memory-limit-required",
  description:
    "Every long-running container has a memory limit and a CPU limit. The runbooks size their services (web 2 CPUs and 4 GiB, db 8 GiB) and alert on memory, which a container without limits makes meaningless.",
  configSchema,
  validateResource: forContainers((props, args, report) => {
    const { minMemoryMb, requireCpuLimit } = settings<{ minMemoryMb: number; requireCpuLimit: boolean }>(configSchema, args);
    if (props.memory === undefined || props.memory <= 0) {
      report(`Container ${args.name} has no memory limit; set one (MiB).`);
    } else if (props.memory < minMemoryMb) {
      report(`Container ${args.name} has a memory limit of ${props.memory} MiB; at least ${minMemoryMb} MiB is required.`);
    }
    if (requireCpuLimit && !(Number(props.cpus) > 0)) {
      report(`Container ${args.name} has no CPU limit; set cpus.`);
    }
  }),
};
