/**
 * ComposeHandover: the deploy steps that hand a running docker-compose project's work to the stack.
 * A readiness step (every new container reports healthy), then a stop step (the compose project's
 * running containers, or only those mounting given volumes, stopped by the project's label), in that
 * order by `dependsOn`. AppStack uses it twice for an adopted app: before PostgreSQL or Redis start
 * on an adopted data directory (two servers on one data directory corrupt it), and before the proxy
 * takes the host's ports (the one handover no container can share).
 */
import type * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { AppSpec } from "../../config/spec";
import { deployCommand, type DeployCommand } from "../app/deployCommand";
import { renderReadyCheckScript, renderStopComposeScript } from "./handoverScripts";

export interface ComposeHandoverArgs {
  /** The app (its host, id, health gate settings). */
  readonly app: Pick<AppSpec, "id" | "host" | "healthGate">;
  /** The compose project whose containers stop (`com.docker.compose.project`). */
  readonly project: string;
  /** Stop only the project's containers that mount one of these Docker volumes. Default: every running container of the project. */
  readonly onlyMounting?: readonly string[];
  /** New containers that must all report healthy before anything stops. Default: none (no readiness step). */
  readonly ready?: readonly docker.Container[];
  /** Resources both steps wait for. */
  readonly after?: readonly pulumi.Resource[];
}

const DEFAULTS = { stopTimeoutSeconds: 60 } as const;

export class ComposeHandover extends pulumi.ComponentResource {
  /** The readiness step, where `ready` names containers. */
  public readonly readyCheck?: DeployCommand;
  /** The step that stops the compose containers; what must wait for the handover depends on it. */
  public readonly stop: DeployCommand;

  constructor(name: string, args: ComposeHandoverArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook:adoption:ComposeHandover", name, {}, opts);
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(args.project)) {
      throw new Error("`project` must be a compose project name: lowercase letters, digits, '-' and '_', starting with a letter or digit");
    }
    if (args.onlyMounting !== undefined && args.onlyMounting.length === 0) {
      throw new Error("`onlyMounting` must name at least one volume when given (leave it out to stop the whole project)");
    }
    const after = [...(args.after ?? [])];
    const ready = args.ready ?? [];
    if (ready.length > 0) {
      const script = pulumi.all(ready.map((c) => c.name)).apply((containers) =>
        renderReadyCheckScript({ appName: args.app.id, containers, attempts: args.app.healthGate.attempts, intervalSeconds: args.app.healthGate.intervalSeconds }),
      );
      this.readyCheck = deployCommand(`${name}-ready`, { host: args.app.host, create: script, triggers: [args.project] }, { parent: this, dependsOn: [...after, ...ready] });
    }
    const stopScript = renderStopComposeScript({
      appName: args.app.id,
      project: args.project,
      ...(args.onlyMounting && { onlyMounting: args.onlyMounting }),
      stopTimeoutSeconds: DEFAULTS.stopTimeoutSeconds,
    });
    // Runs once: again only if the project or the volumes change (`triggers` replace the command).
    this.stop = deployCommand(
      `${name}-stop`,
      { host: args.app.host, create: stopScript, triggers: [args.project, ...(args.onlyMounting ?? [])] },
      { parent: this, dependsOn: [...after, ...(this.readyCheck ? [this.readyCheck] : [])] },
    );
    this.registerOutputs({ stop: this.stop.id });
  }
}
