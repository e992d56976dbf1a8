/**
 * Backups proved by restoring them, on Fargate: what `verify.sh` does on a Docker host (restore the
 * newest backup into a scratch database and check it), as an AWS Backup restore testing plan. On the
 * app's `backups.verifySchedule`, AWS Backup restores the newest snapshot of the app's RDS instance from
 * its vault into a new instance (in the app's private subnets, behind the data security group, which
 * admits only the app's own tasks), waits until RDS reports it available, then deletes it.
 * A restore that fails or is aborted reaches the app's alarm topic (components/fargate/alarms.ts).
 *
 * What it proves is less than `verify.sh`: that the snapshot restores into a PostgreSQL instance that
 * starts; no row is counted (a validation of the restored data would be a Lambda function reporting
 * `PutRestoreValidationResult`, which is not built).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AppSpec } from "../../config/spec";
import { maxGapHours } from "../backups/schedule";
import { awsBackupCron } from "./awsCron";

/** AWS Backup's managed policy for the role it restores with (the counterpart of ...ForBackup). */
export const RESTORE_ROLE_POLICY = "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores";

export const RESTORE_TESTING = {
  /** The restore starts within this many hours of its scheduled time (AWS Backup's window, 1 to 168). */
  startWindowHours: 8,
  /** The restored instance is kept this long for a validation, then deleted (1 to 168). */
  validationWindowHours: 1,
  /**
   * The newest snapshot of the last days is restored: a backup older than this is no test of today's.
   * At least: where backups are further apart, see selectionWindowDays.
   */
  selectionWindowDays: 7,
} as const;

/**
 * How many days back the newest snapshot is looked for: a week, or the longest gap between two runs of
 * the backup schedule and a day for the backup job itself, where that is longer (AWS Backup's most: 365).
 * LATEST_WITHIN_WINDOW restores nothing when no recovery point is that recent, and no restore job means
 * no failure event: with a 7-day window a monthly backup would go untested three weeks of four.
 */
export function selectionWindowDays(backupSchedule: string): number {
  return Math.min(365, Math.max(RESTORE_TESTING.selectionWindowDays, Math.ceil(maxGapHours(backupSchedule) / 24) + 1));
}

/**
 * A restore testing plan's name: letters, digits and underscores only, at most 50 characters, and unique
 * in the account and region: the stack's name in it, so that two stacks of one app (prod and its
 * recovery stack, say) in one account both get a plan.
 */
export function restoreTestingName(appId: string, stack: string): string {
  return `${appId}_${stack}_restore_test`.replace(/[^A-Za-z0-9_]/g, "_").slice(0, 50);
}

export interface RestoreTestingArgs {
  readonly vault: aws.backup.Vault;
  readonly database: aws.rds.Instance;
  readonly subnetGroup: aws.rds.SubnetGroup;
  readonly securityGroup: aws.ec2.SecurityGroup;
  readonly tags: Readonly<Record<string, string>>;
}

export interface RestoreTesting {
  readonly plan: aws.backup.RestoreTestingPlan;
  readonly selection: aws.backup.RestoreTestingSelection;
}

export function deployRestoreTesting(name: string, app: AppSpec, args: RestoreTestingArgs, parent: pulumi.Resource): RestoreTesting {
  const child = { parent };
  const role = new aws.iam.Role(
    `${name}-restore-test-role`,
    { assumeRolePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "backup.amazonaws.com" }, Action: "sts:AssumeRole" }] }), tags: args.tags },
    child,
  );
  const attachment = new aws.iam.RolePolicyAttachment(`${name}-restore-test-role-policy`, { role: role.name, policyArn: RESTORE_ROLE_POLICY }, child);
  const planName = restoreTestingName(app.id, pulumi.getStack());
  const plan = new aws.backup.RestoreTestingPlan(
    `${name}-restore-test`,
    {
      name: planName,
      scheduleExpression: awsBackupCron(app.backups.verifySchedule, "backups.verifySchedule"),
      scheduleExpressionTimezone: "Etc/UTC",
      startWindowHours: RESTORE_TESTING.startWindowHours,
      recoveryPointSelection: {
        algorithm: "LATEST_WITHIN_WINDOW",
        includeVaults: [args.vault.arn],
        recoveryPointTypes: ["SNAPSHOT"],
        selectionWindowDays: selectionWindowDays(app.backups.schedule),
      },
      tags: args.tags,
    },
    child,
  );
  const selection = new aws.backup.RestoreTestingSelection(
    `${name}-restore-test-selection`,
    {
      name: `${planName.slice(0, 40)}_database`,
      restoreTestingPlanName: plan.name,
      protectedResourceType: "RDS",
      protectedResourceArns: [args.database.arn],
      iamRoleArn: role.arn,
      // Without them AWS Backup infers the default VPC's subnets and security group: a VPC without a
      // default one fails every test, and a default one is not where the app's data may go.
      restoreMetadataOverrides: {
        dbSubnetGroupName: args.subnetGroup.name,
        vpcSecurityGroupIds: args.securityGroup.id.apply((id) => JSON.stringify([id])),
      },
      validationWindowHours: RESTORE_TESTING.validationWindowHours,
    },
    // A replaced database has a new ARN, which the provider's update does not send (terraform-provider-aws
    // restore_testing_selection.go, Update: only the role, conditions, overrides and validation window), so
    // the selection would go on naming the deleted instance: a new ARN replaces it instead. Its name stays,
    // and AWS Backup's names are unique in a plan, so the old one goes first.
    { parent, dependsOn: [attachment], replaceOnChanges: ["protectedResourceArns"], deleteBeforeReplace: true },
  );
  return { plan, selection };
}
