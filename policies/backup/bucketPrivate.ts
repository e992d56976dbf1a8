import type { StackValidationPolicy } from "@pulumi/policy";
import { AWS_TYPES, backupBuckets } from "./view";

const BLOCKS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;

export const bucketPrivate: StackValidationPolicy = {
  name: "backup-bucket-private",
  description:
    "Every backup bucket blocks all public access and enforces bucket-owner ownership, so no ACL can open an object. A backup is a copy of every user's data and is never public.",
  validateStack: (args, report) => {
    for (const b of backupBuckets(args.resources)) {
      const block = b.of(AWS_TYPES.publicAccess)[0];
      if (!block) report(`Backup bucket ${b.bucket.name} of ${b.app} has no public access block; add a BucketPublicAccessBlock with all four settings true.`, b.bucket.urn);
      else {
        const off = BLOCKS.filter((k) => block.props[k] !== true);
        if (off.length) report(`Backup bucket ${b.bucket.name} of ${b.app} does not block public access fully: ${off.join(", ")} must be true.`, block.urn);
      }
      const ownership = b.of(AWS_TYPES.ownership)[0];
      const rule = (ownership?.props["rule"] as { objectOwnership?: string } | undefined)?.objectOwnership;
      if (rule !== "BucketOwnerEnforced") {
        report(`Backup bucket ${b.bucket.name} of ${b.app} does not enforce bucket-owner ownership (ACLs stay active); set objectOwnership: BucketOwnerEnforced.`, (ownership ?? b.bucket).urn);
      }
    }
  },
};
