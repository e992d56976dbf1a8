import type { StackValidationPolicy } from "@pulumi/policy";
import { AWS_TYPES, backupBuckets } from "./view";

/** Reference app "3.1 Data Backup Strategy": "with versioning enabled"; for every app here. */
export const bucketVersioned: StackValidationPolicy = {
  name: "backup-bucket-versioned",
  description:
    "Every backup bucket keeps versions of its objects. An overwritten or deleted backup stays recoverable, and Object Lock needs versioning.",
  validateStack: (args, report) => {
    for (const b of backupBuckets(args.resources)) {
      const configs = b.of(AWS_TYPES.versioning);
      const enabled = configs.some((v) => (v.props["versioningConfiguration"] as { status?: string } | undefined)?.status === "Enabled");
      if (!enabled) report(`Backup bucket ${b.bucket.name} of ${b.app} is not versioned; give it a BucketVersioning with status Enabled.`, (configs[0] ?? b.bucket).urn);
    }
  },
};
