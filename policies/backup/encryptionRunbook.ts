import type { StackValidationPolicy } from "@pulumi/policy";
import type { RequirementsData } from "../runbook/requirements";
import { requirementPolicy } from "../runbook/rules";
import * as checks from "./checks";

export const backupEncryptionRunbook = (data: RequirementsData): StackValidationPolicy =>
  requirementPolicy(
    "backup-encryption-runbook",
    "Off-site backups are encrypted at rest and reached over TLS only, as the app's runbook asks (reference app: 3.1 Data Backup Strategy). A database dump holds every user's data.",
    checks.backupEncrypted,
    data,
  );
