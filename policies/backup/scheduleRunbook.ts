import type { StackValidationPolicy } from "@pulumi/policy";
import type { RequirementsData } from "../runbook/requirements";
import { requirementPolicy } from "../runbook/rules";
import * as checks from "./checks";

export const backupScheduleRunbook = (data: RequirementsData): StackValidationPolicy =>
  requirementPolicy(
    "backup-schedule-runbook",
    "Backups run as often as the app's runbook asks, at the time it names (LMS: daily at 2 AM UTC; the reference app: every hour). A schedule with longer gaps loses more data than the runbook accepts when the host is lost.",
    checks.backupSchedule,
    data,
  );
