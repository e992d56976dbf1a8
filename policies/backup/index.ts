/** The backups area's policies: the general rules every backup follows, then the runbooks' own backup requirements. */
import type { StackValidationPolicy } from "@pulumi/policy";
import type { RequirementsData } from "../runbook/requirements";
import { backupAgeRunbook } from "./ageRunbook";
import { bucketEncrypted } from "./bucketEncrypted";
import { bucketLifecycle } from "./bucketLifecycle";
import { bucketPrivate } from "./bucketPrivate";
import { bucketProtected } from "./bucketProtected";
import { bucketTlsOnly } from "./bucketTlsOnly";
import { bucketVersioned } from "./bucketVersioned";
import { backupEncryptionRunbook } from "./encryptionRunbook";
import { jobsRequired } from "./jobsRequired";
import { backupPredeployRunbook } from "./predeployRunbook";
import { backupRetentionRunbook } from "./retentionRunbook";
import { backupScheduleRunbook } from "./scheduleRunbook";
import { backupVerificationRunbook } from "./verificationRunbook";
import { backupVersioningRunbook } from "./versioningRunbook";
import { writerNoDelete } from "./writerNoDelete";

export * as backupChecks from "./checks";

export function backupPolicies(data: RequirementsData): StackValidationPolicy[] {
  return [
    bucketVersioned,
    bucketEncrypted,
    bucketPrivate,
    bucketTlsOnly,
    bucketLifecycle,
    bucketProtected,
    writerNoDelete,
    jobsRequired,
    backupScheduleRunbook(data),
    backupRetentionRunbook(data),
    backupVerificationRunbook(data),
    backupPredeployRunbook(data),
    backupAgeRunbook(data),
    backupVersioningRunbook(data),
    backupEncryptionRunbook(data),
  ];
}
