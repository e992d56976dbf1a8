import type { PolicyConfigSchema, StackValidationPolicy } from "@pulumi/policy";
import { settings } from "../lib";
import { AWS_TYPES, backupBuckets } from "./view";

interface Rule {
  readonly id?: string;
  readonly status?: string;
  readonly filter?: { readonly prefix?: string } | null;
  readonly expiration?: { readonly days?: number };
  readonly noncurrentVersionExpiration?: { readonly noncurrentDays?: number };
  readonly abortIncompleteMultipartUpload?: { readonly daysAfterInitiation?: number };
}

const configSchema: PolicyConfigSchema = {
  properties: {
    minExpirationDays: {
      type: "integer",
      minimum: 1,
      default: 90,
      description: "Fewest days a backup stays in the bucket before it expires (LMS: 90 days cloud).",
    },
  },
};

/** Applies to every object of the bucket: no filter, or an empty prefix. */
const wholeBucket = (r: Rule) => r.status === "Enabled" && (!r.filter || !r.filter.prefix);

export const bucketLifecycle: StackValidationPolicy = {
  name: "backup-bucket-lifecycle",
  description:
    "Every backup bucket has a lifecycle that keeps backups at least the cloud retention before they expire, removes noncurrent versions after a number of days, and aborts incomplete multipart uploads. A shorter expiry deletes backups an operator still needs, and a noncurrent version kept forever is a copy of user data nobody manages.",
  configSchema,
  validateStack: (args, report) => {
    const { minExpirationDays } = settings<{ minExpirationDays: number }>(configSchema, args);
    for (const b of backupBuckets(args.resources)) {
      const configs = b.of(AWS_TYPES.lifecycle);
      if (configs.length === 0) {
        report(`Backup bucket ${b.bucket.name} of ${b.app} has no lifecycle configuration; backups would never expire and noncurrent versions would be kept forever.`, b.bucket.urn);
        continue;
      }
      const at = configs[0]!.urn;
      const rules = configs.flatMap((c) => (c.props["rules"] as Rule[] | undefined) ?? []).filter((r) => r.status === "Enabled");
      for (const r of rules.filter((x) => typeof x.expiration?.days === "number" && x.expiration.days < minExpirationDays)) {
        report(`Backup bucket ${b.bucket.name} of ${b.app} expires backups after ${r.expiration!.days} days (rule ${r.id ?? "?"}); keep them at least ${minExpirationDays} days.`, at);
      }
      if (!rules.some((r) => wholeBucket(r) && typeof r.noncurrentVersionExpiration?.noncurrentDays === "number")) {
        report(`Backup bucket ${b.bucket.name} of ${b.app} keeps noncurrent versions forever; add noncurrentVersionExpiration to a rule for the whole bucket.`, at);
      }
      if (!rules.some((r) => wholeBucket(r) && typeof r.abortIncompleteMultipartUpload?.daysAfterInitiation === "number")) {
        report(`Backup bucket ${b.bucket.name} of ${b.app} keeps incomplete multipart uploads forever; add abortIncompleteMultipartUpload to a rule for the whole bucket.`, at);
      }
    }
  },
};
