import type { StackValidationPolicy } from "@pulumi/policy";
import { AWS_TYPES, backupBuckets } from "./view";

interface SseRule {
  readonly applyServerSideEncryptionByDefault?: { readonly sseAlgorithm?: string; readonly kmsMasterKeyId?: string };
}

/** Reference app "3.1 Data Backup Strategy": "Encrypt backups at rest"; with a key of the stack's own that rotates. */
export const bucketEncrypted: StackValidationPolicy = {
  name: "backup-bucket-encrypted",
  description:
    "Every backup bucket encrypts what it stores with SSE-KMS under a customer-managed key of the stack, and that key rotates. A dump holds every user's data, and a key of the stack's own can be revoked and audited apart from anything else.",
  validateStack: (args, report) => {
    for (const b of backupBuckets(args.resources)) {
      const configs = b.of(AWS_TYPES.encryption);
      const rules = configs.flatMap((c) => (c.props["rules"] as SseRule[] | undefined) ?? []);
      const kms = rules.find((r) => r.applyServerSideEncryptionByDefault?.sseAlgorithm === "aws:kms");
      if (!kms) {
        const algorithm = rules.map((r) => r.applyServerSideEncryptionByDefault?.sseAlgorithm).find((a) => a);
        report(
          algorithm
            ? `Backup bucket ${b.bucket.name} of ${b.app} is encrypted with ${algorithm}, not aws:kms; encrypt it with the app's own KMS key.`
            : `Backup bucket ${b.bucket.name} of ${b.app} has no default encryption; give it a BucketServerSideEncryptionConfiguration with aws:kms and the app's KMS key.`,
          (configs[0] ?? b.bucket).urn,
        );
        continue;
      }
      const keys = b.keys();
      if (keys.length === 0) {
        report(`Backup bucket ${b.bucket.name} of ${b.app} is not encrypted with a KMS key of this stack; set kmsMasterKeyId to the app's aws.kms.Key.`, configs[0]!.urn);
      }
      for (const key of keys.filter((k) => k.props["enableKeyRotation"] !== true)) {
        report(`KMS key ${key.name} of backup bucket ${b.bucket.name} does not rotate; set enableKeyRotation: true.`, key.urn);
      }
    }
  },
};
