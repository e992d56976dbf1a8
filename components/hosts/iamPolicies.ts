/** IAM documents of a host's instance role, as pure functions (JSON text, as IAM takes it). */

/** The one managed policy a host's role carries: Systems Manager's agent (Session Manager, patching). */
export const SSM_MANAGED_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore";

/** Lets EC2 (and only EC2) assume the instance role. */
export function renderAssumeRolePolicy(): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
  });
}

/**
 * A sample of what the backups area hands the Host: put and get on one prefix of one bucket, and
 * listing that prefix only. No delete, no wildcard action: a compromised host cannot erase backups.
 */
export function renderObjectWriterPolicy(bucket: string, prefix: string): string {
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new Error(`\`bucket\` must be an S3 bucket name (got ${bucket})`);
  if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*\/$/.test(prefix)) throw new Error(`\`prefix\` must be a key prefix ending in / (got ${prefix})`);
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Sid: "PutAndGetBackups", Effect: "Allow", Action: ["s3:PutObject", "s3:GetObject"], Resource: `arn:aws:s3:::${bucket}/${prefix}*` },
      { Sid: "ListBackups", Effect: "Allow", Action: "s3:ListBucket", Resource: `arn:aws:s3:::${bucket}`, Condition: { StringLike: { "s3:prefix": [`${prefix}*`] } } },
    ],
  });
}
