/**
 * FargateAlarms: what Prometheus watches on a Docker host, as CloudWatch alarms of a Fargate app, at
 * the app's runbook thresholds where it sets them (its resolved monitoring alerts): the share of 5xx
 * answers, unhealthy targets, the backend's memory, the database's CPU and free storage. Each goes to
 * an SNS topic with the app's critical receivers (e-mail, an https webhook), as do AWS Backup's restore
 * jobs (the database's test restores among them) and backup jobs that fail (two EventBridge rules).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AppSpec } from "../../config/spec";
import { alarmTopicKeyPolicy } from "../monitoring/cloudAlarms";
import type { FargateData } from "./dataServices";
import type { FargateNetwork } from "./loadBalancer";

export const FARGATE_ALARM_DEFAULTS = {
  errorRatePercent: 5,
  memoryPercent: 90,
  cpuPercent: 80,
  /** Alarm when less than this share of the database's storage is free. */
  freeStoragePercent: 10,
  minutes: 5,
} as const;

/**
 * The share of 5xx answers: a minute without any 5xx of one kind has no datapoint of that metric,
 * and metric math adds time series only where both have one, so each count is filled with 0; a
 * minute without requests has no rate (missing data, not breaching).
 */
export const ERROR_RATE_EXPRESSION = "IF(requests > 0, 100 * (FILL(errors, 0) + FILL(elb_errors, 0)) / requests, 0)";

export interface FargateAlarmsArgs {
  readonly app: AppSpec & { readonly fargate: { readonly database: { readonly storageGb: number } } };
  readonly network: FargateNetwork;
  readonly data: FargateData;
  readonly cluster: aws.ecs.Cluster;
  readonly services: Readonly<Record<string, aws.ecs.Service>>;
}

export class FargateAlarms extends pulumi.ComponentResource {
  /** The customer-managed key of the topic, whose policy lets CloudWatch alarms publish to it. */
  public readonly key: aws.kms.Key;
  public readonly topic: aws.sns.Topic;
  /** Alarm resources by what they watch: `error-rate`, `unhealthy-<target>`, `backend-memory`, `db-cpu`, `db-storage`. */
  public readonly alarms: Readonly<Record<string, aws.cloudwatch.MetricAlarm>>;
  /** A restore job of AWS Backup that failed or was aborted, to the topic. */
  public readonly restoreFailed: aws.cloudwatch.EventRule;
  /** A backup job of AWS Backup that failed, was aborted or expired, to the topic. */
  public readonly backupFailed: aws.cloudwatch.EventRule;

  constructor(name: string, args: FargateAlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook:fargate:FargateAlarms", name, {}, opts);
    const { app } = args;
    const child = { parent: this };
    const tags = { "runbook.app": app.id, "runbook.environment": app.environment };
    const alerts = app.monitoring?.alerts ?? {};
    // Encrypted with a key of its own: CloudWatch alarms cannot publish to a topic under the AWS-managed
    // alias/aws/sns key (its policy, which nobody can change, grants CloudWatch nothing), and an alarm
    // action that fails is only a line in the alarm's history, so every notification would be lost.
    const account = args.cluster.arn.apply((arn) => arn.split(":").slice(1, 5) as [string, string, string, string]);
    this.key = new aws.kms.Key(
      `${name}-topic-key`,
      {
        description: `${app.id}: the alarm topic's messages at rest`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: account.apply(([partition, , , id]) => alarmTopicKeyPolicy(partition, id, { events: true })),
        tags,
      },
      child,
    );
    this.topic = new aws.sns.Topic(`${name}-topic`, { kmsMasterKeyId: this.key.arn, tags }, child);
    const critical = app.monitoring?.receivers.critical;
    const endpoints = [
      ...(critical?.email ?? "").split(",").map((a) => a.trim()).filter(Boolean).map((endpoint) => ({ protocol: "email", endpoint })),
      ...(critical?.webhookUrl?.startsWith("https://") ? [{ protocol: "https", endpoint: critical.webhookUrl }] : []),
    ];
    endpoints.forEach((s, i) => new aws.sns.TopicSubscription(`${name}-subscription-${i}`, { topic: this.topic.arn, protocol: s.protocol, endpoint: pulumi.secret(s.endpoint) }, child));
    const actions = { alarmActions: [this.topic.arn], okActions: [this.topic.arn] };
    const minutes = (signal: keyof typeof alerts) => alerts[signal]?.forMinutes ?? FARGATE_ALARM_DEFAULTS.minutes;
    const alarms: Record<string, aws.cloudwatch.MetricAlarm> = {};
    const lb = args.network.loadBalancer.arnSuffix;

    const errorRate = alerts.errorRate?.threshold ?? FARGATE_ALARM_DEFAULTS.errorRatePercent;
    alarms["error-rate"] = new aws.cloudwatch.MetricAlarm(
      `${name}-error-rate`,
      {
        alarmDescription: `${app.id}: more than ${errorRate}% of requests answered with a 5xx for ${minutes("errorRate")} minutes.`,
        comparisonOperator: "GreaterThanThreshold",
        threshold: errorRate,
        evaluationPeriods: minutes("errorRate"),
        treatMissingData: "notBreaching",
        metricQueries: [
          { id: "rate", expression: ERROR_RATE_EXPRESSION, label: "5xx percent", returnData: true },
          { id: "errors", metric: { namespace: "AWS/ApplicationELB", metricName: "HTTPCode_Target_5XX_Count", dimensions: { LoadBalancer: lb }, stat: "Sum", period: 60 } },
          { id: "elb_errors", metric: { namespace: "AWS/ApplicationELB", metricName: "HTTPCode_ELB_5XX_Count", dimensions: { LoadBalancer: lb }, stat: "Sum", period: 60 } },
          { id: "requests", metric: { namespace: "AWS/ApplicationELB", metricName: "RequestCount", dimensions: { LoadBalancer: lb }, stat: "Sum", period: 60 } },
        ],
        ...actions,
        tags,
      },
      child,
    );
    for (const [target, group] of Object.entries(args.network.targetGroups)) {
      alarms[`unhealthy-${target}`] = new aws.cloudwatch.MetricAlarm(
        `${name}-unhealthy-${target}`,
        {
          alarmDescription: `${app.id}: a ${target} task fails the load balancer's health check on its health path.`,
          namespace: "AWS/ApplicationELB",
          metricName: "UnHealthyHostCount",
          dimensions: { LoadBalancer: lb, TargetGroup: group!.arnSuffix },
          statistic: "Maximum",
          period: 60,
          evaluationPeriods: FARGATE_ALARM_DEFAULTS.minutes,
          threshold: 0,
          comparisonOperator: "GreaterThanThreshold",
          ...actions,
          tags,
        },
        child,
      );
    }
    const memory = alerts.memory?.threshold ?? FARGATE_ALARM_DEFAULTS.memoryPercent;
    alarms["backend-memory"] = new aws.cloudwatch.MetricAlarm(
      `${name}-backend-memory`,
      {
        alarmDescription: `${app.id}: the backend's memory is above ${memory}% of its tasks' memory.`,
        namespace: "AWS/ECS",
        metricName: "MemoryUtilization",
        dimensions: { ClusterName: args.cluster.name, ServiceName: args.services["backend"]!.name },
        statistic: "Average",
        period: 60,
        evaluationPeriods: minutes("memory"),
        threshold: memory,
        comparisonOperator: "GreaterThanThreshold",
        ...actions,
        tags,
      },
      child,
    );
    const cpu = alerts.cpu?.threshold ?? FARGATE_ALARM_DEFAULTS.cpuPercent;
    alarms["db-cpu"] = new aws.cloudwatch.MetricAlarm(
      `${name}-db-cpu`,
      {
        alarmDescription: `${app.id}: the database's CPU is above ${cpu}%.`,
        namespace: "AWS/RDS",
        metricName: "CPUUtilization",
        dimensions: { DBInstanceIdentifier: args.data.database.identifier },
        statistic: "Average",
        period: 60,
        evaluationPeriods: minutes("cpu"),
        threshold: cpu,
        comparisonOperator: "GreaterThanThreshold",
        ...actions,
        tags,
      },
      child,
    );
    const freeBytes = Math.round((app.fargate.database.storageGb * 1024 ** 3 * FARGATE_ALARM_DEFAULTS.freeStoragePercent) / 100);
    alarms["db-storage"] = new aws.cloudwatch.MetricAlarm(
      `${name}-db-storage`,
      {
        alarmDescription: `${app.id}: the database has less than ${FARGATE_ALARM_DEFAULTS.freeStoragePercent}% of its ${app.fargate.database.storageGb} GiB free.`,
        namespace: "AWS/RDS",
        metricName: "FreeStorageSpace",
        dimensions: { DBInstanceIdentifier: args.data.database.identifier },
        statistic: "Minimum",
        period: 300,
        evaluationPeriods: 1,
        threshold: freeBytes,
        comparisonOperator: "LessThanThreshold",
        ...actions,
        tags,
      },
      child,
    );
    this.alarms = alarms;
    ({ restoreFailed: this.restoreFailed, backupFailed: this.backupFailed } = backupJobRules(name, this.topic, account, tags, this));
    this.registerOutputs({ topicArn: this.topic.arn });
  }
}

/**
 * AWS Backup's job events to the topic: a restore job that failed or was aborted (the test restores of
 * restoreTesting.ts, and any other restore job of the account and region: a person's restore that failed
 * is as much news), and a backup job that failed, was aborted or expired before it ran (the snapshots the
 * plan takes; a plan whose backups stop would otherwise leave the restore test nothing to restore, and no
 * job to fail). Restore job events spell their state `status`, backup job events `state`, as the API does
 * (DescribeRestoreJob `Status`, DescribeBackupJob `State`). The topic's policy lets these rules publish,
 * and the account's CloudWatch alarms as before; the account keeps the owner's rights.
 */
export const RESTORE_FAILED_PATTERN = {
  source: ["aws.backup"],
  "detail-type": ["Restore Job State Change"],
  detail: { status: ["FAILED", "ABORTED"] },
} as const;

export const BACKUP_FAILED_PATTERN = {
  source: ["aws.backup"],
  "detail-type": ["Backup Job State Change"],
  detail: { state: ["FAILED", "ABORTED", "EXPIRED"] },
} as const;

function backupJobRules(name: string, topic: aws.sns.Topic, account: pulumi.Output<[string, string, string, string]>, tags: Record<string, string>, parent: pulumi.Resource): { restoreFailed: aws.cloudwatch.EventRule; backupFailed: aws.cloudwatch.EventRule } {
  const child = { parent };
  const restoreFailed = new aws.cloudwatch.EventRule(
    `${name}-restore-failed`,
    { description: "A restore job of AWS Backup (the scheduled test restores among them) failed or was aborted.", eventPattern: JSON.stringify(RESTORE_FAILED_PATTERN), tags },
    child,
  );
  const backupFailed = new aws.cloudwatch.EventRule(
    `${name}-backup-failed`,
    { description: "A backup job of AWS Backup (the database's scheduled snapshots among them) failed, was aborted or expired before it ran.", eventPattern: JSON.stringify(BACKUP_FAILED_PATTERN), tags },
    child,
  );
  new aws.sns.TopicPolicy(
    `${name}-topic-policy`,
    {
      arn: topic.arn,
      policy: pulumi.all([topic.arn, restoreFailed.arn, backupFailed.arn, account]).apply(([topicArn, restoreArn, backupArn, [partition, , region, id]]) =>
        JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Sid: "AccountOwns", Effect: "Allow", Principal: { AWS: `arn:${partition}:iam::${id}:root` }, Action: ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:ListSubscriptionsByTopic"], Resource: topicArn },
            // SNS's default policy admitted only the account's own sources; the service principal alone would
            // admit every account's alarms (re:Post "cloudwatch-receive-sns-for-alarm-trigger": aws:SourceArn).
            { Sid: "CloudWatchAlarmsPublish", Effect: "Allow", Principal: { Service: "cloudwatch.amazonaws.com" }, Action: "sns:Publish", Resource: topicArn, Condition: { ArnLike: { "aws:SourceArn": `arn:${partition}:cloudwatch:${region}:${id}:alarm:*` } } },
            { Sid: "BackupJobRulesPublish", Effect: "Allow", Principal: { Service: "events.amazonaws.com" }, Action: "sns:Publish", Resource: topicArn, Condition: { ArnEquals: { "aws:SourceArn": [restoreArn, backupArn] } } },
          ],
        }),
      ),
    },
    child,
  );
  new aws.cloudwatch.EventTarget(`${name}-restore-failed-target`, { rule: restoreFailed.name, arn: topic.arn }, child);
  new aws.cloudwatch.EventTarget(`${name}-backup-failed-target`, { rule: backupFailed.name, arn: topic.arn }, child);
  return { restoreFailed, backupFailed };
}
