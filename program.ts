/**
 * The program: a StackSpec in, resources out. index.ts feeds it the stack's config under the
 * Pulumi CLI; the offline plan feeds it the same spec under Pulumi's mock runtime.
 */
import type * as pulumi from "@pulumi/pulumi";
import { AppSecrets, AppStack, Monitoring } from "./components";
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

    const stack = new AppStack(app.id, { app, secrets, beforeMigrations }, opts);
    const outputs: AppOutputs = { endpoint: stack.endpoint, release: stack.release, unsetExternalSecrets: app.unsetExternalSecrets };

    // Monitoring and alerts: after the app, whose containers it scrapes.
    if (app.monitoring) {
      const monitoring = new Monitoring(`${app.id}-monitoring`, { app, stack, secrets }, opts);
      outputs.monitoring = monitoring.endpoints;
    }

    // Hosts and firewall: the firewall and the lockdown switch, after the proxy they govern.

    apps[app.id] = outputs;
  }
  return { environment: spec.environment, apps };
}
