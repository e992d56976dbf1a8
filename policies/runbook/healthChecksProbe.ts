import type { StackValidationPolicy } from "@pulumi/policy";
import * as checks from "./checks";
import type { RequirementsData } from "./requirements";
import { requirementPolicy } from "./rules";

export const healthChecksProbe = (data: RequirementsData): StackValidationPolicy =>
  requirementPolicy(
    "runbook-health-checks-probe",
    "Each service's container health check probes the port and path its runbook names. A check on the wrong port or path reports a broken service as healthy, and the deploy then goes on with it.",
    checks.health,
    data,
  );
