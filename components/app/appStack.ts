/**
 * AppStack: one application of the catalog on one Docker host, as the runbooks run it with
 * docker-compose, plus the deploy steps an operator used to type (migrations, health check).
 *
 * Layout: an internal network for everything (no route out), a public network only the proxy
 * joins, an egress network for backends that call third-party APIs, and for an admin UI a network
 * of its own (Docker publishes no port for a container on internal networks only). Only the proxy
 * publishes public host ports; an admin UI binds 127.0.0.1.
 *
 * Replacement: pulumi-docker declares every container delete-before-replace
 * (pulumi/pulumi-docker provider/resources.go, `DeleteBeforeReplace: true` for docker_container).
 * Containers that publish no host port and own no data directory (backend replicas, workers, the
 * public frontend) override it: the replacement starts and turns healthy first. The proxy and an
 * admin UI hold host ports, and PostgreSQL and Redis must never run twice on one data volume: those
 * are replaced delete-first, and say so explicitly; so are read replicas (readReplicas.ts), which own
 * a data directory each.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import {
  httpHealthcheck,
  longRunningSettings,
  probeHeaders,
  shellHealthcheck,
} from "./containerDefaults";
import { reachableHost, type DeployCommand } from "./deployCommand";
import { ALIASES } from "./nginxConfig";
import { validateArgs, type AppStackArgs } from "./appStackArgs";
import { deployProxy } from "./proxy";
import { composeCutover, serversHandover, stateVolume } from "../adoption/adoptionSteps";
import { oneOffRunner, type OneOffRunner } from "./oneOff";
import { deployReadReplicas } from "./readReplicas";
import { ConnectionPooler } from "../pooler/connectionPooler";
import { DELETE_FIRST, REPLACE_FIRST, SECRET_ENV, deployStateServices } from "./stateServices";

export { ROLE_LABEL, SERVICE_LABEL, type ContainerRole } from "./containerDefaults";
export type { AppStackArgs } from "./appStackArgs";


export { DELETE_FIRST, REPLACE_FIRST } from "./stateServices";

export class AppStack extends pulumi.ComponentResource {
  /** The Docker provider of the app's host: components that run beside the app (monitoring) use it. */
  public readonly provider: docker.Provider;
  public readonly internalNetwork: docker.Network;
  public readonly publicNetwork: docker.Network;
  public readonly egressNetwork?: docker.Network;
  public readonly adminNetwork?: docker.Network;
  public readonly volumes: Readonly<Record<string, docker.Volume>>;
  public readonly database?: docker.Container;
  /** Streaming hot standbys of the database (`database.readReplicas`), each on a volume of its own. */
  public readonly readReplicas: readonly docker.Container[];
  /** The step that gives the primary the replication role and its pg_hba rule, where there are replicas. */
  public readonly replication?: DeployCommand;
  public readonly cache?: docker.Container;
  /** PgBouncer between the backends and workers and PostgreSQL, where `database.pooler` turns it on. */
  public readonly pooler?: ConnectionPooler;
  public readonly migration?: DeployCommand;
  /** The runbook's release task after migrations (collectstatic...). */
  public readonly releaseTask?: DeployCommand;
  public readonly backendReplicas: readonly docker.Container[];
  /** Frontend replicas behind the proxy, or the one admin UI container. */
  public readonly frontends: readonly docker.Container[];
  public readonly workers: readonly docker.Container[];
  public readonly proxy: docker.Container;
  /** Delivers the rendered nginx.conf to the running proxy and reloads it. */
  public readonly proxyConfig: DeployCommand;
  public readonly healthGate: DeployCommand;
  /** The proxy's nginx.conf, as delivered (it names the containers of this release). */
  public readonly nginxConfig: pulumi.Output<string>;
  /** Public URL of the app. */
  public readonly endpoint: string;
  /** The images this release runs: the record a rollback returns to. */
  public readonly release: Readonly<Record<string, string>>;
  /** The pulled images by service (backend, frontend, proxy, db, redis): their digests go in the release record. */
  public readonly images: Readonly<Record<string, docker.RemoteImage>>;
  /** Runs a one-off container of the backend image (or another, such as the newer image of a rollback). */
  public readonly oneOff: OneOffRunner;

  constructor(name: string, args: AppStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook:app:AppStack", name, {}, opts);
    validateArgs(args);
    const { app } = args;

    const host = reachableHost(app.host);
    const provider = new docker.Provider(
      `${name}-docker`,
      // ssh never accepts an unknown host key for the provider either: the key must be in known_hosts
      // (or, for a host the stack creates, given to ssh by the Host component).
      { host: host.dockerHost, ...(host.kind === "ssh" && { sshOpts: ["-o", "StrictHostKeyChecking=yes", ...(host.dockerSshOpts ?? [])] }) },
      { parent: this },
    );
    this.provider = provider;
    const child = { parent: this, provider };
    const stateOpts: pulumi.CustomResourceOptions = { ...child, protect: app.protectState, retainOnDelete: app.protectState };
    const labels = [
      { label: "runbook.app", value: app.id },
      { label: "runbook.environment", value: app.environment },
    ];
    const common = { labels, logRotation: app.logRotation };
    // What the app's own checks send: its public name, and https where the proxy terminates TLS.
    const probe = probeHeaders(app);

    // Networks.
    this.internalNetwork = new docker.Network(`${name}-internal`, { internal: true, labels }, child);
    this.publicNetwork = new docker.Network(`${name}-public`, { internal: false, labels }, child);
    if (app.backend.needsEgress) {
      this.egressNetwork = new docker.Network(`${name}-egress`, { internal: false, labels }, child);
    }
    if (app.frontend?.adminPort !== undefined) {
      this.adminNetwork = new docker.Network(`${name}-admin`, { internal: false, labels }, child);
    }
    const internal = (aliases: string[] = []) => ({ name: this.internalNetwork.name, ...(aliases.length && { aliases }) });
    const egress = this.egressNetwork ? [{ name: this.egressNetwork.name }] : [];

    // Volumes of state: protected and kept on delete in prod; an adopted one (`app.adoption`) is
    // imported by its exact name, always protected and retained (components/adoption).
    const volumes: Record<string, docker.Volume> = {};
    const volume = (key: string) => (volumes[key] ??= stateVolume(`${name}-${key}`, key, app, labels, stateOpts));
    for (const v of app.backend.volumes) volume(v.name);
    const backendMounts = app.backend.volumes.map((v) => ({ volumeName: volumes[v.name]!.name, containerPath: v.mountPath }));

    // Images, kept on the host after replacement so a rollback does not wait for a pull.
    const images: Record<string, docker.RemoteImage> = {};
    const image = (key: string, ref: string) => (images[key] = new docker.RemoteImage(`${name}-${key}-image`, { name: ref, keepLocally: true }, child));
    const backendImage = image("backend", app.backend.image);

    // Secret environment of the backend, one entry per variable so plain ones stay readable.
    const backendEnv: pulumi.Input<string>[] = Object.entries(app.backend.env).map(([k, v]) => `${k}=${v}`);
    const secretEnv: [string, pulumi.Output<string>][] = Object.entries(args.secrets.env);

    // Adoption: the compose containers holding an adopted database or cache directory stop first.
    const serversHandedOver = serversHandover(name, app, volume, this);

    // Database and cache (stateServices.ts): the servers, and what the backends are told about them.
    const backendVolumes = Object.values(volumes);
    const state = deployStateServices(name, {
      app,
      secrets: args.secrets,
      child,
      common,
      network: this.internalNetwork,
      volume,
      image,
      after: serversHandedOver,
    });
    this.database = state.database;
    this.cache = state.cache;
    backendEnv.push(...state.env);
    secretEnv.push(...state.secretEnv);
    const dependsOnState: pulumi.Resource[] = [...backendVolumes, ...(state.database ? [state.database] : []), ...(state.cache ? [state.cache] : [])];
    const envs: pulumi.Input<string>[] = [...backendEnv, ...secretEnv.map(([k, v]) => pulumi.secret(pulumi.interpolate`${k}=${v}`))];

    // One-off containers of a backend image (migrations, the release task, and steps other areas run:
    // a schema revision read-back, a rollback's down-migration), on the internal network with the
    // app's environment on stdin and its volumes mounted.
    this.oneOff = oneOffRunner(name, { app, parent: this, network: this.internalNetwork, volumes, envs, dependsOn: dependsOnState, triggers: [backendImage.imageId] });
    const oneOff = (step: string, argv: readonly string[], after: readonly pulumi.Resource[]) => this.oneOff(step, argv, { after });

    // The pre-deploy seam: steps other components run once the state services are up and before
    // anything of the new release (a pre-deploy backup, a restore in a recovery stack). Migrations,
    // the release task, replicas and workers all wait for them.
    const preDeploy = [
      ...(args.beforeMigrations ?? []),
      ...(args.preDeploy?.({ database: this.database, volumes, internalNetwork: this.internalNetwork, backendImage, provider, oneOff: this.oneOff }) ?? []),
    ];

    // Read replicas: after the primary and the pre-deploy seam (a recovery stack's replicas clone the
    // restored data), before any backend that reads from them.
    let replicas: docker.Container[] = [];
    if (app.database.engine === "postgres" && app.database.readReplicas > 0 && this.database) {
      const password = args.secrets.replicationPassword;
      if (!password) throw new Error("`secrets.replicationPassword` must be given for an app with `database.readReplicas`");
      const set = deployReadReplicas(name, {
        app,
        database: app.database,
        parent: this,
        provider,
        image: images["db"]!.imageId,
        network: this.internalNetwork,
        primary: this.database,
        primaryVolume: volumes["pgdata"]!,
        password,
        common,
        after: preDeploy,
      });
      this.replication = set.step;
      replicas = [...set.containers];
    }
    this.readReplicas = replicas;

    // Migrations, then the release task: one-off containers of the new image, after the database is
    // healthy and before any backend replica is replaced. They re-run whenever the backend image changes.
    const backendDeps: pulumi.Resource[] = [...dependsOnState, ...preDeploy];
    // Connection pooling: the backends and workers connect through PgBouncer, once its auth step (after
    // the role step) has given it the roles' verifiers. A migration takes locks and runs DDL for minutes
    // in a session of its own: it stays on PostgreSQL directly, as do backups, restores and the role step.
    let serviceEnvs = envs;
    if (app.database.engine === "postgres" && app.database.pooler && this.database && args.secrets.database) {
      const credentials = args.secrets.database;
      this.pooler = new ConnectionPooler(
        `${name}-pooler`,
        {
          app,
          pooler: app.database.pooler,
          credentials,
          network: this.internalNetwork,
          provider,
          labels,
          database: this.database,
          after: [...dependsOnState, ...preDeploy],
          ...(credentials.poolerStats && { stats: credentials.poolerStats }),
        },
        { parent: this },
      );
      const pooled = this.pooler.databaseUrl(credentials.roles[credentials.activeSlot], app.database.database);
      serviceEnvs = [...backendEnv, ...secretEnv.map(([k, v]) => pulumi.secret(pulumi.interpolate`${k}=${k === "DATABASE_URL" ? pooled : v}`))];
      backendDeps.push(this.pooler.authStep);
    }
    if (app.backend.migrationCommand) {
      this.migration = oneOff("migrate", app.backend.migrationCommand, preDeploy);
      backendDeps.push(this.migration);
    }
    if (app.backend.releaseTask) {
      this.releaseTask = oneOff("release-task", app.backend.releaseTask, [...preDeploy, ...(this.migration ? [this.migration] : [])]);
      backendDeps.push(this.releaseTask);
    }
    backendDeps.push(...replicas);

    // Backend replicas: reached by the proxy by container name; `backend` is the alias every
    // replica shares (for anything that wants one of them, such as a metrics scrape by DNS).
    this.backendReplicas = Array.from({ length: app.backend.replicas }, (_, i) =>
      new docker.Container(
        `${name}-backend-${i}`,
        {
          image: backendImage.imageId,
          envs: serviceEnvs,
          volumes: backendMounts,
          networksAdvanced: [internal([ALIASES.backend]), ...egress],
          ...longRunningSettings({
            ...common,
            role: "backend",
            service: "backend",
            health: httpHealthcheck(app.backend.runtime, app.backend.port, app.backend.healthPath, probe),
            limits: app.backend.limits,
          }),
        },
        { ...child, ...SECRET_ENV, ...REPLACE_FIRST, dependsOn: backendDeps },
      ),
    );

    // Workers run the backend image with their own command.
    this.workers = app.workers.flatMap((w) =>
      Array.from({ length: w.replicas }, (_, i) =>
        new docker.Container(
          `${name}-worker-${w.name}-${i}`,
          {
            image: backendImage.imageId,
            command: [...w.command],
            envs: serviceEnvs,
            volumes: backendMounts,
            networksAdvanced: [internal(), ...egress],
            ...longRunningSettings({ ...common, role: "worker", service: `worker:${w.name}`, health: shellHealthcheck(w.healthcheck), limits: w.limits }),
          },
          { ...child, ...SECRET_ENV, ...REPLACE_FIRST, dependsOn: backendDeps },
        ),
      ),
    );

    // Frontend: replicas behind the proxy, or (an admin UI) one container on 127.0.0.1 only, through
    // its own network.
    const fe = app.frontend;
    const admin = fe?.adminPort !== undefined;
    // Adoption: once every new container is healthy, the compose project stops, and only then do the
    // containers holding host ports (the proxy; an admin UI) start: the one unavoidable handover.
    const stateful = [...(this.database ? [this.database] : []), ...(this.cache ? [this.cache] : [])];
    const cutover = (ready: readonly docker.Container[]) => composeCutover(name, app, [...stateful, ...ready], this);
    const handedOver = admin ? cutover([...this.backendReplicas, ...this.workers]) : [];
    const frontendImage = fe ? image("frontend", fe.image) : undefined;
    this.frontends = !fe
      ? []
      : Array.from({ length: admin ? 1 : fe.replicas }, (_, i) =>
          new docker.Container(
            `${name}-frontend-${i}`,
            {
              image: frontendImage!.imageId,
              envs: Object.entries(fe.env).map(([k, v]) => `${k}=${v}`),
              networksAdvanced: [internal([ALIASES.frontend]), ...(this.adminNetwork ? [{ name: this.adminNetwork.name }] : [])],
              ...(admin && { ports: [{ internal: fe.port, external: fe.adminPort, ip: "127.0.0.1" }] }),
              ...longRunningSettings({
                ...common,
                role: admin ? "admin" : "frontend",
                service: "frontend",
                health: httpHealthcheck(fe.runtime, fe.port, fe.healthPath, probe),
                limits: fe.limits,
              }),
            },
            { ...child, ...(admin ? { ...DELETE_FIRST, dependsOn: handedOver } : REPLACE_FIRST) },
          ),
        );
    if (!admin) handedOver.push(...cutover([...this.backendReplicas, ...this.workers, ...this.frontends]));

    const proxy = deployProxy(name, {
      app,
      parent: this,
      provider,
      image: image("proxy", app.proxy.image).imageId,
      // `proxy` on the internal network: monitoring probes the app through it and scrapes its exporters.
      networks: [{ name: this.publicNetwork.name }, internal([ALIASES.proxy])],
      common,
      backends: this.backendReplicas,
      frontends: admin ? [] : this.frontends,
      others: [...(this.database ? [this.database] : []), ...replicas, ...(this.pooler ? [this.pooler.container] : []), ...(this.cache ? [this.cache] : []), ...this.workers, ...(admin ? this.frontends : [])],
      // After the pre-deploy gates too: a recovery's restore brings back the certificates the proxy mounts
      // (a missing bind-mount source would be created by Docker as an empty directory).
      after: [...handedOver, ...preDeploy],
    });
    this.proxy = proxy.container;
    this.proxyConfig = proxy.config;
    this.healthGate = proxy.healthGate;
    this.nginxConfig = proxy.nginxConfig;

    this.volumes = volumes;
    this.images = images;
    const scheme = app.proxy.tls ? "https" : "http";
    const port = app.proxy.tls ? app.proxy.httpsPort : app.proxy.httpPort;
    const defaultPort = (scheme === "https" && port === 443) || (scheme === "http" && port === 80);
    this.endpoint = `${scheme}://${app.publicHost}${defaultPort ? "" : `:${port}`}`;
    this.release = {
      backend: app.backend.image,
      ...(app.frontend && { frontend: app.frontend.image }),
      proxy: app.proxy.image,
    };
    this.registerOutputs({ endpoint: this.endpoint, release: this.release });
  }
}
