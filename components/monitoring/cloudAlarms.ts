/**
 * CloudAlarms: for an app on an AWS instance, the alarms the cloud sees when the host itself is in
 * trouble (and so Prometheus on it may be too): the instance's status check failing, and CPU above
 * the app's threshold, both to an SNS topic with the configured subscriptions. Made only for AWS
 * hosts; an existing host reached over ssh has no instance to watch.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface CloudAlarmsArgs {
  /** Catalog id of the app, for names and descriptions. */
  readonly app: string;
  /** The EC2 instance the app runs on. */
  readonly instanceId: pulumi.Input<string>;
  /** Its ARN: the account and partition of the topic key's policy. */
  readonly instanceArn: pulumi.Input<string>;
  /** CPU alarm threshold, percent (the app's runbook threshold; DEFAULTS.cpuPercent where it sets none). */
  readonly cpuPercent?: number;
  /** Who is told: e-mail addresses and https endpoints. Secrets: they reach the state only as such. */
  readonly subscriptions?: readonly { readonly protocol: "email" | "https"; readonly endpoint: string }[];
}

export const CLOUD_ALARM_DEFAULTS = {
  /** The Handwork runbook's "CPU usage > 80%", for apps whose runbook sets no CPU threshold. */
  cpuPercent: 80,
  /** Minutes the status check must fail before the alarm (two one-minute periods). */
  statusCheckMinutes: 2,
  /** Minutes CPU must stay high (one five-minute period, the basic monitoring resolution). */
  cpuMinutes: 5,
} as const;

/**
 * An alarm topic's key policy: the account administers it; CloudWatch alarms (and, where `events` is set,
 * EventBridge rules) may encrypt and decrypt with it to publish.
 */
export function alarmTopicKeyPolicy(partition: string, account: string, opts: { readonly events?: boolean } = {}): string {
  if (!/^aws[a-z-]*$/.test(partition) || !/^\d{12}$/.test(account)) throw new Error(`not an AWS partition and account: ${partition} ${account}`);
  const publish = ["kms:Decrypt", "kms:GenerateDataKey*"];
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Sid: "AccountAdministers", Effect: "Allow", Principal: { AWS: `arn:${partition}:iam::${account}:root` }, Action: "kms:*", Resource: "*" },
      { Sid: "CloudWatchAlarmsPublish", Effect: "Allow", Principal: { Service: "cloudwatch.amazonaws.com" }, Action: publish, Resource: "*" },
      ...(opts.events ? [{ Sid: "EventBridgeRulesPublish", Effect: "Allow", Principal: { Service: "events.amazonaws.com" }, Action: publish, Resource: "*" }] : []),
    ],
  });
}

export class CloudAlarms extends pulumi.ComponentResource {
  /** The topic's customer-managed key, whose policy lets CloudWatch alarms publish. */
  public readonly key: aws.kms.Key;
  public readonly topic: aws.sns.Topic;
  public readonly subscriptions: readonly aws.sns.TopicSubscription[];
  public readonly statusCheck: aws.cloudwatch.MetricAlarm;
  public readonly cpuHigh: aws.cloudwatch.MetricAlarm;

  constructor(name: string, args: CloudAlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook:monitoring:CloudAlarms", name, {}, opts);
    const cpuPercent = args.cpuPercent ?? CLOUD_ALARM_DEFAULTS.cpuPercent;
    if (!(cpuPercent > 0 && cpuPercent < 100)) throw new Error(`\`cpuPercent\` must be between 0 and 100 (got ${cpuPercent})`);
    for (const s of args.subscriptions ?? []) {
      if (s.protocol === "https" && !s.endpoint.startsWith("https://")) throw new Error("`subscriptions`: an https subscription needs an https:// endpoint");
    }
    const child = { parent: this };
    const tags = { "runbook.app": args.app };
    // Encrypted under a key of its own: CloudWatch alarms cannot publish to a topic under the AWS-managed
    // alias/aws/sns key (its policy grants CloudWatch nothing), and a failed alarm action is only a line
    // in the alarm's history. The account and partition come from the instance's ARN.
    const account = pulumi.output(args.instanceArn).apply((arn) => arn.split(":") as string[]);
    this.key = new aws.kms.Key(
      `${name}-topic-key`,
      {
        description: `${args.app}: the host alarm topic's messages at rest`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: account.apply((parts) => alarmTopicKeyPolicy(parts[1]!, parts[4]!)),
        tags,
      },
      child,
    );
    this.topic = new aws.sns.Topic(`${name}-topic`, { kmsMasterKeyId: this.key.arn, tags }, child);
    this.subscriptions = (args.subscriptions ?? []).map(
      (s, i) => new aws.sns.TopicSubscription(`${name}-subscription-${i}`, { topic: this.topic.arn, protocol: s.protocol, endpoint: pulumi.secret(s.endpoint) }, child),
    );
    const actions = { alarmActions: [this.topic.arn], okActions: [this.topic.arn] };
    this.statusCheck = new aws.cloudwatch.MetricAlarm(
      `${name}-status-check`,
      {
        alarmDescription: `${args.app}: the host's EC2 status check fails (instance or system). Prometheus on it may be down too.`,
        namespace: "AWS/EC2",
        metricName: "StatusCheckFailed",
        dimensions: { InstanceId: args.instanceId },
        statistic: "Maximum",
        period: 60,
        evaluationPeriods: CLOUD_ALARM_DEFAULTS.statusCheckMinutes,
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        // No data from a running instance is itself a failure.
        treatMissingData: "breaching",
        ...actions,
        tags,
      },
      child,
    );
    this.cpuHigh = new aws.cloudwatch.MetricAlarm(
      `${name}-cpu-high`,
      {
        alarmDescription: `${args.app}: the host's CPU is above ${cpuPercent}%.`,
        namespace: "AWS/EC2",
        metricName: "CPUUtilization",
        dimensions: { InstanceId: args.instanceId },
        statistic: "Average",
        period: CLOUD_ALARM_DEFAULTS.cpuMinutes * 60,
        evaluationPeriods: 1,
        threshold: cpuPercent,
        comparisonOperator: "GreaterThanThreshold",
        treatMissingData: "missing",
        ...actions,
        tags,
      },
      child,
    );
    this.registerOutputs({ topicArn: this.topic.arn });
  }
}
