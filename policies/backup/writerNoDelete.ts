import type { StackValidationPolicy } from "@pulumi/policy";
import { AWS_TYPES, backupBuckets } from "./view";

interface Statement {
  readonly Effect?: string;
  readonly Action?: string | readonly string[];
  readonly Resource?: string | readonly string[];
}

/** What a writer must never be able to do to its backups (the pack is self-contained: components/backups/accessPolicies.ts denies the same, a test keeps them equal). */
export const FORBIDDEN = [
  "s3:DeleteObject",
  "s3:DeleteObjectVersion",
  "s3:DeleteBucket",
  "s3:PutObjectRetention",
  "s3:PutObjectLegalHold",
  "s3:BypassGovernanceRetention",
  "s3:PutBucketObjectLockConfiguration",
  "s3:PutLifecycleConfiguration",
  "s3:PutBucketVersioning",
  "s3:PutBucketPolicy",
  "s3:DeleteBucketPolicy",
  "s3:PutEncryptionConfiguration",
] as const;

const list = (v: string | readonly string[] | undefined): readonly string[] => (v === undefined ? [] : typeof v === "string" ? [v] : v);
/** IAM action patterns: case-insensitive, `*` and `?` wildcards. */
const matches = (pattern: string, action: string) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "i").test(action);

export const writerNoDelete: StackValidationPolicy = {
  name: "backup-writer-no-delete",
  description:
    "The identity that writes an app's backups may put and get objects under the app's own prefix only, and may never delete an object or a version, bypass or change retention, or change the bucket's lifecycle, versioning, encryption or policy. A compromised host must not be able to erase or shorten its own backups.",
  validateStack: (args, report) => {
    const types: string[] = [AWS_TYPES.userPolicy, AWS_TYPES.rolePolicy, AWS_TYPES.policyDocument];
    for (const b of backupBuckets(args.resources)) {
      for (const p of types.flatMap((t) => b.of(t))) {
        // Read outside the try: an unknown value (a first preview) must reach the analyzer as such.
        const text = String(p.props["policy"] ?? "{}");
        let doc: { Statement?: Statement | Statement[] };
        try {
          doc = JSON.parse(text) as typeof doc;
        } catch {
          report(`Writer policy ${p.name} of ${b.app} is not a JSON policy document.`, p.urn);
          continue;
        }
        const statements = (Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : []).filter((s) => s.Effect === "Allow");
        const allowed = statements.flatMap((s) => list(s.Action));
        for (const action of FORBIDDEN.filter((f) => allowed.some((a) => matches(a, f)))) {
          report(`Writer policy ${p.name} of ${b.app} allows ${action}; the writer may put and get under its prefix only, never delete or change retention.`, p.urn);
        }
        for (const s of statements.filter((x) => list(x.Action).some((a) => matches(a, "s3:PutObject")))) {
          for (const resource of list(s.Resource).filter((r) => !r.endsWith(`/${b.app}/*`))) {
            report(`Writer policy ${p.name} of ${b.app} may put objects at ${resource}, beyond its own prefix ${b.app}/.`, p.urn);
          }
        }
      }
    }
  },
};
