/**
 * The deploy steps of a Fargate app as POSIX sh scripts for the machine running `pulumi up`, which
 * has the AWS CLI and the same credentials as the AWS provider:
 *  - renderOneOffTaskScript: a one-off task (migrations, the release task) run with the release's
 *    task definition, before any service moves to it. It waits for the task to stop and fails
 *    `pulumi up` unless the container exited 0, naming the task, its exit code or stop reason, and
 *    its log stream;
 *  - renderSnapshotScript: the pre-deploy backup, an RDS snapshot taken before the migrations and
 *    waited for until it is available.
 * Values come in as environment variables (the command's `environment`), never spliced into code.
 */

export interface OneOffTaskScriptSpec {
  /** What runs, for messages: `migrations`, `release task`. */
  readonly what: string;
  /** The container in the task definition whose exit code decides. */
  readonly container: string;
  /** The CloudWatch Logs group and stream prefix of the task (for the message on failure). */
  readonly logGroup: string;
  readonly streamPrefix: string;
  /** Seconds to wait for the task to stop before stopping it and failing. */
  readonly timeoutSeconds: number;
  /** Seconds between two polls of the task's state. */
  readonly pollSeconds: number;
}

const WORD = /^[A-Za-z0-9_./-]+$/;

function checkSpec(spec: OneOffTaskScriptSpec): void {
  for (const [key, value] of [["container", spec.container], ["logGroup", spec.logGroup], ["streamPrefix", spec.streamPrefix]] as const) {
    if (!WORD.test(value)) throw new Error(`\`${key}\` ${JSON.stringify(value)} must be letters, digits and ._/-`);
  }
  if (!/^[a-z ]+$/.test(spec.what)) throw new Error("`what` must be lowercase words");
  if (!Number.isInteger(spec.timeoutSeconds) || spec.timeoutSeconds < 1) throw new Error("`timeoutSeconds` must be a whole number of at least 1");
  if (!Number.isInteger(spec.pollSeconds) || spec.pollSeconds < 1 || spec.pollSeconds > spec.timeoutSeconds) throw new Error("`pollSeconds` must be a whole number from 1 to timeoutSeconds");
}

/** The region of an ARN (its fourth field), which every `aws` call of the scripts is given. */
const REGION_OF_CLUSTER = 'region=$(printf %s "$CLUSTER" | cut -d: -f4)';

/**
 * Runs one task of TASK_DEFINITION on CLUSTER (Fargate, in SUBNETS with SECURITY_GROUP, no public
 * address) and waits for it. Environment: CLUSTER (ARN), TASK_DEFINITION (ARN), SUBNETS (comma-separated
 * ids), SECURITY_GROUP (id).
 */
export function renderOneOffTaskScript(spec: OneOffTaskScriptSpec): string {
  checkSpec(spec);
  return [
    "#!/bin/sh",
    `# One-off task of a Fargate release (${spec.what}): rendered by runbook-as-code, do not edit by hand.`,
    "set -eu",
    ': "${CLUSTER:?}" "${TASK_DEFINITION:?}" "${SUBNETS:?}" "${SECURITY_GROUP:?}"',
    REGION_OF_CLUSTER,
    `network="awsvpcConfiguration={subnets=[$SUBNETS],securityGroups=[$SECURITY_GROUP],assignPublicIp=DISABLED}"`,
    'started=$(aws ecs run-task --region "$region" --cluster "$CLUSTER" --task-definition "$TASK_DEFINITION" \\',
    '  --launch-type FARGATE --count 1 --started-by runbook-deploy --network-configuration "$network" \\',
    "  --query '[tasks[0].taskArn, failures[0].reason]' --output text)",
    'task=$(printf %s "$started" | cut -f1)',
    'case "$task" in',
    "  arn:*) ;;",
    `  *) echo "${spec.what}: ECS started no task ($(printf %s "$started" | cut -f2)); nothing ran, the release stops here" >&2; exit 1 ;;`,
    "esac",
    'task_id=${task##*/}',
    `echo "${spec.what}: task $task_id started"`,
    `deadline=$(( $(date +%s) + ${spec.timeoutSeconds} ))`,
    "while :; do",
    "  # A failed poll (throttling, a dropped connection) is not the task's end: poll again until the deadline.",
    `  status=$(aws ecs describe-tasks --region "$region" --cluster "$CLUSTER" --tasks "$task" --query 'tasks[0].lastStatus' --output text) || status=UNKNOWN`,
    '  [ "$status" = STOPPED ] && break',
    '  if [ "$(date +%s)" -ge "$deadline" ]; then',
    `    aws ecs stop-task --region "$region" --cluster "$CLUSTER" --task "$task" --reason "runbook-deploy: ${spec.what} ran past ${spec.timeoutSeconds} s" >/dev/null || true`,
    `    echo "${spec.what}: task $task_id still $status after ${spec.timeoutSeconds} s; stopped it, the release stops here" >&2`,
    "    exit 1",
    "  fi",
    `  sleep ${spec.pollSeconds}`,
    "done",
    `result=$(aws ecs describe-tasks --region "$region" --cluster "$CLUSTER" --tasks "$task" \\`,
    `  --query "[tasks[0].containers[?name=='${spec.container}'].exitCode | [0], tasks[0].stoppedReason]" --output text)`,
    'code=$(printf %s "$result" | cut -f1)',
    'reason=$(printf %s "$result" | cut -f2)',
    'if [ "$code" = 0 ]; then',
    `  echo "${spec.what}: task $task_id exited 0"`,
    "  exit 0",
    "fi",
    'case "$code" in None | "") ended="stopped without an exit code" ;; *) ended="exited $code" ;; esac',
    `echo "${spec.what}: task $task_id $ended ($reason); its output: aws logs tail ${spec.logGroup} --log-stream-names ${spec.streamPrefix}/${spec.container}/$task_id; the services still run the previous release" >&2`,
    "exit 1",
    "",
  ].join("\n");
}

/** Pre-deploy snapshots kept per instance: the newest, one per release, as the release record keeps five. */
export const PRE_DEPLOY_SNAPSHOTS_KEPT = 5;

/**
 * The pre-deploy backup of a Fargate app: a manual RDS snapshot of DB_INSTANCE named
 * `<SNAPSHOT_PREFIX>-<UTC time>`, waited for until available. Manual snapshots outlive the instance and
 * its automated backups. It first waits for the instance to be available (RDS refuses a snapshot
 * while the instance is backing up or being modified), and afterwards deletes this prefix's snapshots
 * beyond the newest `kept`. Environment: DB_INSTANCE (identifier), DB_ARN (for the region),
 * SNAPSHOT_PREFIX. Prints the snapshot's identifier (the step's stdout: what to restore to undo the release).
 */
export function renderSnapshotScript(kept: number = PRE_DEPLOY_SNAPSHOTS_KEPT): string {
  if (!Number.isInteger(kept) || kept < 1) throw new Error("`kept` must be a whole number of at least 1");
  return [
    "#!/bin/sh",
    "# Pre-deploy RDS snapshot of a Fargate release: rendered by runbook-as-code, do not edit by hand.",
    "set -eu",
    ': "${DB_INSTANCE:?}" "${DB_ARN:?}" "${SNAPSHOT_PREFIX:?}"',
    'region=$(printf %s "$DB_ARN" | cut -d: -f4)',
    "# `wait` polls every 30 s, 60 times: an instance busy for 30 minutes fails the release before anything changed.",
    'if ! aws rds wait db-instance-available --region "$region" --db-instance-identifier "$DB_INSTANCE"; then',
    '  echo "pre-deploy backup: $DB_INSTANCE is not available for a snapshot; the release stops before its migrations" >&2',
    "  exit 1",
    "fi",
    'snapshot="$SNAPSHOT_PREFIX-$(date -u +%Y%m%d-%H%M%S)"',
    'aws rds create-db-snapshot --region "$region" --db-instance-identifier "$DB_INSTANCE" --db-snapshot-identifier "$snapshot" \\',
    "  --tags Key=runbook.role,Value=pre-deploy --query 'DBSnapshot.DBSnapshotIdentifier' --output text >/dev/null",
    'if ! aws rds wait db-snapshot-available --region "$region" --db-snapshot-identifier "$snapshot"; then',
    '  echo "pre-deploy backup: snapshot $snapshot of $DB_INSTANCE is not available; the release stops before its migrations" >&2',
    "  exit 1",
    "fi",
    `# Older pre-deploy snapshots of this prefix beyond the newest ${kept}; a failed deletion only warns.`,
    'old=$(aws rds describe-db-snapshots --region "$region" --db-instance-identifier "$DB_INSTANCE" --snapshot-type manual \\',
    `  --query "reverse(sort_by(DBSnapshots[?starts_with(DBSnapshotIdentifier, '$SNAPSHOT_PREFIX-')], &SnapshotCreateTime))[${kept}:].DBSnapshotIdentifier" --output text) || old=""`,
    'for id in $old; do',
    '  [ "$id" = None ] && continue',
    '  aws rds delete-db-snapshot --region "$region" --db-snapshot-identifier "$id" >/dev/null || echo "pre-deploy backup: could not delete the old snapshot $id" >&2',
    "done",
    'echo "$snapshot"',
    "",
  ].join("\n");
}

/**
 * The check before the health gate that each ECS service runs the revision this release registered:
 * a rollout the circuit breaker rolled back fails `pulumi up` once, but a second `up` would find
 * nothing to change and pass the gate on the old code (the provider keeps the failed update's state).
 * Environment: CLUSTER (ARN), and SERVICES: `<service name>=<task definition ARN>` pairs, one per line.
 */
export function renderReleaseCheckScript(): string {
  return [
    "#!/bin/sh",
    "# Release check of a Fargate release: rendered by runbook-as-code, do not edit by hand.",
    "set -eu",
    ': "${CLUSTER:?}" "${SERVICES:?}"',
    'region=$(printf %s "$CLUSTER" | cut -d: -f4)',
    "failed=0",
    "while IFS='=' read -r service expected; do",
    '  [ -n "$service" ] || continue',
    '  found=$(aws ecs describe-services --region "$region" --cluster "$CLUSTER" --services "$service" \\',
    "    --query \"[services[0].deployments[?status=='PRIMARY'].taskDefinition | [0], services[0].deployments[?status=='PRIMARY'].rolloutState | [0], services[0].deployments[?status=='PRIMARY'].rolloutStateReason | [0]]\" --output text)",
    '  running=$(printf %s "$found" | cut -f1)',
    '  state=$(printf %s "$found" | cut -f2)',
    '  reason=$(printf %s "$found" | cut -f3)',
    '  if [ "$running" != "$expected" ]; then',
    '    echo "release check: $service runs ${running##*/}, not ${expected##*/}: the rollout was rolled back ($reason); the release failed" >&2',
    "    failed=1",
    '  elif [ "$state" != COMPLETED ]; then',
    '    echo "release check: $service rollout of ${expected##*/} is $state ($reason)" >&2',
    "    failed=1",
    "  else",
    '    echo "release check: $service runs ${expected##*/}"',
    "  fi",
    "done <<EOF",
    "$SERVICES",
    "EOF",
    'exit "$failed"',
    "",
  ].join("\n");
}
