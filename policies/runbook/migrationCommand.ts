import type { StackValidationPolicy } from "@pulumi/policy";
import * as checks from "./checks";
import type { RequirementsData } from "./requirements";
import { requirementPolicy } from "./rules";

export const migrationCommand = (data: RequirementsData): StackValidationPolicy =>
  requirementPolicy(
    "runbook-migration-command",
    "The deploy runs the runbook's migration command, and any release task after it, before the new release serves. A release that skips them serves a schema or static files its code does not expect.",
    checks.migration,
    data,
  );
