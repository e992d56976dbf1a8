/**
 * The Fargate app's alarms as CloudWatch runs them: the topic they publish to must be encrypted
 * under a key whose policy lets CloudWatch alarms use it (with the AWS-managed alias/aws/sns key an
 * alarm's action fails: "CloudWatch Alarms does not have authorization to access the SNS topic
 * encryption key"), and the 5xx share must count target 5xx in minutes without load balancer 5xx.
 * The backups proved by restoring them: AWS Backup restore testing of the database's newest snapshot
 * on the app's verification schedule, into the app's private subnets, a failure to the same topic.
 */
import type * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { ERROR_RATE_EXPRESSION } from "../../components/fargate/alarms";
import { awsBackupCron } from "../../components/fargate/awsCron";
import { RESTORE_ROLE_POLICY, restoreTestingName, selectionWindowDays } from "../../components/fargate/restoreTesting";
import { PROJECT } from "../../config/defaults";
import { parseStackConfig } from "../../config/resolve";
import { deployStack } from "../../program";
import { runUnderMocks, MOCK_AWS, type PlannedResource } from "../../plan/mockRuntime";
import { inputs, keptRandomPasswords, named } from "../helpers";
import { withFargate } from "./fixtures";

let resources: readonly PlannedResource[] = [];
/** The options each resource was declared with, as the engine receives them (replaceOnChanges is not in PlannedResource). */
const declared = new Map<string, pulumi.CustomResourceOptions>();

beforeAll(async () => {
  const kept = keptRandomPasswords();
  const raw = withFargate("prod", "lms") as unknown as { apps: Record<string, Record<string, unknown>> };
  raw.apps["lms"]!["backups"] = { ...(raw.apps["lms"]!["backups"] as object), verifySchedule: "30 4 * * 0" };
  const spec = parseStackConfig(raw as never, PROJECT, { now: Date.UTC(2026, 10, 26) });
  const capture: pulumi.ResourceTransformation = (args) => {
    declared.set(args.name, args.opts);
    return undefined;
  };
  resources = (await runUnderMocks(spec, "prod", (s) => deployStack(s, { transformations: [capture] }), { mocks: kept.mocks })).resources;
}, 240_000);

describe("the Fargate app's alarms", () => {
  it("publish to a topic under a customer-managed, rotated key whose policy lets CloudWatch alarms encrypt with it", () => {
    const topic = named(resources, "lms-alarms-topic");
    const key = named(resources, "lms-alarms-topic-key");
    expect(key.type).toBe("aws:kms/key:Key");
    expect(inputs(topic)["kmsMasterKeyId"]).toMatch(/^arn:aws:kms:/);
    expect(topic.dependencies).toContain(key.urn);
    expect(inputs(key)["enableKeyRotation"]).toBe(true);
    const policy = JSON.parse(String(inputs(key)["policy"])) as { Statement: { Principal: Record<string, string>; Action: string | string[] }[] };
    expect(policy.Statement).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Principal: { AWS: `arn:aws:iam::${MOCK_AWS.account}:root` }, Action: "kms:*" }),
        expect.objectContaining({ Principal: { Service: "cloudwatch.amazonaws.com" }, Action: ["kms:Decrypt", "kms:GenerateDataKey*"] }),
      ]),
    );
  });

  it("fill each 5xx count with 0 in the share's expression, so a minute of target 5xx without load balancer 5xx is not dropped (CloudWatch itself not run)", () => {
    const alarm = inputs(named(resources, "lms-alarms-error-rate"));
    const rate = (alarm["metricQueries"] as { id: string; expression?: string }[]).find((q) => q.id === "rate")!;
    expect(rate.expression).toBe(ERROR_RATE_EXPRESSION);
    expect(rate.expression).toContain("FILL(errors, 0)");
    expect(rate.expression).toContain("FILL(elb_errors, 0)");
  });
});

describe("the Fargate app's backups, proved by restoring them (AWS Backup itself not run)", () => {
  it("restore the newest snapshot of the app's vault on the verification schedule, Sunday 04:30 UTC as AWS numbers the days", () => {
    const plan = inputs(named(resources, "lms-restore-test"));
    expect(plan["scheduleExpression"]).toBe("cron(30 4 ? * 1 *)");
    expect(plan["scheduleExpressionTimezone"]).toBe("Etc/UTC");
    expect(plan["name"]).toBe("lms_prod_restore_test");
    const selectionOfPoints = plan["recoveryPointSelection"] as { algorithm: string; includeVaults: string[]; recoveryPointTypes: string[] };
    expect(selectionOfPoints.algorithm).toBe("LATEST_WITHIN_WINDOW");
    expect(selectionOfPoints.recoveryPointTypes).toEqual(["SNAPSHOT"]);
    expect((selectionOfPoints as { selectionWindowDays?: number }).selectionWindowDays).toBe(7);
    expect(selectionOfPoints.includeVaults).toEqual([expect.stringMatching(/^arn:aws:backup:[a-z0-9-]+:\d{12}:backup-vault:lms-vault-/)]);
    expect(named(resources, "lms-restore-test").dependencies).toContain(named(resources, "lms-vault").urn);
  });

  it("restore the app's database into its own subnet group behind its data security group, with a role only AWS Backup assumes", () => {
    const selection = named(resources, "lms-restore-test-selection");
    const args = inputs(selection);
    expect(args["protectedResourceType"]).toBe("RDS");
    expect(args["restoreTestingPlanName"]).toBe("lms_prod_restore_test");
    for (const dependency of ["lms-db", "lms-restore-test", "lms-db-subnets", "lms-data-sg", "lms-restore-test-role-policy"]) {
      expect(selection.dependencies, dependency).toContain(named(resources, dependency).urn);
    }
    const overrides = args["restoreMetadataOverrides"] as Record<string, string>;
    expect(overrides["dbSubnetGroupName"]).toMatch(/^lms-db-subnets-[0-9a-f]+$/);
    expect(JSON.parse(overrides["vpcSecurityGroupIds"]!)).toEqual([expect.stringMatching(/^sg-[0-9a-f]+$/)]);
    // The very subnet group and security group the app's database has, not merely ones named alike.
    const db = inputs(named(resources, "lms-db"));
    expect(overrides["dbSubnetGroupName"]).toBe(db["dbSubnetGroupName"]);
    expect(JSON.parse(overrides["vpcSecurityGroupIds"]!)).toEqual(db["vpcSecurityGroupIds"]);
    expect(args["protectedResourceArns"]).toEqual([expect.stringMatching(/^arn:aws:rds:[a-z0-9-]+:\d{12}:db:lms-prod-/)]);
    const role = inputs(named(resources, "lms-restore-test-role"));
    expect(JSON.parse(String(role["assumeRolePolicy"])).Statement).toEqual([{ Effect: "Allow", Principal: { Service: "backup.amazonaws.com" }, Action: "sts:AssumeRole" }]);
    expect(inputs(named(resources, "lms-restore-test-role-policy"))["policyArn"]).toBe(RESTORE_ROLE_POLICY);
  });

  it.each([
    ["0 2 * * *", 7],
    ["0 * * * *", 7],
    ["0 2 * * 0", 8],
    ["0 3 1 * *", 32],
    ["0 3 1 1,7 *", 185],
  ])("look for the newest snapshot far enough back that the backup schedule %s always has one there: %i days", (schedule, days) => {
    // LATEST_WITHIN_WINDOW restores nothing when no recovery point is that recent: a monthly backup with a
    // 7-day window would go untested three weeks of four, and no restore job means no failure event either.
    expect(selectionWindowDays(schedule)).toBe(days);
  });

  it("follow a replaced database: a new ARN replaces the selection (the provider's update would not send it), the old one deleted first (its name stays)", () => {
    // terraform-provider-aws internal/service/backup/restore_testing_selection.go, Update: UpdateRestoreTestingSelection
    // is called only when iam_role_arn, protected_resource_conditions, restore_metadata_overrides or
    // validation_window_hours differ, yet the new protected_resource_arns is written to the state.
    const opts = declared.get("lms-restore-test-selection")!;
    expect(opts.replaceOnChanges).toEqual(["protectedResourceArns"]);
    expect(opts.deleteBeforeReplace).toBe(true);
    expect(named(resources, "lms-restore-test-selection").options.deleteBeforeReplace).toBe(true);
  });

  it("send a restore job that failed or was aborted to the alarm topic, which lets only these rules' events in and whose key lets EventBridge encrypt", () => {
    const rule = named(resources, "lms-alarms-restore-failed");
    expect(JSON.parse(String(inputs(rule)["eventPattern"]))).toEqual({ source: ["aws.backup"], "detail-type": ["Restore Job State Change"], detail: { status: ["FAILED", "ABORTED"] } });
    const target = inputs(named(resources, "lms-alarms-restore-failed-target"));
    expect(target["arn"]).toBe("arn:aws:sns:eu-west-1:123456789012:lms-alarms-topic");
    const topicPolicy = JSON.parse(String(inputs(named(resources, "lms-alarms-topic-policy"))["policy"])) as { Statement: { Sid: string; Principal: unknown; Condition?: unknown }[] };
    const fromRule = topicPolicy.Statement.find((s) => s.Sid === "BackupJobRulesPublish")!;
    expect(fromRule.Principal).toEqual({ Service: "events.amazonaws.com" });
    expect(fromRule.Condition).toEqual({
      ArnEquals: { "aws:SourceArn": [expect.stringMatching(/^arn:aws:events:[a-z0-9-]+:\d{12}:rule\/lms-alarms-restore-failed-/), expect.stringMatching(/^arn:aws:events:[a-z0-9-]+:\d{12}:rule\/lms-alarms-backup-failed-/)] },
    });
    // CloudWatch alarms still publish: the topic policy replaces the default one.
    expect(topicPolicy.Statement.map((s) => s.Principal)).toEqual(expect.arrayContaining([{ Service: "cloudwatch.amazonaws.com" }]));
    const key = JSON.parse(String(inputs(named(resources, "lms-alarms-topic-key"))["policy"])) as { Statement: { Principal: unknown; Action: unknown }[] };
    expect(key.Statement).toEqual(expect.arrayContaining([expect.objectContaining({ Principal: { Service: "events.amazonaws.com" }, Action: ["kms:Decrypt", "kms:GenerateDataKey*"] })]));
  });

  it("let only this account's CloudWatch alarms publish, as SNS's default policy did (a service principal without a condition would admit any account's alarms)", () => {
    const topicPolicy = JSON.parse(String(inputs(named(resources, "lms-alarms-topic-policy"))["policy"])) as { Statement: { Sid: string; Principal: unknown; Condition?: unknown }[] };
    const fromAlarms = topicPolicy.Statement.filter((s) => JSON.stringify(s.Principal).includes("cloudwatch.amazonaws.com"));
    expect(fromAlarms).toHaveLength(1);
    expect(fromAlarms[0]!.Condition).toEqual({ ArnLike: { "aws:SourceArn": `arn:aws:cloudwatch:${MOCK_AWS.region}:${MOCK_AWS.account}:alarm:*` } });
  });

  it("send a backup job that failed, was aborted or expired to the same topic: a plan whose snapshots stop leaves the restore test nothing to fail on", () => {
    const rule = named(resources, "lms-alarms-backup-failed");
    // Backup job events spell it `state` (restore job events `status`), as DescribeBackupJob does.
    expect(JSON.parse(String(inputs(rule)["eventPattern"]))).toEqual({ source: ["aws.backup"], "detail-type": ["Backup Job State Change"], detail: { state: ["FAILED", "ABORTED", "EXPIRED"] } });
    expect(inputs(named(resources, "lms-alarms-backup-failed-target"))["arn"]).toBe("arn:aws:sns:eu-west-1:123456789012:lms-alarms-topic");
  });

  it("names each stack's plan apart (names are unique in an account and region), in the characters and length AWS takes", () => {
    expect(restoreTestingName("lms", "prod")).toBe("lms_prod_restore_test");
    expect(restoreTestingName("lms", "prod-recovery")).toBe("lms_prod_recovery_restore_test");
    expect(restoreTestingName("reference", "organization-wide-disaster-recovery-drill")).toMatch(/^[A-Za-z0-9_]{1,50}$/);
  });

  it.each([
    ["30 5 * * *", "cron(30 5 * * ? *)"],
    ["0 4 * * 0", "cron(0 4 ? * 1 *)"],
    ["0 4 * * 7", "cron(0 4 ? * 1 *)"],
    ["0 4 * * 1-5", "cron(0 4 ? * 2-6 *)"],
    ["0 4 * * 5-7", "cron(0 4 ? * 6-7,1 *)"],
    ["0 4 * * 0,3", "cron(0 4 ? * 1,4 *)"],
    ["0 4 * * MON-FRI", "cron(0 4 ? * 2-6 *)"],
    ["0 4 * * MON-5", "cron(0 4 ? * 2-6 *)"],
    ["0 4 * * 6-7", "cron(0 4 ? * 7,1 *)"],
    ["0 4 * * sun,5L", "cron(0 4 ? * 1,6L *)"],
    ["0 3 1 * *", "cron(0 3 1 * ? *)"],
  ])("writes the cron %s as AWS Backup's %s", (cron, aws) => {
    expect(awsBackupCron(cron)).toBe(aws);
  });

  it("refuses what AWS Backup's cron cannot say, naming the key", () => {
    expect(() => awsBackupCron("0 4 * * */2", "backups.verifySchedule")).toThrow(/`backups.verifySchedule` "0 4 \* \* \*\/2": AWS Backup takes no step/);
    expect(() => awsBackupCron("0 4 1 * 1", "backups.verifySchedule")).toThrow(/sets both the day of the month and the day of the week/);
    expect(() => awsBackupCron("0 4 * *")).toThrow(/`backups.schedule` "0 4 \* \*": must have five cron fields/);
  });
});
