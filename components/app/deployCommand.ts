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
  /**
   * The shell command run when the step is deleted (the app left the stack, or the step was turned off).
   * The provider runs the text stored at the last create or update, with that run's stdin and
   * connection, not the text of the current program (docs/engine-evidence.md item 18).
   */
  readonly delete?: pulumi.Input<string>;
  /** Standard input of the command (secret environment for a one-off container). */
  readonly stdin?: pulumi.Input<string>;
  /** ssh only: how many failed dials before the step fails (a host still booting); the provider's default otherwise. */
  readonly dialErrorLimit?: number;
}

export type DeployCommand = command.local.Command | command.remote.Command;

/** A host with an address: the local socket or an ssh host (a `created` host has none until it is made). */
export type ReachableHost = Exclude<HostSpec, { kind: "created" }>;

/** The host, or a clear error when it is a host the stack has yet to create. */
export function reachableHost(host: HostSpec): ReachableHost {
  if (host.kind === "created") {
    throw new Error("`app.host` is a host the stack creates: pass the app through the Host component (components/hosts) first, which gives the instance's address");
  }
  return host;
}

/**
 * Triggers that re-run a step on a new instance of a host the stack creates (a new AMI or user data
 * replaces it; the data volume moves over, the root volume does not). None for other hosts.
 */
export function machineTriggers(host: HostSpec): pulumi.Input<unknown>[] {
  return host.kind === "ssh" && host.machineId !== undefined ? [host.machineId] : [];
}

export function deployCommand(name: string, args: DeployCommandArgs, opts: pulumi.CustomResourceOptions): DeployCommand {
  const host = reachableHost(args.host);
  const common = {
    create: args.create,
    triggers: args.triggers,
    ...(args.stdin !== undefined && { stdin: args.stdin }),
    ...(args.delete !== undefined && { delete: args.delete }),
    // stdout and stderr reach the operator; stdin may hold secrets and is never logged.
    logging: "stdoutAndStderr" as const,
  };
  if (host.kind === "ssh") {
    return new command.remote.Command(
      name,
      {
        ...common,
        // Without hostKey, remote.Command accepts any host key (@pulumi/command types/input.d.ts:
        // "If not provided, the host key will be ignored"), and migrations send secrets over it.
        connection: {
          host: host.host,
          user: host.user,
          port: host.port,
          ...(host.hostKey !== undefined && { hostKey: host.hostKey }),
          ...(args.dialErrorLimit !== undefined && { dialErrorLimit: args.dialErrorLimit }),
        },
      },
      opts,
    );
  }
  return new command.local.Command(
    name,
    { ...common, environment: { DOCKER_HOST: host.dockerHost }, interpreter: ["/bin/sh", "-c"] },
    opts,
  );
}
