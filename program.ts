/**
 * The program: a StackSpec in, resources out. index.ts feeds it the stack's config under the
 * Pulumi CLI; the offline plan feeds it the same spec under Pulumi's mock runtime.
 */
import type * as pulumi from "@pulumi/pulumi";
import { AppSecrets, AppStack, BackupBucket, BackupJobs, recoverySource, type PreDeployState } from "./components";
import type { StackSpec } from "./config/spec";

/** What one app reports as stack outputs. Areas add their fields below the marked lines. */
export interface AppOutputs {
  endpoint: string;
  release: Readonly<Record<string, string>>;
  unsetExternalSecrets: readonly string[];

  // Backups: outputs of that area go below this line.
  /** Where the app's backups are (a recovery stack reads this through a StackReference), and the last pre-deploy backup. */
  backups: {
    bucket: pulumi.Output<string>;
    bucketArn: pulumi.Output<string>;
    prefix: string;
    kmsKeyArn: pulumi.Output<string>;
    /** `<app>/<id>/`: what `restore.sh --id <id>` takes to return to the state before the last deploy. */
    preDeployBackup: pulumi.Output<string>;
  };

  // Monitoring and alerts: outputs of that area go below this line.

  // Hosts and firewall: outputs of that area go below this line.

  // Secret rotation: outputs of that area go below this line.
}

export interface StackOutputs {
  readonly environment: string;
  readonly apps: Record<string, AppOutputs>;
}

/**
 * @param opts options given to every component (and so inherited by its children), e.g.
 *   `transformations` or `providers`.
 */
export function deployStack(spec: StackSpec, opts?: pulumi.ComponentResourceOptions): StackOutputs {
  const apps: StackOutputs["apps"] = {};
  for (const app of spec.apps) {
    // Hosts and firewall: the app's host comes first (its address is where everything else runs).

    // Secret rotation and generated secrets.
    const secrets = new AppSecrets(`${app.id}-secrets`, { app }, opts);

    // Backups: the bucket, the jobs, and the pre-deploy backup that migrations wait for.
    const beforeMigrations: pulumi.Resource[] = [];
    const source = app.backups.restoreFrom && recoverySource(`${app.id}-restore-source`, app.id, app.backups.restoreFrom, opts);
    const bucket = new BackupBucket(
      `${app.id}-backup`,
      {
        appId: app.id,
        environment: app.environment,
        cloudRetentionDays: app.backups.cloudRetentionDays,
        localRetentionDays: app.backups.localRetentionDays,
        noncurrentVersionDays: app.backups.noncurrentVersionDays,
        locked: app.backups.locked,
        ...(source && { readSource: source }),
      },
      opts,
    );
    const backups: { jobs?: BackupJobs } = {};
    const preDeploy = (state: PreDeployState) => {
      backups.jobs = new BackupJobs(`${app.id}-backups`, { app, bucket, state, ...(source && { restoreSource: source }) }, opts);
      return backups.jobs.gates;
    };

    const stack = new AppStack(app.id, { app, secrets, beforeMigrations, preDeploy }, opts);
    const outputs: AppOutputs = {
      endpoint: stack.endpoint,
      release: stack.release,
      unsetExternalSecrets: app.unsetExternalSecrets,
      backups: { bucket: bucket.bucketName, bucketArn: bucket.bucketArn, prefix: bucket.prefix, kmsKeyArn: bucket.kmsKeyArn, preDeployBackup: backups.jobs!.preDeployBackupKey },
    };

    // Monitoring and alerts: after the app, whose containers it scrapes.

    // Hosts and firewall: the firewall and the lockdown switch, after the proxy they govern.

    apps[app.id] = outputs;
  }
  return { environment: spec.environment, apps };
}
