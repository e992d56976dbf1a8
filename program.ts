/**
 * The program: a StackSpec in, resources out. index.ts feeds it the stack's config under the
 * Pulumi CLI; the offline plan feeds it the same spec under Pulumi's mock runtime.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  AppSecrets,
  AppStack,
  DatabaseOwnerLock,
  DatabaseRoles,
  Monitoring,
  SecretStore,
  deployHosting,
  deployMaintenance,
  maintenanceWindowSeam,
  type AppCapacity,
  type AppStackArgs,
  type MaintenanceOutput,
  type HostingOutputs,
  type RotationStateOutput,
} from "./components";
import type { StackSpec } from "./config/spec";

/** What one app reports as stack outputs. Areas add their fields below the marked lines. */
export interface AppOutputs {
  endpoint: string;
  release: Readonly<Record<string, string>>;
  unsetExternalSecrets: readonly string[];

  // Backups: outputs of that area go below this line.

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

  // Maintenance, scaling and diagnostics: outputs of that area go below this line.
  /** The scheduled jobs on the host (timer -> schedule) and the maintenance window. */
  maintenance?: MaintenanceOutput;
  /** What the app runs: services, replicas, CPUs and memory per container, totals, and its host's memory. */
  capacity?: AppCapacity;

  // Adoption: outputs of that area go below this line.
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
  for (const resolved of spec.apps) {
    // Hosts and firewall: the app's host comes first (its address is where everything else runs).
    const hosting = deployHosting(resolved, opts);
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
    const rotateRoles: NonNullable<AppStackArgs["preDeploy"]> = (state) =>
      credentials && state.database ? [new DatabaseRoles(`${app.id}-db-roles`, { app, credentials, database: state.database }, opts).step] : [];

    // Backups: the bucket, the jobs, and the pre-deploy backup that migrations wait for.
    const beforeMigrations: pulumi.Resource[] = [];

    // Maintenance, scaling and diagnostics: a maintenance window's backup goes first in the seam.
    const window = maintenanceWindowSeam(app, opts);
    const stack = new AppStack(app.id, { app, secrets, beforeMigrations, preDeploy: (state) => [...rotateRoles(state), ...window.seam(state)] }, opts);
    const outputs: AppOutputs = { endpoint: stack.endpoint, release: stack.release, unsetExternalSecrets: app.unsetExternalSecrets };

    // Monitoring and alerts: after the app, whose containers it scrapes.
    if (app.monitoring) {
      const monitoring = new Monitoring(`${app.id}-monitoring`, { app, stack, secrets, ...(hosting.host.instance && { instance: hosting.host.instance }) }, opts);
      outputs.monitoring = monitoring.endpoints;
    }

    // Hosts and firewall: the firewall and the lockdown switch, after the proxy they govern.
    outputs.hosting = hosting.outputs;

    // Secret rotation: once the release is healthy, the database owner keeps no password; the state, never a value, is an output.
    if (credentials && stack.database) new DatabaseOwnerLock(`${app.id}-db-owner-lock`, { app, database: stack.database, after: [stack.healthGate] }, opts);
    outputs.rotation = secrets.rotation;
    outputs.secretsManager = store.names;

    // Releases and rollback:

    // Maintenance, scaling and diagnostics: scheduled jobs once the release is healthy; capacity per host.
    Object.assign(outputs, deployMaintenance(spec, app, stack, window.window(), opts));

    // Adoption:

    apps[app.id] = outputs;
  }
  return { environment: spec.environment, apps };
}
