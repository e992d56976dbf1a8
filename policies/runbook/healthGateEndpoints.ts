import type { StackValidationPolicy } from "@pulumi/policy";
import * as checks from "./checks";
import type { RequirementsData } from "./requirements";
import { requirementPolicy } from "./rules";

export const healthGateEndpoints = (data: RequirementsData): StackValidationPolicy =>
  requirementPolicy(
    "runbook-health-gate-endpoints",
    "The health gate polls every health endpoint the runbook checks after a deploy. A gate that polls another endpoint lets a release through that the runbook's own verification would stop.",
    checks.healthEndpoints,
    data,
  );
