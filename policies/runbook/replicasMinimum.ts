import type { StackValidationPolicy } from "@pulumi/policy";
import * as checks from "./checks";
import type { RequirementsData } from "./requirements";
import { requirementPolicy } from "./rules";

export const replicasMinimum = (data: RequirementsData): StackValidationPolicy =>
  requirementPolicy(
    "runbook-replicas-minimum",
    "Each service runs at least as many replicas as its runbook requires in production. The LMS runbook scales web to three replicas behind nginx, and fewer cannot carry its load or survive the loss of one.",
    checks.replicas,
    data,
  );
