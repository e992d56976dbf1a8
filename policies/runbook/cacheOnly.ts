import type { StackValidationPolicy } from "@pulumi/policy";
import * as checks from "./checks";
import type { RequirementsData } from "./requirements";
import { requirementPolicy } from "./rules";

export const cacheOnly = (data: RequirementsData): StackValidationPolicy =>
  requirementPolicy(
    "runbook-cache-only",
    "A service the runbook uses as a cache only keeps no state. A cache that persists data would need the backups and the restore path that state needs, which the runbook does not give it.",
    checks.cacheOnly,
    data,
  );
