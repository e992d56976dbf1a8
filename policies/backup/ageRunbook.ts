import type { StackValidationPolicy } from "@pulumi/policy";
import type { RequirementsData } from "../runbook/requirements";
import { requirementPolicy } from "../runbook/rules";
import * as checks from "./checks";

export const backupAgeRunbook = (data: RequirementsData): StackValidationPolicy =>
  requirementPolicy(
    "backup-age-runbook",
    "Scheduled backups run more often than the runbook's alert on a missing backup (FDTS: no successful backup in 48 hours). A schedule as slow as the alert would raise it on every healthy run.",
    checks.backupMaxAge,
    data,
  );
