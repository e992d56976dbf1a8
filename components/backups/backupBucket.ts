/**
 * BackupBucket: an app's off-site backups in AWS S3, one bucket per app per stack, and the writer
 * identity its host uses.
 * - versioning on; SSE-KMS with a customer key that rotates yearly; public access fully blocked;
 *   bucket-owner-enforced ownership (no ACLs); a policy that denies every request not made over TLS;
 * - the lifecycle from the app's retention (lifecycle.ts);
 * - in prod: Object Lock in governance mode for the local retention window (a compromised host, or
 *   anyone without the bypass permission, cannot erase recent backups), and the bucket and its key
 *   protected and retained on delete;
 * - a writer (IAM user and access key) that may put and get under the app's prefix only, and never
 *   delete or change retention (accessPolicies.ts `renderWriterPolicy`).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { renderTlsOnlyBucketPolicy, renderWriterPolicy } from "./accessPolicies";
import { lifecycleRules } from "./lifecycle";

export interface BackupBucketArgs {
  /** Catalog id of the app: the prefix its backups go under, and its tags. */
  readonly appId: string;
  /** `prod`, `staging`: a tag. */
  readonly environment: string;
  /** Days a backup stays in the bucket (default 90: LMS "90 days cloud"). */
  readonly cloudRetentionDays?: number;
  /** Days a backup is Object-Locked, the host's own retention (default 30: LMS "30 days local"). */
  readonly localRetentionDays?: number;
  /** Days a noncurrent version is kept (default 30). */
  readonly noncurrentVersionDays?: number;
  /** Object Lock in governance mode, and the bucket and key protected and retained (default true: prod). */
  readonly locked?: boolean;
  /** A recovery stack's source: another bucket the writer may read (never write) under a prefix. */
  readonly readSource?: { readonly bucketArn: pulumi.Input<string>; readonly prefix: pulumi.Input<string>; readonly kmsKeyArn: pulumi.Input<string> };
}

const DEFAULTS = { cloudRetentionDays: 90, localRetentionDays: 30, noncurrentVersionDays: 30, locked: true } as const;

const wholeDays = (value: number, name: string) => {
  if (!Number.isInteger(value) || value < 1 || value > 3650) throw new Error(`\`${name}\` must be a whole number of days from 1 to 3650 (got ${value})`);
};

export class BackupBucket extends pulumi.ComponentResource {
  public readonly key: aws.kms.Key;
  public readonly bucket: aws.s3.Bucket;
  public readonly lifecycle: aws.s3.BucketLifecycleConfiguration;
  public readonly objectLock?: aws.s3.BucketObjectLockConfiguration;
  public readonly writer: aws.iam.User;
  /** The app's prefix in the bucket. */
  public readonly prefix: string;
  public readonly bucketName: pulumi.Output<string>;
  public readonly bucketArn: pulumi.Output<string>;
  public readonly kmsKeyArn: pulumi.Output<string>;
  /** The bucket's region, as the provider manages it (the host's aws CLI signs for it). */
  public readonly region: pulumi.Output<string>;
  /** The writer's policy document, as attached (JSON). */
  public readonly writerPolicy: pulumi.Output<string>;
  public readonly writerAccessKeyId: pulumi.Output<string>;
  /** Secret. */
  public readonly writerSecretAccessKey: pulumi.Output<string>;

  constructor(name: string, args: BackupBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook:backups:BackupBucket", name, {}, opts);
    if (!/^[a-z0-9][a-z0-9-]*$/.test(args.appId)) throw new Error(`\`appId\` must be a catalog id (lowercase letters, digits, '-'), got "${args.appId}"`);
    const a = {
      cloudRetentionDays: args.cloudRetentionDays ?? DEFAULTS.cloudRetentionDays,
      localRetentionDays: args.localRetentionDays ?? DEFAULTS.localRetentionDays,
      noncurrentVersionDays: args.noncurrentVersionDays ?? DEFAULTS.noncurrentVersionDays,
      locked: args.locked ?? DEFAULTS.locked,
    };
    wholeDays(a.cloudRetentionDays, "cloudRetentionDays");
    wholeDays(a.localRetentionDays, "localRetentionDays");
    wholeDays(a.noncurrentVersionDays, "noncurrentVersionDays");
    if (a.cloudRetentionDays < a.localRetentionDays) {
      throw new Error(`\`cloudRetentionDays\` (${a.cloudRetentionDays}) must be at least \`localRetentionDays\` (${a.localRetentionDays}): objects are locked for the local retention`);
    }

    const tags = { "runbook.app": args.appId, "runbook.environment": args.environment, "runbook.role": "backups" };
    const child = { parent: this };
    const kept = { ...child, protect: a.locked, retainOnDelete: a.locked };
    this.prefix = args.appId;

    this.key = new aws.kms.Key(
      `${name}-key`,
      { description: `Backups of ${args.appId} (${args.environment})`, enableKeyRotation: true, rotationPeriodInDays: 365, deletionWindowInDays: 30, tags },
      kept,
    );
    this.bucket = new aws.s3.Bucket(`${name}-bucket`, { bucketPrefix: `${args.appId}-${args.environment}-backups-`, objectLockEnabled: a.locked, forceDestroy: false, tags }, kept);
    const bucket = this.bucket.id;
    const ownership = new aws.s3.BucketOwnershipControls(`${name}-ownership`, { bucket, rule: { objectOwnership: "BucketOwnerEnforced" } }, child);
    const publicAccess = new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      { bucket, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      child,
    );
    const versioning = new aws.s3.BucketVersioning(`${name}-versioning`, { bucket, versioningConfiguration: { status: "Enabled" } }, child);
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      { bucket, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: this.key.arn }, bucketKeyEnabled: true }] },
      child,
    );
    new aws.s3.BucketPolicy(
      `${name}-tls-only`,
      { bucket, policy: this.bucket.arn.apply((arn) => JSON.stringify(renderTlsOnlyBucketPolicy(arn))) },
      { ...child, dependsOn: [publicAccess, ownership] },
    );
    this.lifecycle = new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      { bucket, rules: lifecycleRules({ cloudRetentionDays: a.cloudRetentionDays, noncurrentDays: a.noncurrentVersionDays }).map((r) => ({ ...r, transitions: r.transitions ? [...r.transitions] : undefined })) },
      { ...child, dependsOn: [versioning] },
    );
    if (a.locked) {
      this.objectLock = new aws.s3.BucketObjectLockConfiguration(
        `${name}-object-lock`,
        { bucket, objectLockEnabled: "Enabled", rule: { defaultRetention: { mode: "GOVERNANCE", days: a.localRetentionDays } } },
        { ...child, dependsOn: [versioning] },
      );
    }

    // The writer: its own prefix, put and get, never delete.
    this.writer = new aws.iam.User(`${name}-writer`, { path: "/runbook/backups/", tags }, child);
    const source = args.readSource;
    this.writerPolicy = pulumi
      .all([this.bucket.arn, this.key.arn, source?.bucketArn, source?.prefix, source?.kmsKeyArn])
      .apply(([bucketArn, kmsKeyArn, sBucket, sPrefix, sKey]) =>
        JSON.stringify(
          renderWriterPolicy({
            bucketArn,
            prefix: args.appId,
            kmsKeyArn,
            ...(sBucket !== undefined && sPrefix !== undefined && sKey !== undefined && { readSources: [{ bucketArn: sBucket, prefix: sPrefix, kmsKeyArn: sKey }] }),
          }),
        ),
      );
    new aws.iam.UserPolicy(`${name}-writer-policy`, { user: this.writer.name, policy: this.writerPolicy }, child);
    const accessKey = new aws.iam.AccessKey(`${name}-writer-key`, { user: this.writer.name }, child);

    this.bucketName = this.bucket.bucket;
    this.bucketArn = this.bucket.arn;
    this.kmsKeyArn = this.key.arn;
    this.region = this.bucket.region;
    this.writerAccessKeyId = accessKey.id;
    this.writerSecretAccessKey = pulumi.secret(accessKey.secret);
    this.registerOutputs({ bucketName: this.bucketName, bucketArn: this.bucketArn, kmsKeyArn: this.kmsKeyArn, prefix: this.prefix });
  }
}
