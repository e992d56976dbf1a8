/**
 * The proxy side of an AppStack: the nginx container (the only one that publishes host ports), the
 * deploy step that delivers its config without recreating it, and the health gate. Resources are
 * created as children of the AppStack passed in; nothing is created on import.
 *
 * Replacement order (why no request fails during a release): containers behind the proxy are
 * replaced create-before-delete, and the Pulumi engine deletes the replaced originals only after
 * every create and update of the deployment (pulumi/pulumi pkg/resource/deploy/step_generator.go:
 * "the delete step is generated 'later' on, after all creates/updates finish"). The config step
 * reads the new containers' names, so it runs once they are healthy (`wait: true`), and reloads
 * nginx onto them while the old ones still serve; the old ones are deleted at the end.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { AppSpec } from "../../config/spec";
import { createHash } from "node:crypto";
import { httpHealthcheck, longRunningSettings, type LongRunningSpec } from "./containerDefaults";
import { deployCommand, type DeployCommand } from "./deployCommand";
import { appHealthGateSpec, renderHealthGateScript } from "./healthGate";
import {
  PROXY_PATHS,
  proxyNginxSpec,
  renderBootstrapNginxConfig,
  renderMaintenancePage,
  renderNginxConfig,
} from "./nginxConfig";
import { renderProxyConfigScript } from "./proxyConfigScript";
import { tlsMounts } from "./tlsMounts";

export interface ProxyArgs {
  readonly app: AppSpec;
  readonly parent: pulumi.Resource;
  readonly provider: docker.Provider;
  readonly image: pulumi.Input<string>;
  /** Networks the proxy joins, with its aliases on each. */
  readonly networks: { readonly name: pulumi.Input<string>; readonly aliases?: string[] }[];
  readonly common: Pick<LongRunningSpec, "labels" | "logRotation">;
  /** Backend replicas and public frontend replicas: the upstreams, by container name. */
  readonly backends: readonly docker.Container[];
  readonly frontends: readonly docker.Container[];
  /** Every other container of the release, which the health gate checks too. */
  readonly others: readonly docker.Container[];
  /** Steps the proxy container waits for before it takes the host's ports (an adopted compose project stopped). */
  readonly after?: readonly pulumi.Resource[];
}

export interface DeployedProxy {
  readonly container: docker.Container;
  readonly config: DeployCommand;
  readonly healthGate: DeployCommand;
  /** The nginx.conf the config step delivers. */
  readonly nginxConfig: pulumi.Output<string>;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

export function deployProxy(name: string, args: ProxyArgs): DeployedProxy {
  const { app } = args;
  const tls = app.proxy.tls;
  const container = new docker.Container(
    `${name}-proxy`,
    {
      image: args.image,
      // Static files only: the app's nginx.conf comes from the config step, so a config change
      // never recreates the container that holds the host's ports.
      uploads: [
        { file: PROXY_PATHS.config, content: renderBootstrapNginxConfig(app.id) },
        { file: `${PROXY_PATHS.maintenanceRoot}/maintenance.html`, content: renderMaintenancePage(app.displayName) },
      ],
      ports: [{ internal: 80, external: app.proxy.httpPort }, ...(tls ? [{ internal: 443, external: app.proxy.httpsPort }] : [])],
      ...(tls && { volumes: tlsMounts(tls).map((dir) => ({ hostPath: dir, containerPath: dir, readOnly: true })) }),
      networksAdvanced: args.networks.map((network) => ({ ...network })),
      ...longRunningSettings({
        ...args.common,
        role: "proxy",
        service: "proxy",
        health: httpHealthcheck("nginx", 80, PROXY_PATHS.selfHealth, { host: "localhost", forwardedProto: "http" }),
        limits: app.proxy.limits,
      }),
    },
    // A published host port cannot be bound twice: the old proxy must go first.
    { parent: args.parent, provider: args.provider, deleteBeforeReplace: true, dependsOn: [...(args.after ?? [])] },
  );

  const upstreams = pulumi
    .all([pulumi.all(args.backends.map((c) => c.name)), pulumi.all(args.frontends.map((c) => c.name))])
    .apply(([backends, frontends]) => ({ backends, frontends }));
  const nginxConfig = upstreams.apply((u) => renderNginxConfig(proxyNginxSpec(app, u)));
  const config = deployCommand(
    `${name}-proxy-config`,
    {
      host: app.host,
      create: container.name.apply((proxy) =>
        renderProxyConfigScript({ appName: app.id, exec: ["docker", "exec", "-i", proxy], configPath: PROXY_PATHS.config }),
      ),
      stdin: nginxConfig,
      // A new config, or a new proxy (which starts on the bootstrap config), re-delivers it.
      triggers: [container.id, nginxConfig.apply(sha256)],
    },
    { parent: args.parent, dependsOn: [container, ...args.backends, ...args.frontends] },
  );

  const all = [...args.others, ...args.backends, ...args.frontends, container];
  const gateScript = pulumi.all(all.map((c) => c.name)).apply((containers) => renderHealthGateScript(appHealthGateSpec(app, containers)));
  const healthGate = deployCommand(
    `${name}-health-gate`,
    // After any change to any container of the app, and after every config delivery.
    { host: app.host, create: gateScript, triggers: [config.id, ...all.map((c) => c.id)] },
    { parent: args.parent, dependsOn: [config, ...all] },
  );
  return { container, config, healthGate, nginxConfig };
}
