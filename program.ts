/**
 * The program: a StackSpec in, resources out. index.ts feeds it the stack's config under the
 * Pulumi CLI; the offline plan feeds it the same spec under Pulumi's mock runtime.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  AppSecrets,
  AppStack,
  BackupBucket,
  BackupJobs,
  DatabaseOwnerLock,
  DatabaseRoles,
  LogCollector,
  RecoveryReport,
  Monitoring,
  ReleaseRecord,
  SecretStore,
  deployHosting,
  recoverySource,
  deployMaintenance,
  maintenanceWindowSeam,
  type AppCapacity,
  type AppStackArgs,
  type MaintenanceOutput,
  type HostingOutputs,
  type PreDeployState,
  type Recovery,
  withDownMigration,
  type Release,
  type RotationStateOutput,
} from "./components";
import type { AppSpec, StackSpec } from "./config/spec";
import type { FargateSpec } from "./config/fargate";
import { FargateApp } from "./components/fargate";

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
  /** A recovery stack only: the backup restored (its time is the recovery point) and the recovery time. */
  recovery?: pulumi.Output<Recovery>;

  // Monitoring and alerts: outputs of that area go below this line.
  /** Prometheus, Alertmanager and Grafana on 127.0.0.1 of the app's host (open them through an ssh tunnel). */
  monitoring?: Readonly<Record<string, string>>;

  // Hosts and firewall: outputs of that area go below this line.
  /** The Docker host, its pinned key, the firewall's rules in words, the lockdown's evidence bundle. */
  hosting?: HostingOutputs;

  // Secret rotation: outputs of that area go below this line.
  /** Where each generated secret stands: window, next rotation, current slot, active database role. Never a value. */
  rotation?: RotationStateOutput;
  /** Secrets Manager name of each stored secret, for break-glass reads (`aws secretsmanager get-secret-value`). */
  secretsManager?: Readonly<Record<string, pulumi.Output<string>>>;

  // Releases and rollback: outputs of that area go below this line.
  /** The last releases deployed (newest first): images, digests, config hash, schema revision, backup key. */
  releases?: pulumi.Output<Release[]>;

  // Maintenance, scaling and diagnostics: outputs of that area go below this line.
  /** The scheduled jobs on the host (timer -> schedule) and the maintenance window. */
  maintenance?: MaintenanceOutput;
  /** What the app runs: services, replicas, CPUs and memory per container, totals, and its host's memory. */
  capacity?: AppCapacity;

  // Centralized logging:
  /** Where every container's lines are kept on the app's host, and the receiver they are forwarded to. */
  logs?: { readonly store: string; readonly forwardedTo?: string };

  // Adoption: outputs of that area go below this line.
  /** The docker-compose project this stack took over, and the existing Docker volume behind each state volume. */
  adoption?: { readonly project: string; readonly volumes: Readonly<Record<string, string>> };
}

/** What an app on ECS Fargate reports (`apps.<id>.fargate`): none of the Docker host's outputs apply. */
export interface FargateAppOutputs {
  /** `https://<domain>`. */
  endpoint: string;
  /** The load balancer's DNS name: point the app's domain at it (an alias or CNAME record). */
  loadBalancerDns: pulumi.Output<string>;
  /** The image each service runs. */
  release: Readonly<Record<string, string>>;
  unsetExternalSecrets: readonly string[];
  /** Tasks per service, and the backend's autoscaling ceiling where it scales. */
  services: Readonly<Record<string, { readonly replicas: number; readonly maxReplicas?: number }>>;
  /** The RDS instance (point-in-time restore and snapshots are by its identifier) and how far back it restores. */
  database: { readonly instance: pulumi.Output<string>; readonly pointInTimeDays: pulumi.Output<number> };
  /** Where the tasks' logs are: `aws logs tail <group> --follow`. */
  logGroup: string;
  rotation: RotationStateOutput;
  secretsManager: Readonly<Record<string, pulumi.Output<string>>>;
}

export interface StackOutputs {
  readonly environment: string;
  /** Apps on Docker hosts. */
  readonly apps: Record<string, AppOutputs>;
  /** Apps on ECS Fargate (`apps.<id>.fargate`), where the stack has any. */
  readonly fargate?: Record<string, FargateAppOutputs>;
}

/**
 * @param opts options given to every component (and so inherited by its children), e.g.
 *   `transformations` or `providers`.
 */
export function deployStack(spec: StackSpec, opts?: pulumi.ComponentResourceOptions): StackOutputs {
  const apps: StackOutputs["apps"] = {};
  const fargate: NonNullable<StackOutputs["fargate"]> = {};
  for (const resolved of spec.apps) {
    // Container orchestration: an app on ECS Fargate has none of a Docker host's components.
    if (resolved.fargate) {
      fargate[resolved.id] = deployFargateApp(spec, { ...resolved, fargate: resolved.fargate }, opts);
      continue;
    }
    // Backups: the bucket before the host, whose role (a host the stack creates) gets the writer's
    // policy document: put and get under the app's prefix, never delete or change retention.
    const source = resolved.backups.restoreFrom && recoverySource(`${resolved.id}-restore-source`, resolved.id, resolved.backups.restoreFrom, opts);
    const bucket = new BackupBucket(
      `${resolved.id}-backup`,
      {
        appId: resolved.id,
        environment: resolved.environment,
        cloudRetentionDays: resolved.backups.cloudRetentionDays,
        localRetentionDays: resolved.backups.localRetentionDays,
        noncurrentVersionDays: resolved.backups.noncurrentVersionDays,
        locked: resolved.backups.locked,
        ...(source && { readSource: source }),
      },
      opts,
    );

    // Hosts and firewall: the app's host comes first (its address is where everything else runs).
    const hosting = deployHosting(resolved, opts, [bucket.writerPolicy]);
    const app = hosting.app;

    // Secret rotation and generated secrets: the values (with their rotation windows), their copies in
    // Secrets Manager, and the database role step, which the pre-deploy seam runs once the database
    // is up and before anything of the release uses the new password.
    const secrets = new AppSecrets(`${app.id}-secrets`, { app }, opts);
    const store = new SecretStore(
      `${app.id}-secret-store`,
      { app: app.id, project: spec.project, stack: pulumi.getStack(), environment: app.environment, secrets: secrets.stored, recoveryWindowDays: app.rotation.recoveryWindowDays },
      opts,
    );
    const credentials = secrets.database;
    const rotateRoles = (state: PreDeployState, after: readonly pulumi.Resource[]) =>
      credentials && state.database ? [new DatabaseRoles(`${app.id}-db-roles`, { app, credentials, database: state.database, after }, opts).step] : [];

    // Backups: the jobs, and the pre-deploy backup (or a recovery stack's restore) that migrations wait for.
    const beforeMigrations: pulumi.Resource[] = [];
    const backups: { jobs?: BackupJobs } = {};
    const backupFirst: NonNullable<AppStackArgs["preDeploy"]> = (state) => {
      // A rollback with `--restore-data` restores the undone release's pre-deploy backup here, before the roles step and every backend.
      const rollback = app.releases.rollback;
      const rollbackRestore = rollback?.restoreBackup !== undefined ? { key: rollback.restoreBackup, undoes: rollback.undoes, ...(rollback.from !== undefined && { from: rollback.from }) } : undefined;
      backups.jobs = new BackupJobs(`${app.id}-backups`, { app, bucket, state, ...(source && { restoreSource: source }), ...(rollbackRestore && { rollbackRestore }) }, opts);
      return backups.jobs.gates;
    };

    // Maintenance, scaling and diagnostics: a maintenance window takes its own backup (once, when it
    // opens; the pre-deploy backup runs only when the images change) before anything of the release.
    const window = maintenanceWindowSeam(app, opts);
    // The pre-deploy seam: the backup first (the data as it was, before any change), then the roles step.
    const preDeploy: NonNullable<AppStackArgs["preDeploy"]> = (state) => {
      const backup = backupFirst(state);
      // A rollback's down-migration (with the newer image) runs after both, before the older image's migrations.
      return withDownMigration(app, state, [...backup, ...rotateRoles(state, backup), ...window.seam(state)], beforeMigrations);
    };
    const stack = new AppStack(app.id, { app, secrets, beforeMigrations, preDeploy }, opts);
    const outputs: AppOutputs = {
      endpoint: stack.endpoint,
      release: stack.release,
      unsetExternalSecrets: app.unsetExternalSecrets,
      backups: { bucket: bucket.bucketName, bucketArn: bucket.bucketArn, prefix: bucket.prefix, kmsKeyArn: bucket.kmsKeyArn, preDeployBackup: backups.jobs!.preDeployBackupKey },
    };

    // Backups: a recovery stack reports its recovery point and time once the app is healthy.
    if (backups.jobs?.restore) {
      outputs.recovery = new RecoveryReport(`${app.id}-recovery`, { app, restore: backups.jobs.restore, healthGate: stack.healthGate }, opts).recovery;
    }

    // Monitoring and alerts: after the app, whose containers it scrapes.
    const restoreData = backups.jobs?.monitoringDataRestore;
    const monitoring = app.monitoring
      ? new Monitoring(`${app.id}-monitoring`, { app, stack, secrets, ...(hosting.host.instance && { instance: hosting.host.instance }), ...(restoreData && { restoreData }) }, opts)
      : undefined;
    if (monitoring) outputs.monitoring = monitoring.endpoints;

    // Centralized logging: after the app and its monitoring, whose containers' logs it follows.
    if (app.logging) {
      const logging = app.logging;
      const containers = [
        ...[stack.database, stack.cache, stack.pooler?.container, stack.proxy].filter((c) => c !== undefined),
        ...stack.readReplicas,
        ...stack.backendReplicas,
        ...stack.frontends,
        ...stack.workers,
        ...Object.values(monitoring?.containers ?? {}),
      ];
      const collector = new LogCollector(`${app.id}-logs`, { app: { ...app, logging }, provider: stack.provider, containers }, opts);
      outputs.logs = { store: collector.store, ...(logging.forward && { forwardedTo: `${logging.forward.address}:${logging.forward.port}` }) };
    }

    // Hosts and firewall: the firewall and the lockdown switch, after the proxy they govern.
    outputs.hosting = hosting.outputs;

    // Secret rotation: once the release is healthy, the database owner keeps no password; the state, never a value, is an output.
    if (credentials && stack.database) new DatabaseOwnerLock(`${app.id}-db-owner-lock`, { app, database: stack.database, after: [stack.healthGate] }, opts);
    outputs.rotation = secrets.rotation;
    outputs.secretsManager = store.names;

    // Releases and rollback: the record of this release (a rollback's down-migration, when the config
    // asks for one, runs in the pre-deploy seam above, before the older image's migrations and backends).
    // Each release records the key of the pre-deploy backup taken before it (what `--restore-data` restores).
    outputs.releases = new ReleaseRecord(`${app.id}-releases`, { app, stack, preDeployBackup: { key: backups.jobs!.preDeployBackupKey } }, opts).releases;

    // Maintenance, scaling and diagnostics: scheduled jobs once the release is healthy; capacity per host.
    Object.assign(outputs, deployMaintenance(spec, app, stack, window.window(), opts));

    // Adoption: AppStack imports the adopted volumes and runs the cut-over (components/adoption).
    if (app.adoption) outputs.adoption = { project: app.adoption.project, volumes: app.adoption.volumes };

    apps[app.id] = outputs;
  }
  return { environment: spec.environment, apps, ...(Object.keys(fargate).length > 0 && { fargate }) };
}

/** An app on ECS Fargate: its generated secrets (and their break-glass copies), then FargateApp. */
function deployFargateApp(spec: StackSpec, app: AppSpec & { readonly fargate: FargateSpec }, opts?: pulumi.ComponentResourceOptions): FargateAppOutputs {
  // No Grafana on Fargate, so no Grafana password: AppSecrets makes one only for a monitored app.
  const unmonitored: AppSpec = { ...app };
  delete (unmonitored as { monitoring?: unknown }).monitoring;
  const secrets = new AppSecrets(`${app.id}-secrets`, { app: unmonitored }, opts);
  const stack = new FargateApp(app.id, { app, secrets, project: spec.project, stack: pulumi.getStack() }, opts);
  const services: Record<string, { replicas: number; maxReplicas?: number }> = {
    backend: { replicas: app.backend.replicas, ...(app.fargate.autoscaling && { maxReplicas: app.fargate.autoscaling.maxReplicas }) },
    ...(app.frontend && { frontend: { replicas: app.frontend.replicas } }),
    ...Object.fromEntries(app.workers.map((w) => [`worker:${w.name}`, { replicas: w.replicas }])),
  };
  return {
    endpoint: stack.endpoint,
    loadBalancerDns: stack.loadBalancerDns,
    release: { backend: app.backend.image, ...(app.frontend && { frontend: app.frontend.image }) },
    unsetExternalSecrets: app.unsetExternalSecrets,
    services,
    database: { instance: stack.data.database.identifier, pointInTimeDays: stack.data.database.backupRetentionPeriod },
    logGroup: stack.logGroupName,
    // The app's own secrets rotate; its database password does not on Fargate (README, "ECS Fargate"), so no role state.
    rotation: { clock: secrets.rotation.clock, generation: secrets.rotation.generation, secrets: secrets.rotation.secrets },
    secretsManager: stack.store.names,
  };
}
