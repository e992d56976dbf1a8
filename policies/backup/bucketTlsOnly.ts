import type { StackValidationPolicy } from "@pulumi/policy";
import { AWS_TYPES, backupBuckets } from "./view";

interface Statement {
  readonly Effect?: string;
  readonly Principal?: unknown;
  readonly Action?: string | readonly string[];
  readonly Condition?: { readonly Bool?: Readonly<Record<string, unknown>> };
}

const list = (v: string | readonly string[] | undefined): readonly string[] => (v === undefined ? [] : typeof v === "string" ? [v] : v);
const everyone = (p: unknown) => p === "*" || (typeof p === "object" && p !== null && (p as { AWS?: unknown }).AWS === "*");

/** Reference app "3.1 Data Backup Strategy": "Encrypt backups ... in transit". */
export const bucketTlsOnly: StackValidationPolicy = {
  name: "backup-bucket-tls-only",
  description:
    "Every backup bucket's policy denies every request that is not made over TLS, for every principal. Backups travel encrypted in transit, as the reference app's runbook asks.",
  validateStack: (args, report) => {
    for (const b of backupBuckets(args.resources)) {
      const policies = b.of(AWS_TYPES.policy);
      const denies = policies.some((p) => {
        // Read outside the try: an unknown value (a first preview) must reach the analyzer as such.
        const text = String(p.props["policy"] ?? "{}");
        let doc: { Statement?: Statement | Statement[] };
        try {
          doc = JSON.parse(text) as typeof doc;
        } catch {
          return false;
        }
        const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
        return statements.some(
          (s) => s.Effect === "Deny" && everyone(s.Principal) && list(s.Action).some((a) => a === "s3:*") && String(s.Condition?.Bool?.["aws:SecureTransport"]) === "false",
        );
      });
      if (!denies) report(`Backup bucket ${b.bucket.name} of ${b.app} accepts requests without TLS; its policy must deny s3:* to everyone when aws:SecureTransport is false.`, (policies[0] ?? b.bucket).urn);
    }
  },
};
