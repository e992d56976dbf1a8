/**
 * The program: a StackSpec in, resources out. index.ts feeds it the stack's config under the
 * Pulumi CLI; the offline plan feeds it the same spec under Pulumi's mock runtime.
 */
import type * as pulumi from "@pulumi/pulumi";
import { AppSecrets, AppStack } from "./components";
import type { StackSpec } from "./config/spec";

export interface StackOutputs {
  readonly environment: string;
  readonly apps: Record<string, { endpoint: string; release: Readonly<Record<string, string>>; unsetExternalSecrets: readonly string[] }>;
}

/**
 * @param opts options given to every component (and so inherited by its children), e.g.
 *   `transformations` or `providers`.
 */
export function deployStack(spec: StackSpec, opts?: pulumi.ComponentResourceOptions): StackOutputs {
  const apps: StackOutputs["apps"] = {};
  for (const app of spec.apps) {
    const secrets = new AppSecrets(`${app.id}-secrets`, { app }, opts);
    const stack = new AppStack(app.id, { app, secrets }, opts);
    apps[app.id] = { endpoint: stack.endpoint, release: stack.release, unsetExternalSecrets: app.unsetExternalSecrets };
  }
  return { environment: spec.environment, apps };
}
