import type { StackValidationPolicy } from "@pulumi/policy";
import { AWS_TYPES, backupBuckets } from "./view";

interface LockRule {
  readonly defaultRetention?: { readonly mode?: string; readonly days?: number; readonly years?: number };
}

/** LMS "30 days local": what the host keeps, the bucket locks; a compromised host cannot erase it. */
export const bucketProtected: StackValidationPolicy = {
  name: "backup-bucket-protected",
  description:
    "Every backup bucket and its KMS key are protected and retained on delete, and the bucket locks new backups with Object Lock by default. A stray pulumi destroy must not delete the backups, and a compromised host must not be able to erase recent ones.",
  validateStack: (args, report) => {
    for (const b of backupBuckets(args.resources)) {
      const name = `Backup bucket ${b.bucket.name} of ${b.app}`;
      if (!b.bucket.opts.protect) report(`${name} is not protected; set protect: true.`, b.bucket.urn);
      // The Pulumi CLI does not pass retainOnDelete to policies; the offline plan does.
      if ((b.bucket.opts as { retainOnDelete?: boolean }).retainOnDelete === false) report(`${name} is not retained on delete; set retainOnDelete: true.`, b.bucket.urn);
      for (const key of b.keys()) {
        if (!key.opts.protect) report(`KMS key ${key.name} of ${b.bucket.name} is not protected; set protect: true (without it the backups cannot be read).`, key.urn);
      }
      if (b.bucket.props["objectLockEnabled"] !== true) {
        report(`${name} has no Object Lock; create it with objectLockEnabled: true.`, b.bucket.urn);
        continue;
      }
      const lock = b.of(AWS_TYPES.objectLock)[0];
      const retention = (lock?.props["rule"] as LockRule | undefined)?.defaultRetention;
      const days = (retention?.days ?? 0) + (retention?.years ?? 0) * 365;
      if (!lock || !["GOVERNANCE", "COMPLIANCE"].includes(retention?.mode ?? "") || days < 1) {
        report(`${name} locks no new backup by default; give it a BucketObjectLockConfiguration with a GOVERNANCE retention of the local retention days.`, (lock ?? b.bucket).urn);
      }
    }
  },
};
