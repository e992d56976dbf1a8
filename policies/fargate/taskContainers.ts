/** What the Fargate task definition policies share: a validation that reads a task definition container by container. */
import type { ReportViolation, ResourceValidationArgs } from "@pulumi/policy";
import { containersOf, FARGATE_TYPES, type EcsContainer } from "./view";

/** A validation of ECS task definitions only, container by container. */
export function forTaskContainers(check: (c: EcsContainer, args: ResourceValidationArgs, report: ReportViolation) => void) {
  return (args: ResourceValidationArgs, report: ReportViolation) => {
    if (args.type !== FARGATE_TYPES.taskDefinition) return;
    const containers = containersOf(args.props);
    if (containers.length === 0) report(`Task definition ${args.name} has no container definitions the pack can read (a JSON list).`);
    for (const c of containers) check(c, args, report);
  };
}

