/**
 * Where a recovery stack restores from: the backups of another stack, found through a
 * StackReference to its outputs (`apps.<id>.backups`), or named explicitly in the stack config.
 * Declared at the program level (a StackReference is a resource of the stack, not of a component).
 */
import * as pulumi from "@pulumi/pulumi";
import type { RestoreFromSpec } from "../../config/backups";

export interface RecoverySource {
  readonly bucket: pulumi.Output<string>;
  readonly bucketArn: pulumi.Output<string>;
  readonly prefix: pulumi.Output<string>;
  readonly kmsKeyArn: pulumi.Output<string>;
  /** A backup id; undefined: the newest. */
  readonly backup?: string;
}

/** What another stack of this program exports about one app's backups (AppOutputs.backups). */
export interface ExportedBackups {
  readonly bucket: string;
  readonly bucketArn: string;
  readonly prefix: string;
  readonly kmsKeyArn: string;
}

export function recoverySource(name: string, appId: string, from: RestoreFromSpec, opts?: pulumi.CustomResourceOptions): RecoverySource {
  if (from.kind === "bucket") {
    return {
      bucket: pulumi.output(from.bucket),
      // The partition of the key's ARN (aws, aws-cn, aws-us-gov) is the bucket's.
      bucketArn: pulumi.output(`arn:${from.kmsKeyArn.split(":")[1]}:s3:::${from.bucket}`),
      prefix: pulumi.output(from.prefix),
      kmsKeyArn: pulumi.output(from.kmsKeyArn),
      ...(from.backup !== undefined && { backup: from.backup }),
    };
  }
  const ref = new pulumi.StackReference(name, { name: from.stack }, opts);
  const exported = ref.requireOutput("apps").apply((apps) => {
    const backups = (apps as Record<string, { backups?: ExportedBackups } | undefined>)[appId]?.backups;
    if (!backups?.bucket || !backups.kmsKeyArn) throw new Error(`stack ${from.stack} exports no backups of ${appId} (apps.${appId}.backups)`);
    return backups;
  });
  return {
    bucket: exported.bucket,
    bucketArn: exported.bucketArn,
    prefix: exported.prefix,
    kmsKeyArn: exported.kmsKeyArn,
    ...(from.backup !== undefined && { backup: from.backup }),
  };
}
