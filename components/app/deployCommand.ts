/**
 * One deploy step, run where the app's Docker host is: `local.Command` for the local socket,
 * `remote.Command` over ssh for a remote host. The choice lives here so every step (migrations,
 * proxy reload, health gate, and the backup steps that plug into the seam) behaves the same.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { HostSpec } from "../../config/spec";

export interface DeployCommandArgs {
  readonly host: HostSpec;
  /** The shell command run on create (and again whenever `triggers` change). */
  readonly create: pulumi.Input<string>;
  /** Values whose change re-runs the step. */
  readonly triggers: pulumi.Input<unknown>[];
  /** Standard input of the command (secret environment for a one-off container). */
  readonly stdin?: pulumi.Input<string>;
}

export type DeployCommand = command.local.Command | command.remote.Command;

export function deployCommand(name: string, args: DeployCommandArgs, opts: pulumi.CustomResourceOptions): DeployCommand {
  const common = {
    create: args.create,
    triggers: args.triggers,
    ...(args.stdin !== undefined && { stdin: args.stdin }),
    // stdout and stderr reach the operator; stdin may hold secrets and is never logged.
    logging: "stdoutAndStderr" as const,
  };
  if (args.host.kind === "ssh") {
    return new command.remote.Command(
      name,
      {
        ...common,
        // Without hostKey, remote.Command accepts any host key (@pulumi/command types/input.d.ts:
        // "If not provided, the host key will be ignored"), and migrations send secrets over it.
        connection: { host: args.host.host, user: args.host.user, port: args.host.port, ...(args.host.hostKey !== undefined && { hostKey: args.host.hostKey }) },
      },
      opts,
    );
  }
  return new command.local.Command(
    name,
    { ...common, environment: { DOCKER_HOST: args.host.dockerHost }, interpreter: ["/bin/sh", "-c"] },
    opts,
  );
}
