/**
 * IAM and bucket policy documents of the backups, as pure functions of ARNs. The writer policy is
 * exported for the hosts area, which attaches the same document to an EC2 instance profile.
 */

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: "Allow" | "Deny";
  readonly Principal?: "*" | Readonly<Record<string, unknown>>;
  readonly Action: readonly string[];
  readonly Resource: readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: readonly PolicyStatement[];
}

/** A bucket another stack's backups are read from (a recovery stack's source). */
export interface ReadSource {
  readonly bucketArn: string;
  readonly prefix: string;
  readonly kmsKeyArn: string;
}

export interface WriterPolicyArgs {
  readonly bucketArn: string;
  /** The app's prefix in the bucket, without slashes at either end (`lms`). */
  readonly prefix: string;
  /** The bucket's KMS key: SSE-KMS needs GenerateDataKey to write and Decrypt to read. */
  readonly kmsKeyArn: string;
  /** Buckets a recovery stack restores from: read only. */
  readonly readSources?: readonly ReadSource[];
}

/** What the writer must never do: delete, or weaken what keeps backups (retention, lock, lifecycle, policy). */
export const WRITER_DENIED_ACTIONS: readonly string[] = [
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
];

const PREFIX = /^[a-z0-9][a-z0-9-]*$/;

function readStatements(sid: string, bucketArn: string, prefix: string, kmsKeyArn: string, write: boolean): PolicyStatement[] {
  return [
    {
      Sid: `${sid}Objects`,
      Effect: "Allow",
      Action: write ? ["s3:PutObject", "s3:GetObject"] : ["s3:GetObject"],
      Resource: [`${bucketArn}/${prefix}/*`],
    },
    {
      Sid: `${sid}List`,
      Effect: "Allow",
      Action: ["s3:ListBucket"],
      Resource: [bucketArn],
      Condition: { StringLike: { "s3:prefix": [`${prefix}/*`, `${prefix}/`, prefix] } },
    },
    {
      Sid: `${sid}Key`,
      Effect: "Allow",
      Action: write ? ["kms:GenerateDataKey", "kms:Decrypt"] : ["kms:Decrypt"],
      Resource: [kmsKeyArn],
    },
  ];
}

/**
 * The writer identity of one app: put and get under its own prefix, list that prefix, use the
 * bucket's key; nothing else, and an explicit deny of every delete and retention change (a
 * compromised host cannot erase or shorten its backups, whatever else it is granted).
 */
export function renderWriterPolicy(args: WriterPolicyArgs): PolicyDocument {
  if (!PREFIX.test(args.prefix)) throw new Error(`\`prefix\` must be lowercase letters, digits and '-', without slashes (got "${args.prefix}")`);
  const sources = args.readSources ?? [];
  return {
    Version: "2012-10-17",
    Statement: [
      ...readStatements("Backup", args.bucketArn, args.prefix, args.kmsKeyArn, true),
      ...sources.flatMap((s, i) => readStatements(`RestoreSource${i}`, s.bucketArn, s.prefix, s.kmsKeyArn, false)),
      { Sid: "NeverDeleteOrWeaken", Effect: "Deny", Action: WRITER_DENIED_ACTIONS, Resource: [args.bucketArn, `${args.bucketArn}/*`, ...sources.flatMap((s) => [s.bucketArn, `${s.bucketArn}/*`])] },
    ],
  };
}

/** The bucket policy: every request that does not come over TLS is denied, for everyone. */
export function renderTlsOnlyBucketPolicy(bucketArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: ["s3:*"],
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  };
}
