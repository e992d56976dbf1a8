import type { ResourceValidationPolicy } from "@pulumi/policy";
import { forTaskContainers } from "./taskContainers";

export const fargateLogsCollected: ResourceValidationPolicy = {
  name: "fargate-container-logs-collected",
  description:
    "Every ECS container logs to CloudWatch Logs through the awslogs driver. A stopped task's output is otherwise gone, and the runbooks read the logs first.",
  validateResource: forTaskContainers((c, args, report) => {
    const options = c.logConfiguration?.options ?? {};
    if (c.logConfiguration?.logDriver !== "awslogs" || !options["awslogs-group"] || !options["awslogs-stream-prefix"]) {
      report(`Container ${c.name ?? "?"} of ${args.name} does not log to CloudWatch Logs; use the awslogs driver with a group and a stream prefix.`);
    }
  }),
};
