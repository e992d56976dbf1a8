import type { StackValidationPolicy } from "@pulumi/policy";
import type { RequirementsData } from "../runbook/requirements";
import { requirementPolicy } from "../runbook/rules";
import * as checks from "./checks";

export const backupVerificationRunbook = (data: RequirementsData): StackValidationPolicy =>
  requirementPolicy(
    "backup-verification-runbook",
    "The newest backup is proved by a test restore as often, and as deeply, as the app's runbook asks (FDTS: weekly; Handwork: PRAGMA integrity_check on the copy). A backup that is never restored is not known to restore.",
    checks.backupVerification,
    data,
  );
