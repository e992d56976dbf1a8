import type { ResourceValidationPolicy } from "@pulumi/policy";
import { forTaskContainers } from "./taskContainers";

export const fargateMemoryLimitRequired: ResourceValidationPolicy = {
  name: "fargate-container-memory-limit-required",
  description:
    "Every container of an ECS task has a hard memory limit, the runbook's own limit. As with docker --memory on a Docker host, a leak then ends that container and not its neighbours.",
  validateResource: forTaskContainers((c, args, report) => {
    if (!(typeof c.memory === "number" && c.memory > 0)) report(`Container ${c.name ?? "?"} of ${args.name} has no hard memory limit; set \`memory\` (MiB).`);
  }),
};
