/**
 * The backup policies as plain functions, on the resources the real program plans for a PostgreSQL
 * app (LMS) and a SQLite app with uploads (Handwork) in prod: the baseline passes every policy, then
 * one field is broken per case and the exact message is asserted.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { runUnderMocks, type PlannedResource } from "../../plan/mockRuntime";
import { resolvePolicyConfig, runPolicies } from "../../plan/policyRunner";
import { WRITER_DENIED_ACTIONS } from "../../components/backups/accessPolicies";
import { backupPolicies } from "../../policies/backup";
import { FORBIDDEN } from "../../policies/backup/writerNoDelete";
import { REQUIREMENTS } from "../../policies/pack";
import { stackSpec } from "../helpers";
import type { Mutable } from "./breakers";

type Resources = Mutable<PlannedResource>[];
const policies = backupPolicies(REQUIREMENTS);
let baseline: readonly PlannedResource[] = [];

beforeAll(async () => {
  const prod = stackSpec("prod");
  baseline = (await runUnderMocks(prod, "backup-policies")).resources;
});

/** The messages of one policy on the baseline after `change`. */
async function messages(policy: string, change: (rs: Resources) => void = () => undefined, config: Record<string, unknown> = {}): Promise<string[]> {
  const rs = structuredClone(baseline) as Resources;
  change(rs);
  const selected = policies.filter((p) => p.name === policy);
  expect(selected, policy).toHaveLength(1);
  const run = await runPolicies(rs, selected, resolvePolicyConfig(selected, "mandatory", { [policy]: config }));
  return run.violations.map((v) => v.message);
}

const res = (rs: Resources, name: string) => {
  const r = rs.find((x) => x.name === name);
  if (!r) throw new Error(`no resource ${name}`);
  return r;
};
const inputs = (rs: Resources, name: string) => res(rs, name).wireInputs as Record<string, unknown>;
const withoutDependency = (rs: Resources, name: string, on: string) => {
  const r = res(rs, name);
  r.dependencies = r.dependencies.filter((d) => d !== res(rs, on).urn);
};

describe("backup-writer-no-delete and the writer's policy document", () => {
  it("forbid the same actions (the pack keeps its own copy so it stays self-contained)", () => {
    expect([...FORBIDDEN].sort()).toEqual([...WRITER_DENIED_ACTIONS].sort());
  });
});

describe("backup policies on the planned prod stack", () => {
  it.each(policies.map((p) => p.name))("%s passes the planned stack", async (name) => {
    expect(await messages(name)).toEqual([]);
  });

  const cases: [string, string, (rs: Resources) => void, string[], Record<string, unknown>?][] = [
    ["backup-bucket-versioned", "versioning suspended", (rs) => void ((inputs(rs, "lms-backup-versioning")["versioningConfiguration"] as Record<string, unknown>)["status"] = "Suspended"),
      ["Backup bucket lms-backup-bucket of lms is not versioned; give it a BucketVersioning with status Enabled."]],
    ["backup-bucket-encrypted", "AES256 instead of KMS", (rs) => void ((inputs(rs, "handwork-backup-encryption")["rules"] as Record<string, Record<string, unknown>>[])[0]!["applyServerSideEncryptionByDefault"] = { sseAlgorithm: "AES256" }),
      ["Backup bucket handwork-backup-bucket of handwork is encrypted with AES256, not aws:kms; encrypt it with the app's own KMS key."]],
    ["backup-bucket-encrypted", "no encryption configuration", (rs) => void (inputs(rs, "lms-backup-encryption")["rules"] = []),
      ["Backup bucket lms-backup-bucket of lms has no default encryption; give it a BucketServerSideEncryptionConfiguration with aws:kms and the app's KMS key."]],
    ["backup-bucket-encrypted", "a key that does not rotate", (rs) => void (inputs(rs, "lms-backup-key")["enableKeyRotation"] = false),
      ["KMS key lms-backup-key of backup bucket lms-backup-bucket does not rotate; set enableKeyRotation: true."]],
    ["backup-bucket-encrypted", "an AWS-managed key, not the stack's", (rs) => withoutDependency(rs, "lms-backup-encryption", "lms-backup-key"),
      ["Backup bucket lms-backup-bucket of lms is not encrypted with a KMS key of this stack; set kmsMasterKeyId to the app's aws.kms.Key."]],
    ["backup-bucket-private", "public policies allowed", (rs) => void (inputs(rs, "lms-backup-public-access")["blockPublicPolicy"] = false),
      ["Backup bucket lms-backup-bucket of lms does not block public access fully: blockPublicPolicy must be true."]],
    ["backup-bucket-private", "ACLs left on", (rs) => void (inputs(rs, "handwork-backup-ownership")["rule"] = { objectOwnership: "ObjectWriter" }),
      ["Backup bucket handwork-backup-bucket of handwork does not enforce bucket-owner ownership (ACLs stay active); set objectOwnership: BucketOwnerEnforced."]],
    ["backup-bucket-tls-only", "a policy that allows plain http", (rs) => void (inputs(rs, "lms-backup-tls-only")["policy"] = JSON.stringify({ Version: "2012-10-17", Statement: [] })),
      ["Backup bucket lms-backup-bucket of lms accepts requests without TLS; its policy must deny s3:* to everyone when aws:SecureTransport is false."]],
    ["backup-bucket-lifecycle", "cloud retention cut to 30 days", (rs) => void ((inputs(rs, "handwork-backup-lifecycle")["rules"] as Record<string, unknown>[])[0]!["expiration"] = { days: 30 }),
      ["Backup bucket handwork-backup-bucket of handwork expires backups after 30 days (rule retention); keep them at least 90 days."]],
    ["backup-bucket-lifecycle", "noncurrent versions kept forever", (rs) => void delete (inputs(rs, "lms-backup-lifecycle")["rules"] as Record<string, unknown>[])[0]!["noncurrentVersionExpiration"],
      ["Backup bucket lms-backup-bucket of lms keeps noncurrent versions forever; add noncurrentVersionExpiration to a rule for the whole bucket."]],
    ["backup-bucket-lifecycle", "incomplete uploads kept", (rs) => void delete (inputs(rs, "lms-backup-lifecycle")["rules"] as Record<string, unknown>[])[0]!["abortIncompleteMultipartUpload"],
      ["Backup bucket lms-backup-bucket of lms keeps incomplete multipart uploads forever; add abortIncompleteMultipartUpload to a rule for the whole bucket."]],
    ["backup-bucket-lifecycle", "a longer minimum in the policy config", () => undefined,
      ["fairlens", "fdts", "reference", "lms", "handwork"].map((id) => `Backup bucket ${id}-backup-bucket of ${id} expires backups after 90 days (rule retention); keep them at least 120 days.`), { minExpirationDays: 120 }],
    ["backup-bucket-protected", "an unprotected bucket", (rs) => void (res(rs, "lms-backup-bucket").options.protect = false),
      ["Backup bucket lms-backup-bucket of lms is not protected; set protect: true."]],
    ["backup-bucket-protected", "a bucket not retained on delete", (rs) => void (res(rs, "lms-backup-bucket").options.retainOnDelete = false),
      ["Backup bucket lms-backup-bucket of lms is not retained on delete; set retainOnDelete: true."]],
    ["backup-bucket-protected", "an unprotected key", (rs) => void (res(rs, "handwork-backup-key").options.protect = false),
      ["KMS key handwork-backup-key of handwork-backup-bucket is not protected; set protect: true (without it the backups cannot be read)."]],
    ["backup-bucket-protected", "no Object Lock", (rs) => void (inputs(rs, "lms-backup-bucket")["objectLockEnabled"] = false),
      ["Backup bucket lms-backup-bucket of lms has no Object Lock; create it with objectLockEnabled: true."]],
    ["backup-bucket-protected", "a lock with no default retention", (rs) => void (inputs(rs, "lms-backup-object-lock")["rule"] = { defaultRetention: { mode: "GOVERNANCE", days: 0 } }),
      ["Backup bucket lms-backup-bucket of lms locks no new backup by default; give it a BucketObjectLockConfiguration with a GOVERNANCE retention of the local retention days."]],
    ["backup-writer-no-delete", "a writer that may delete", (rs) => {
      const p = inputs(rs, "lms-backup-writer-policy");
      const doc = JSON.parse(String(p["policy"])) as { Statement: { Action: string[] }[] };
      doc.Statement[0]!.Action = ["s3:PutObject", "s3:GetObject", "s3:Delete*"];
      p["policy"] = JSON.stringify(doc);
    }, ["Writer policy lms-backup-writer-policy of lms allows s3:DeleteObject; the writer may put and get under its prefix only, never delete or change retention.",
      "Writer policy lms-backup-writer-policy of lms allows s3:DeleteObjectVersion; the writer may put and get under its prefix only, never delete or change retention.",
      "Writer policy lms-backup-writer-policy of lms allows s3:DeleteBucket; the writer may put and get under its prefix only, never delete or change retention.",
      "Writer policy lms-backup-writer-policy of lms allows s3:DeleteBucketPolicy; the writer may put and get under its prefix only, never delete or change retention."]],
    ["backup-writer-no-delete", "a writer that may write the whole bucket", (rs) => {
      const p = inputs(rs, "handwork-backup-writer-policy");
      const doc = JSON.parse(String(p["policy"])) as { Statement: { Resource: string[] }[] };
      doc.Statement[0]!.Resource = [doc.Statement[0]!.Resource[0]!.replace("/handwork/*", "/*")];
      p["policy"] = JSON.stringify(doc);
    }, [expect.stringMatching(/^Writer policy handwork-backup-writer-policy of handwork may put objects at arn:aws:s3:::handwork-prod-backups-[0-9a-f]+\/\*, beyond its own prefix handwork\/\.$/) as unknown as string]],
    ["backup-jobs-required", "no backup job", (rs) => void (inputs(rs, "lms-backups-install")["create"] = "true"),
      ["App lms holds state but has no backup job installed on its host."]],
    ["backup-jobs-required", "no verification timer", (rs) => {
      const p = inputs(rs, "handwork-backups-install");
      p["create"] = String(p["create"]).split("runbook-backup-verify-handwork.timer").join("runbook-backup-verify-handwork.off");
    }, ["App handwork has no scheduled verification: handwork-backups-install installs no runbook-backup-verify-handwork.timer."]],
    ["backup-jobs-required", "jobs that do not write to the app's bucket", (rs) => withoutDependency(rs, "lms-backups-install", "lms-backup-bucket"),
      ["The backup jobs of lms (lms-backups-install) do not write to its backup bucket lms-backup-bucket."]],
    ["backup-jobs-required", "a replica that does not wait for the pre-deploy backup", (rs) => withoutDependency(rs, "lms-backend-1", "lms-backups-pre-deploy"),
      ["App lms: lms-backend-1 does not wait for the pre-deploy backup (lms-backups-pre-deploy)."]],
    ["backup-jobs-required", "a pre-deploy backup before the database is up", (rs) => withoutDependency(rs, "lms-backups-pre-deploy", "lms-db"),
      ["App lms: lms-backups-pre-deploy does not wait for lms-db; the pre-deploy backup needs the running database."]],
    // The runbooks' own numbers, each refused with the runbook line.
    ["backup-schedule-runbook", "the LMS backup moved off 2 AM UTC", (rs) => void (inputs(rs, "lms-backups-install")["create"] = String(inputs(rs, "lms-backups-install")["create"]).replace("0 2 * * *", "0 3 * * *")),
      ["lms: backup schedule \"0 3 * * *\" instead of \"0 2 * * *\" (UTC) required in production (003 'Automated Backups')"]],
    ["backup-schedule-runbook", "the reference app backed up daily, not hourly", (rs) => void (inputs(rs, "reference-backups-install")["create"] = String(inputs(rs, "reference-backups-install")["create"]).replace("BACKUP_MAX_GAP_HOURS=1\n", "BACKUP_MAX_GAP_HOURS=24\n")),
      ["reference: backups up to 24 h apart > 1 h required in production (002 '3.1 Data Backup Strategy')"]],
    ["backup-retention-runbook", "LMS cloud copies kept 30 days", (rs) => void ((inputs(rs, "lms-backup-lifecycle")["rules"] as Record<string, unknown>[])[0]!["expiration"] = { days: 30 }),
      ["lms: cloud backups expiring after 30 days < 90 days required in production (003 'Automated Backups')"]],
    ["backup-retention-runbook", "LMS local copies kept 7 days", (rs) => void (inputs(rs, "lms-backups-install")["create"] = String(inputs(rs, "lms-backups-install")["create"]).replace("LOCAL_RETENTION_DAYS=30\n", "LOCAL_RETENTION_DAYS=7\n")),
      ["lms: local backups kept 7 days < 30 days required in production (003 'Automated Backups')"]],
    ["backup-verification-runbook", "FDTS verified monthly", (rs) => void (inputs(rs, "fdts-backups-install")["create"] = String(inputs(rs, "fdts-backups-install")["create"]).replace("VERIFY_MAX_GAP_HOURS=24\n", "VERIFY_MAX_GAP_HOURS=744\n")),
      ["fdts: backup verification up to 31 days apart > 7 days required in production (001 'Backup Verification')"]],
    ["backup-verification-runbook", "Handwork verified without integrity_check", (rs) => void (inputs(rs, "handwork-backups-install")["create"] = String(inputs(rs, "handwork-backups-install")["create"]).split("PRAGMA integrity_check").join("PRAGMA quick_check")),
      ["handwork: backup verification running PRAGMA integrity_check on the restored copy required in production (004 'Automated Backup Verification')"]],
    ["backup-predeploy-runbook", "LMS migrating before the pre-deploy backup", (rs) => withoutDependency(rs, "lms-migrate", "lms-backups-pre-deploy"),
      ["lms: lms-migrate starting only after the pre-deploy backup required in production (003 'Production Deployment')"]],
    ["backup-age-runbook", "FDTS backed up every 48 h", (rs) => void (inputs(rs, "fdts-backups-install")["create"] = String(inputs(rs, "fdts-backups-install")["create"]).replace("BACKUP_MAX_GAP_HOURS=24\n", "BACKUP_MAX_GAP_HOURS=48\n")),
      ["fdts: backups more often than the 48 h alert (they run up to 48 h apart) required in production (001 'Backup Failure Alert')"]],
    ["backup-versioning-runbook", "reference backups unversioned", (rs) => void ((inputs(rs, "reference-backup-versioning")["versioningConfiguration"] as Record<string, unknown>)["status"] = "Suspended"),
      ["reference: versioned off-site backups (a backup bucket with versioning Enabled) required in production (002 '3.1 Data Backup Strategy')"]],
    ["backup-encryption-runbook", "reference backups unencrypted", (rs) => void (inputs(rs, "reference-backup-encryption")["rules"] = []),
      ["reference: off-site backups encrypted at rest (default encryption on the backup bucket) required in production (002 '3.1 Data Backup Strategy')"]],
  ];

  it.each(cases)("%s refuses %s, with the exact message", async (policy, _what, change, expected, config) => {
    expect(await messages(policy, change, config)).toEqual(expected);
  });
});
