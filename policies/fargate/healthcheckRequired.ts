import type { ResourceValidationPolicy } from "@pulumi/policy";
import { ALWAYS_PASSING_CHECKS } from "../lib";
import { forTaskContainers } from "./taskContainers";
import { ONE_OFF_SERVICES, tagOf } from "./view";


export const fargateHealthcheckRequired: ResourceValidationPolicy = {
  name: "fargate-container-healthcheck-required",
  description:
    "Every container of a long-running ECS service has a health check that probes it, as on a Docker host. ECS replaces an unhealthy task, and a rollout waits for the new tasks to be healthy. One-off tasks such as migrations are judged by their exit code instead.",
  validateResource: forTaskContainers((c, args, report) => {
    if (ONE_OFF_SERVICES.includes(tagOf(args, "runbook.service") ?? "")) return;
    const command = (c.healthCheck?.command ?? []).slice(1).join(" ").trim();
    if (!c.healthCheck || command === "" || (c.healthCheck.command ?? [])[0] === "NONE") {
      report(`Container ${c.name ?? "?"} of ${args.name} has no health check; give it a CMD or CMD-SHELL probe.`);
    } else if (ALWAYS_PASSING_CHECKS.has(command.replace(/;$/, ""))) {
      report(`Container ${c.name ?? "?"} of ${args.name} has a health check that always passes (\`${command}\`); make it probe the service.`);
    }
  }),
};
