import type { StackValidationPolicy } from "@pulumi/policy";
import type { RequirementsData } from "../runbook/requirements";
import { requirementPolicy } from "../runbook/rules";
import * as checks from "./checks";

export const backupRetentionRunbook = (data: RequirementsData): StackValidationPolicy =>
  requirementPolicy(
    "backup-retention-runbook",
    "Backups are kept at least as long as the app's runbook says, on the host and in the cloud (LMS: 30 days local, 90 days cloud). A shorter retention deletes the backup an operator needs to go back to before a problem that was noticed late.",
    checks.backupRetention,
    data,
  );
