import type { ResourceValidationPolicy } from "@pulumi/policy";
import { FARGATE_TYPES } from "./view";

export const fargateRolloutSafe: ResourceValidationPolicy = {
  name: "fargate-service-rollout-safe",
  description:
    "Every ECS service rolls out as a Docker host's release does. The old tasks serve until the new ones are healthy, and a rollout that never gets healthy rolls back by itself. Each update waits for the steady state and fails with it, and no task has a public address.",
  validateResource: (args, report) => {
    if (args.type !== FARGATE_TYPES.service) return;
    const p = args.props as {
      deploymentMinimumHealthyPercent?: number;
      deploymentCircuitBreaker?: { enable?: boolean; rollback?: boolean };
      waitForSteadyState?: boolean;
      networkConfiguration?: { assignPublicIp?: boolean };
    };
    if ((p.deploymentMinimumHealthyPercent ?? 100) < 100) report(`Service ${args.name} lets ${100 - p.deploymentMinimumHealthyPercent!}% of its tasks stop before their replacements are healthy; set deploymentMinimumHealthyPercent to 100.`);
    if (!p.deploymentCircuitBreaker?.enable || !p.deploymentCircuitBreaker.rollback) report(`Service ${args.name} does not roll back a rollout that never gets healthy; enable the deployment circuit breaker with rollback.`);
    if (p.waitForSteadyState !== true) report(`Service ${args.name} does not make \`pulumi up\` wait for its rollout; set waitForSteadyState.`);
    if (p.networkConfiguration?.assignPublicIp === true) report(`Service ${args.name} gives its tasks public addresses; they are reached only through the load balancer.`);
  },
};
