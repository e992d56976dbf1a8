import type { StackValidationPolicy } from "@pulumi/policy";
import type { RequirementsData } from "../runbook/requirements";
import { requirementPolicy } from "../runbook/rules";
import * as checks from "./checks";

export const backupPredeployRunbook = (data: RequirementsData): StackValidationPolicy =>
  requirementPolicy(
    "backup-predeploy-runbook",
    "A backup is taken before every deploy whose images change, and migrations, the release task, replicas and workers start only after it (LMS: create a backup first; FDTS: before major updates; Handwork: before maintenance). A migration that goes wrong must have a backup from just before it to return to.",
    checks.backupBeforeDeploy,
    data,
  );
