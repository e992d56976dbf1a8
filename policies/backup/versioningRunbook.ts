import type { StackValidationPolicy } from "@pulumi/policy";
import type { RequirementsData } from "../runbook/requirements";
import { requirementPolicy } from "../runbook/rules";
import * as checks from "./checks";

export const backupVersioningRunbook = (data: RequirementsData): StackValidationPolicy =>
  requirementPolicy(
    "backup-versioning-runbook",
    "Off-site backups are kept in a bucket with versioning enabled, as the app's runbook asks (reference app: 3.1 Data Backup Strategy). Versioning keeps an overwritten or deleted backup recoverable.",
    checks.backupVersioned,
    data,
  );
