/**
 * AppStack: one application of the catalog on one Docker host, as the runbooks run it with
 * docker-compose, plus the deploy steps an operator used to type (migrations, health check).
 *
 * Layout: an internal network for everything (no route out), a public network only the proxy
 * joins, an egress network for backends that call third-party APIs. Only the proxy publishes
 * host ports; an admin UI binds 127.0.0.1.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { AppSpec } from "../../config/spec";
import type { AppSecrets } from "../secrets/appSecrets";
import { shellJoin } from "../shared/shell";
import {
  RESTART_POLICY,
  httpHealthcheck,
  logOptions,
  postgresHealthcheck,
  redisHealthcheck,
  shellHealthcheck,
  type HealthcheckSpec,
} from "./containerDefaults";
import { deployCommand, type DeployCommand } from "./deployCommand";
import { renderHealthGateScript } from "./healthGate";
import {
  ALIASES,
  PROXY_PATHS,
  backendAlias,
  maintenanceOpenEndpoints,
  proxyNginxSpec,
  renderMaintenancePage,
  renderNginxConfig,
} from "./nginxConfig";

export interface AppStackArgs {
  /** The app, fully resolved from the catalog and the stack config. */
  readonly app: AppSpec;
  /** The app's secret values (generated and external). */
  readonly secrets: Pick<AppSecrets, "env" | "databasePassword">;
  /**
   * Steps that must finish before migrations run: the seam for the pre-deploy backup
   * (LMS runbook: "1. Create backup" before "migrate"). Empty by default.
   */
  readonly beforeMigrations?: readonly pulumi.Resource[];
}

/** Mount path of the PostgreSQL and Redis data volumes. */
const DATA_PATHS = { postgres: "/var/lib/postgresql/data", redis: "/data" } as const;

/** Label naming a container's role; the policy pack reads it. */
export const ROLE_LABEL = "runbook.role";

export type ContainerRole = "proxy" | "backend" | "frontend" | "admin" | "database" | "cache" | "worker";

/**
 * Containers whose environment carries secrets keep `envs` secret in the state's outputs too
 * (the policy pack checks for it: CrossGuard cannot see whether an input was a secret).
 */
const SECRET_ENV: pulumi.CustomResourceOptions = { additionalSecretOutputs: ["envs"] };

/** How long `pulumi up` waits for a new container to report healthy before it fails. */
const WAIT_TIMEOUT_SECONDS = 180;

export class AppStack extends pulumi.ComponentResource {
  public readonly internalNetwork: docker.Network;
  public readonly publicNetwork: docker.Network;
  public readonly egressNetwork?: docker.Network;
  public readonly volumes: Readonly<Record<string, docker.Volume>>;
  public readonly database?: docker.Container;
  public readonly cache?: docker.Container;
  public readonly migration?: DeployCommand;
  public readonly backendReplicas: readonly docker.Container[];
  public readonly frontend?: docker.Container;
  public readonly workers: readonly docker.Container[];
  public readonly proxy: docker.Container;
  public readonly proxyReload: DeployCommand;
  public readonly healthGate: DeployCommand;
  /** The proxy's nginx.conf, as rendered. */
  public readonly nginxConfig: string;
  /** Public URL of the app on its host. */
  public readonly endpoint: string;
  /** The images this release runs: the record a rollback returns to. */
  public readonly release: Readonly<Record<string, string>>;

  constructor(name: string, args: AppStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook:app:AppStack", name, {}, opts);
    validateArgs(args);
    const { app } = args;

    const provider = new docker.Provider(`${name}-docker`, { host: app.host.dockerHost }, { parent: this });
    const child = { parent: this, provider };
    const stateOpts: pulumi.CustomResourceOptions = { ...child, protect: app.protectState, retainOnDelete: app.protectState };
    const logging = logOptions(app.logRotation);
    const labels = [
      { label: "runbook.app", value: app.id },
      { label: "runbook.environment", value: app.environment },
    ];
    const longRunning = (role: ContainerRole, health: HealthcheckSpec, limits: AppSpec["backend"]["limits"]) => ({
      healthcheck: health,
      restart: RESTART_POLICY,
      memory: limits.memoryMb,
      ...(limits.memoryReservationMb !== undefined && { memoryReservation: limits.memoryReservationMb }),
      cpus: String(limits.cpus),
      ...logging,
      // The role tells the policy pack what a container is (only a `proxy` publishes ports).
      labels: [...labels, { label: ROLE_LABEL, value: role }],
      // `pulumi up` waits until the container reports healthy: a broken release stops here.
      wait: true,
      waitTimeout: WAIT_TIMEOUT_SECONDS,
    });

    // Networks.
    this.internalNetwork = new docker.Network(`${name}-internal`, { internal: true, labels }, child);
    this.publicNetwork = new docker.Network(`${name}-public`, { internal: false, labels }, child);
    if (app.backend.needsEgress) {
      this.egressNetwork = new docker.Network(`${name}-egress`, { internal: false, labels }, child);
    }
    const internal = (aliases: string[] = []) => ({ name: this.internalNetwork.name, ...(aliases.length && { aliases }) });

    // Volumes of state: protected and kept on delete in prod.
    const volumes: Record<string, docker.Volume> = {};
    const volume = (key: string) => {
      volumes[key] = new docker.Volume(`${name}-${key}`, { labels }, stateOpts);
      return volumes[key]!;
    };
    for (const v of app.backend.volumes) volume(v.name);
    const backendMounts = app.backend.volumes.map((v) => ({ volumeName: volumes[v.name]!.name, containerPath: v.mountPath }));

    // Images, kept on the host after replacement so a rollback does not wait for a pull.
    const image = (key: string, ref: string) => new docker.RemoteImage(`${name}-${key}-image`, { name: ref, keepLocally: true }, child);
    const backendImage = image("backend", app.backend.image);

    // Secret environment of the backend, one entry per variable so plain ones stay readable.
    const backendEnv: pulumi.Input<string>[] = Object.entries(app.backend.env).map(([k, v]) => `${k}=${v}`);
    const secretEnv: [string, pulumi.Output<string>][] = Object.entries(args.secrets.env);

    // Database.
    const dependsOnState: pulumi.Resource[] = Object.values(volumes);
    if (app.database.engine === "postgres") {
      const db = app.database;
      const password = args.secrets.databasePassword;
      if (!password) throw new Error("`secrets.databasePassword` must be given for a PostgreSQL app");
      const dataVolume = volume("pgdata");
      this.database = new docker.Container(
        `${name}-db`,
        {
          image: image("db", db.image).imageId,
          envs: [`POSTGRES_USER=${db.user}`, `POSTGRES_DB=${db.database}`, pulumi.secret(pulumi.interpolate`POSTGRES_PASSWORD=${password}`)],
          volumes: [{ volumeName: dataVolume.name, containerPath: DATA_PATHS.postgres }],
          networksAdvanced: [internal([ALIASES.database])],
          ...longRunning("database", postgresHealthcheck(db.user, db.database), db.limits),
        },
        { ...child, ...SECRET_ENV },
      );
      dependsOnState.push(this.database);
      secretEnv.push([
        "DATABASE_URL",
        pulumi.secret(pulumi.interpolate`postgresql://${db.user}:${password}@${ALIASES.database}:${db.port}/${db.database}`),
      ]);
    }

    // Cache.
    if (app.cache) {
      const dataVolume = volume("redis-data");
      this.cache = new docker.Container(
        `${name}-redis`,
        {
          image: image("redis", app.cache.image).imageId,
          command: ["redis-server", "--appendonly", "yes"],
          volumes: [{ volumeName: dataVolume.name, containerPath: DATA_PATHS.redis }],
          networksAdvanced: [internal([ALIASES.cache])],
          ...longRunning("cache", redisHealthcheck(), app.cache.limits),
        },
        child,
      );
      dependsOnState.push(this.cache);
      backendEnv.push(`REDIS_URL=redis://${ALIASES.cache}:${app.cache.port}/0`);
    }
    const envs: pulumi.Input<string>[] = [
      ...backendEnv,
      ...secretEnv.map(([k, v]) => pulumi.secret(pulumi.interpolate`${k}=${v}`)),
    ];

    // Migrations: a one-off container of the new image, after the database is healthy and
    // before any backend replica is replaced. Re-runs whenever the backend image changes.
    const backendDeps: pulumi.Resource[] = [...dependsOnState];
    if (app.backend.migrationCommand) {
      // One KEY=value per line: validateArgs has refused values with a newline.
      const envFile = pulumi.all(envs).apply((lines) => `${lines.join("\n")}\n`);
      const mountArgs = pulumi
        .all(app.backend.volumes.map((v) => volumes[v.name]!.name))
        .apply((names) => names.flatMap((n, i) => ["-v", `${n}:${app.backend.volumes[i]!.mountPath}`]));
      this.migration = deployCommand(
        `${name}-migrate`,
        {
          host: app.host,
          create: pulumi
            .all([this.internalNetwork.name, backendImage.imageId, mountArgs])
            .apply(([network, imageId, mounts]) =>
              shellJoin(["docker", "run", "--rm", "--network", network, "--env-file", "/dev/stdin", ...mounts, imageId, ...app.backend.migrationCommand!]),
            ),
          stdin: pulumi.secret(envFile),
          triggers: [backendImage.imageId],
        },
        { parent: this, dependsOn: [...dependsOnState, ...(args.beforeMigrations ?? [])] },
      );
      backendDeps.push(this.migration);
    }

    // Backend replicas: no host port, so the provider's create-before-delete replacement keeps
    // the old replica serving until the new one is healthy.
    const egress = this.egressNetwork ? [{ name: this.egressNetwork.name }] : [];
    const backendNetworks = (i: number) => [internal([ALIASES.backend, backendAlias(i)]), ...egress];
    this.backendReplicas = Array.from({ length: app.backend.replicas }, (_, i) =>
      new docker.Container(
        `${name}-backend-${i}`,
        {
          image: backendImage.imageId,
          envs,
          volumes: backendMounts,
          networksAdvanced: backendNetworks(i),
          ...longRunning("backend", httpHealthcheck(app.backend.runtime, app.backend.port, app.backend.healthPath), app.backend.limits),
        },
        { ...child, ...SECRET_ENV, dependsOn: backendDeps },
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
            envs,
            volumes: backendMounts,
            networksAdvanced: [internal(), ...egress],
            ...longRunning("worker", shellHealthcheck(w.healthcheck), w.limits),
          },
          { ...child, ...SECRET_ENV, dependsOn: backendDeps },
        ),
      ),
    );

    // Frontend: behind the proxy, or (an admin UI) on 127.0.0.1 only.
    if (app.frontend) {
      const fe = app.frontend;
      this.frontend = new docker.Container(
        `${name}-frontend`,
        {
          image: image("frontend", fe.image).imageId,
          envs: Object.entries(fe.env).map(([k, v]) => `${k}=${v}`),
          networksAdvanced: [internal([ALIASES.frontend])],
          ...(fe.adminPort !== undefined && { ports: [{ internal: fe.port, external: fe.adminPort, ip: "127.0.0.1" }] }),
          ...longRunning(fe.adminPort !== undefined ? "admin" : "frontend", httpHealthcheck(fe.runtime, fe.port, fe.healthPath), fe.limits),
        },
        child,
      );
    }

    // Proxy: the only container that publishes host ports.
    this.nginxConfig = renderNginxConfig(proxyNginxSpec(app));
    const tls = app.proxy.tls;
    this.proxy = new docker.Container(
      `${name}-proxy`,
      {
        image: image("proxy", app.proxy.image).imageId,
        uploads: [
          { file: PROXY_PATHS.config, content: this.nginxConfig },
          { file: `${PROXY_PATHS.maintenanceRoot}/maintenance.html`, content: renderMaintenancePage(app.displayName) },
        ],
        ports: [
          { internal: 80, external: app.proxy.httpPort },
          ...(tls ? [{ internal: 443, external: app.proxy.httpsPort }] : []),
        ],
        ...(tls && {
          volumes: [
            { hostPath: tls.certificateFile, containerPath: PROXY_PATHS.tlsCertificate, readOnly: true },
            { hostPath: tls.keyFile, containerPath: PROXY_PATHS.tlsKey, readOnly: true },
          ],
        }),
        networksAdvanced: [{ name: this.publicNetwork.name }, internal()],
        ...longRunning("proxy", httpHealthcheck("nginx", 80, PROXY_PATHS.selfHealth), app.proxy.limits),
      },
      // A published host port cannot be bound twice: the old proxy goes first.
      { ...child, deleteBeforeReplace: true, dependsOn: [...this.backendReplicas, ...(this.frontend ? [this.frontend] : [])] },
    );

    // nginx resolves replica aliases when it loads its config: reload it once replicas change.
    const replicaIds = this.backendReplicas.map((c) => c.id);
    this.proxyReload = deployCommand(
      `${name}-proxy-reload`,
      {
        host: app.host,
        create: this.proxy.name.apply((proxyName) => shellJoin(["docker", "exec", proxyName, "nginx", "-s", "reload"])),
        triggers: [this.proxy.id, ...replicaIds],
      },
      { parent: this, dependsOn: [this.proxy, ...this.backendReplicas] },
    );

    // Health gate: every health endpoint through the proxy, bounded retries; failure fails `pulumi up`.
    const scheme = tls ? "https" : "http";
    const gatePort = tls ? app.proxy.httpsPort : app.proxy.httpPort;
    const gateScript = renderHealthGateScript({
      appName: app.id,
      baseUrl: `${scheme}://127.0.0.1:${gatePort}`,
      endpoints: app.proxy.maintenance ? maintenanceOpenEndpoints(app.proxy) : app.proxy.healthEndpoints,
      attempts: app.healthGate.attempts,
      intervalSeconds: app.healthGate.intervalSeconds,
      insecureTls: Boolean(tls),
    });
    this.healthGate = deployCommand(
      `${name}-health-gate`,
      { host: app.host, create: gateScript, triggers: [this.proxy.id, this.proxyReload.id, ...replicaIds] },
      { parent: this, dependsOn: [this.proxy, this.proxyReload] },
    );

    this.volumes = volumes;
    const hostName = app.host.kind === "ssh" ? app.host.host : "localhost";
    this.endpoint = `${scheme}://${hostName}:${gatePort}`;
    this.release = {
      backend: app.backend.image,
      ...(app.frontend && { frontend: app.frontend.image }),
      proxy: app.proxy.image,
    };
    this.registerOutputs({ endpoint: this.endpoint, release: this.release });
  }
}

function validateArgs({ app, secrets }: AppStackArgs): void {
  if (!Number.isInteger(app.backend.replicas) || app.backend.replicas < 1) {
    throw new Error(`\`app.backend.replicas\` must be a whole number of at least 1 (got ${app.backend.replicas})`);
  }
  if (app.proxy.tls && app.proxy.httpsPort === app.proxy.httpPort) {
    throw new Error("`app.proxy.httpsPort` must differ from `app.proxy.httpPort`");
  }
  if (app.frontend?.adminPort !== undefined && [app.proxy.httpPort, app.proxy.httpsPort].includes(app.frontend.adminPort)) {
    throw new Error(`\`app.frontend.adminPort\` ${app.frontend.adminPort} clashes with a proxy port`);
  }
  for (const s of app.backend.secretEnv) {
    if (s.name in app.backend.env) {
      throw new Error(`\`app.backend.env.${s.name}\` is a secret variable: it must not be set as plain environment`);
    }
  }
  // Migrations read the environment from a docker env file, one KEY=value per line.
  const values: [string, string][] = [...Object.entries(app.backend.env), ...Object.entries(app.externalSecrets)];
  for (const [key, value] of values) {
    if (/[\r\n]/.test(value)) {
      throw new Error(`\`${key}\` of ${app.id} spans several lines, which a docker env file cannot carry; give it base64-encoded`);
    }
  }
  for (const name of Object.keys(secrets.env)) {
    if (!app.backend.secretEnv.some((s) => s.name === name)) {
      throw new Error(`\`secrets.env.${name}\` is not a secret variable of ${app.id}`);
    }
  }
}
