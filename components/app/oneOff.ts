/**
 * One-off containers of a backend image as deploy steps: migrations, the release task, and the steps
 * other areas add (the schema revision read-back after migrations, a rollback's down-migration with
 * the newer image). Each runs `docker run --rm` on the app's internal network, with the app's
 * environment on stdin (never on a command line) and the backend's volumes mounted.
 */
import type * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { AppSpec } from "../../config/spec";
import { shellJoin } from "../shared/shell";
import { deployCommand, type DeployCommand } from "./deployCommand";

export interface OneOffOptions {
  /** Steps this one waits for (besides the app's state services). */
  readonly after?: readonly pulumi.Resource[];
  /** The image to run (`repository:tag`); the release's backend image by default. */
  readonly image?: string;
  /** What re-runs the step; the backend image's id by default (it re-runs with each release). */
  readonly triggers?: pulumi.Input<unknown>[];
  /** The component the step belongs to (the app's stack by default), and the step's name after it. */
  readonly parent?: pulumi.Resource;
  /** The step's full resource name; `<app stack>-<step>` by default. */
  readonly name?: string;
}

/** `step` names the deploy step (`<app stack>-<step>`); `argv` is the command run in the container. */
export type OneOffRunner = (step: string, argv: readonly string[], opts?: OneOffOptions) => DeployCommand;

export interface OneOffContext {
  readonly app: AppSpec;
  readonly parent: pulumi.Resource;
  readonly network: docker.Network;
  readonly volumes: Readonly<Record<string, docker.Volume>>;
  /** The backend's environment, secret entries as Pulumi secrets. */
  readonly envs: readonly pulumi.Input<string>[];
  /** The state services every one-off waits for (database, cache, volumes). */
  readonly dependsOn: readonly pulumi.Resource[];
  readonly triggers: pulumi.Input<unknown>[];
}

export function oneOffRunner(name: string, ctx: OneOffContext): OneOffRunner {
  const { app } = ctx;
  // One KEY=value per line: AppStack's validateArgs has refused values with a newline.
  const envFile = pulumi.all([...ctx.envs]).apply((lines) => `${lines.join("\n")}\n`);
  const mountArgs = pulumi
    .all(app.backend.volumes.map((v) => ctx.volumes[v.name]!.name))
    .apply((names) => names.flatMap((n, i) => ["-v", `${n}:${app.backend.volumes[i]!.mountPath}`]));
  return (step, argv, opts = {}) =>
    deployCommand(
      opts.name ?? `${name}-${step}`,
      {
        host: app.host,
        // By the image's tag, which RemoteImage has just pulled (or, for a rollback's newer image, which
        // the host kept): known during a preview, unlike its digest, so the policy pack can check it.
        create: pulumi
          .all([ctx.network.name, mountArgs])
          .apply(([network, mounts]) =>
            shellJoin(["docker", "run", "--rm", "--network", network, "--env-file", "/dev/stdin", ...mounts, opts.image ?? app.backend.image, ...argv]),
          ),
        stdin: pulumi.secret(envFile),
        triggers: opts.triggers ?? ctx.triggers,
      },
      { parent: opts.parent ?? ctx.parent, dependsOn: [...ctx.dependsOn, ...(opts.after ?? [])] },
    );
}
