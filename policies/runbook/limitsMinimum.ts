import type { StackValidationPolicy } from "@pulumi/policy";
import * as checks from "./checks";
import type { RequirementsData } from "./requirements";
import { requirementPolicy } from "./rules";

export const limitsMinimum = (data: RequirementsData): StackValidationPolicy =>
  requirementPolicy(
    "runbook-limits-minimum",
    "Each service is given at least the CPU and memory its runbook sizes it with. A limit far below the runbook's makes the service fail under the load the runbook planned for, and its memory alerts meaningless.",
    checks.limits,
    data,
  );
