/**
 * LogCollector: one rsyslog container per app on its Docker host that copies the lines of the app's
 * containers into a store on the host (`/var/log/runbook/<app>/<service>/<day>.log`) and,
 * where `logging.forward` is set, sends it on to a central syslog receiver over TLS. What it does and
 * why is in ./collectorConfig.ts.
 *
 * A release does not replace the collector: its configuration names no container (it is replaced when
 * its image id, its rendered config or the app's logRotation changes). A deploy step (`<app>-logs-inputs`)
 * writes the list of container logs to follow into the store and restarts the collector whenever a
 * container of the app, or the collector itself, is new; a new collector starts with the last list.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { AppSpec } from "../../config/spec";
import { longRunningSettings, shellHealthcheck } from "../app/containerDefaults";
import { deployCommand, machineTriggers, type DeployCommand } from "../app/deployCommand";
import { LOG_COLLECTOR, LOG_COLLECTOR_LIMITS, hostStore, renderCollectorConfig, renderCollectorStart, renderInputsScript } from "./collectorConfig";

/**
 * The image's build context: rsyslog-image/Dockerfile, Debian 12's rsyslog. Relative to the project
 * root, where the engine starts the Docker provider (pulumi/pulumi sdk/go/common/resource/plugin
 * provider_plugin.go `NewProvider`: `newPlugin(ctx, ctx.Pwd, ...)`): the provider stores the context
 * as given plus a hash of its files, and the context is ForceNew (kreuzwerker/terraform-provider-docker
 * resource_docker_image.go, `context` StateFunc `val + ":" + contextTarHash`), so an absolute path would
 * rebuild the image from every other checkout (another operator, CI).
 */
export const LOG_COLLECTOR_IMAGE = { name: "runbook/log-collector:rsyslog-8.2302.0", context: "components/logging/rsyslog-image" } as const;

export interface LogCollectorArgs {
  readonly app: Pick<AppSpec, "id" | "environment" | "host" | "logRotation"> & { readonly logging: NonNullable<AppSpec["logging"]> };
  /** The app's Docker provider (AppStack.provider). */
  readonly provider: docker.Provider;
  /** Every container of the app the stack runs: a new one (a release) re-runs the inputs step. */
  readonly containers: readonly docker.Container[];
}

export class LogCollector extends pulumi.ComponentResource {
  public readonly container: docker.Container;
  /** Writes the list of container logs to follow into the collector and restarts it. */
  public readonly inputs: DeployCommand;
  /** Where the store is on the host. */
  public readonly store: string;
  /** The rendered rsyslog.conf (no secret in it). */
  public readonly config: string;

  constructor(name: string, args: LogCollectorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook:logging:LogCollector", name, {}, opts);
    const { app } = args;
    const child = { parent: this, provider: args.provider };
    const forward = app.logging.forward;
    this.store = hostStore(app.id);
    this.config = renderCollectorConfig({ appId: app.id, environment: app.environment, ...(forward && { forward }) });

    const image = new docker.RemoteImage(`${name}-image`, { name: LOG_COLLECTOR_IMAGE.name, keepLocally: true, build: { context: LOG_COLLECTOR_IMAGE.context } }, child);
    // A network only to reach the receiver; without one, the collector has no network at all.
    const network = forward ? new docker.Network(`${name}-net`, { internal: false, labels: this.labels(app) }, child) : undefined;
    this.container = new docker.Container(
      `${name}-collector`,
      {
        image: image.imageId,
        entrypoints: ["/bin/sh", "-c"],
        command: [renderCollectorStart()],
        ...(network ? { networksAdvanced: [{ name: network.name }] } : { networkMode: "none" }),
        uploads: [{ file: LOG_COLLECTOR.configFile, content: this.config }, ...(forward ? [{ file: LOG_COLLECTOR.caFile, content: forward.caCertificate }] : [])],
        volumes: [
          { hostPath: LOG_COLLECTOR.dockerContainers, containerPath: LOG_COLLECTOR.dockerContainers, readOnly: true },
          // On the host, not in a volume: it outlives the stack (`pulumi destroy` leaves it) and the
          // maintenance job's log retention finds it under /var/log.
          { hostPath: this.store, containerPath: LOG_COLLECTOR.store },
        ],
        ...longRunningSettings({
          labels: this.labels(app),
          logRotation: app.logRotation,
          role: "logging",
          service: LOG_COLLECTOR.service,
          health: shellHealthcheck(`kill -0 "$(cat ${LOG_COLLECTOR.pidFile})"`),
          limits: LOG_COLLECTOR_LIMITS,
        }),
      },
      // Two collectors must never write one store: the old one stops first (it keeps its read
      // positions on disk, and the new one resumes from them).
      { ...child, deleteBeforeReplace: true },
    );

    this.inputs = deployCommand(
      `${name}-inputs`,
      {
        host: app.host,
        create: this.container.name.apply((collector) => renderInputsScript({ appId: app.id, environment: app.environment, collector })),
        triggers: [this.container.id, pulumi.all(args.containers.map((c) => c.id)), ...machineTriggers(app.host)],
      },
      { parent: this, dependsOn: [this.container, ...args.containers] },
    );
    this.registerOutputs({ store: this.store });
  }

  private labels(app: LogCollectorArgs["app"]) {
    return [
      { label: "runbook.app", value: app.id },
      { label: "runbook.environment", value: app.environment },
    ];
  }
}
