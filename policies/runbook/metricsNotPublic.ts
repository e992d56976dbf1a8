import type { StackValidationPolicy } from "@pulumi/policy";
import * as checks from "./checks";
import type { RequirementsData } from "./requirements";
import { requirementPolicy } from "./rules";

export const metricsNotPublic = (data: RequirementsData): StackValidationPolicy =>
  requirementPolicy(
    "runbook-metrics-not-public",
    "The proxy never serves the backend's metrics endpoint to the public. Metrics reveal internals and load; monitoring scrapes them on the internal network.",
    checks.metricsNotPublic,
    data,
  );
