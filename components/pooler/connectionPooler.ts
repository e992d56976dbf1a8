/**
 * ConnectionPooler: PgBouncer in front of an app's PostgreSQL (LMS runbook, "Database Scaling": "Connection
 * Pooling: PgBouncer for connection management"), on the app's internal network, and the deploy step
 * that gives it the login roles' SCRAM verifiers (pgbouncerConfig.ts says why an auth file and not
 * auth_query). Backends and workers connect through it; everything that needs a session of its own
 * on PostgreSQL stays direct (AppStack: migrations and the release task, the backup, verify and restore
 * jobs, the role step, the owner lock, the monitoring exporter).
 *
 * The backends reach the pooler by its container name, not a shared alias (as the proxy reaches the
 * backends): a replaced pooler has a new name, so the backends are replaced after it, once the new
 * one has its auth file, and the old backends keep the old pooler until the end of the update.
 *
 * Re-runs: a new password changes the step's stdin, an update, which runs `create` again
 * (@pulumi/command: no `update` command, so `create`); a new pooler container replaces the step
 * (`triggers`). docs/engine-evidence.md item 20.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { PoolerSpec } from "../../config/pooler";
import type { AppSpec } from "../../config/spec";
import { longRunningSettings, shellHealthcheck } from "../app/containerDefaults";
import { deployCommand, type DeployCommand } from "../app/deployCommand";
import { ALIASES } from "../app/nginxConfig";
import { shellJoin } from "../shared/shell";
import type { DatabaseCredentials } from "../secrets/appSecrets";
import { roleVerifier } from "../secrets/scramVerifier";
import {
  poolerHealthcheckArgv,
  POOLER_PATHS,
  renderPgbouncerAuthFile,
  renderPgbouncerIni,
  renderPoolerAuthScript,
  renderPoolerAuthStdin,
  type AuthEntry,
} from "./pgbouncerConfig";

export interface ConnectionPoolerArgs {
  /** The app: its Docker host, its PostgreSQL database, its log rotation. */
  readonly app: Pick<AppSpec, "id" | "host" | "database" | "logRotation">;
  /** The pooler's settings (`apps.<id>.database.pooler`, resolved). */
  readonly pooler: PoolerSpec;
  /** The app's database credentials (AppSecrets.database): both login roles go in the auth file. */
  readonly credentials: DatabaseCredentials;
  /** The app's internal network: PostgreSQL is reached on it, and the backends reach the pooler on it. */
  readonly network: docker.Network;
  readonly provider: docker.Provider;
  /** Labels every container of the app carries (app, environment). */
  readonly labels: readonly { readonly label: string; readonly value: string }[];
  /** The database container: the pooler starts after it. */
  readonly database: docker.Container;
  /** Steps the auth step waits for: the role step, which gives PostgreSQL the same verifiers first. */
  readonly after?: readonly pulumi.Resource[];
  /** A read-only user of PgBouncer's SHOW views, for the metrics exporter. */
  readonly stats?: { readonly user: string; readonly password: pulumi.Output<string> };
  /** Seconds the auth step waits for PgBouncer to take the new file. Default 30. */
  readonly waitSeconds?: number;
}

const DEFAULTS = { waitSeconds: 30 } as const;

export class ConnectionPooler extends pulumi.ComponentResource {
  public readonly container: docker.Container;
  /** Installs the auth file and tests the active role through the pooler; what the backends wait for. */
  public readonly authStep: DeployCommand;
  /** The host the backends connect to: the pooler container's name. */
  public readonly host: pulumi.Output<string>;
  public readonly port: number;
  /** pgbouncer.ini, as uploaded (no secret in it). */
  public readonly config: string;

  constructor(name: string, args: ConnectionPoolerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook:pooler:ConnectionPooler", name, {}, opts);
    const { app, pooler, credentials } = args;
    const db = app.database;
    if (db.engine !== "postgres") throw new Error(`\`app.database\`: ${app.id} uses SQLite; PgBouncer pools PostgreSQL connections only`);
    const child = { parent: this, provider: args.provider };
    this.port = pooler.port;
    this.config = renderPgbouncerIni({
      database: db.database,
      server: { host: ALIASES.database, port: db.port },
      listen: { address: "*", port: pooler.port },
      poolMode: pooler.poolMode,
      defaultPoolSize: pooler.defaultPoolSize,
      maxClientConn: pooler.maxClientConn,
      authFile: POOLER_PATHS.authFile,
      pidFile: POOLER_PATHS.pidFile,
      ...(args.stats && { statsUsers: [args.stats.user] }),
    });

    const image = new docker.RemoteImage(`${name}-image`, { name: pooler.image, keepLocally: true }, child);
    this.container = new docker.Container(
      `${name}-pgbouncer`,
      {
        image: image.imageId,
        // PgBouncer itself as PID 1, with the rendered file: nothing of the image's entrypoint writes config.
        entrypoints: ["pgbouncer"],
        command: [POOLER_PATHS.config],
        uploads: [{ file: POOLER_PATHS.config, content: this.config }],
        // Emptied on every start of the container: no stale pid file (POOLER_PATHS). World-writable (1777), as Docker's default.
        tmpfs: { [POOLER_PATHS.runDir]: "rw,noexec,nosuid,size=1m,mode=1777" },
        networksAdvanced: [{ name: args.network.name }],
        ...longRunningSettings({
          labels: args.labels,
          logRotation: app.logRotation,
          role: "pooler",
          service: "pooler",
          health: shellHealthcheck(shellJoin(poolerHealthcheckArgv(pooler.port))),
          limits: pooler.limits,
        }),
      },
      // No host port, no data: the replacement starts first; the backends follow it by its name.
      { ...child, deleteBeforeReplace: false, dependsOn: [args.database] },
    );
    this.host = this.container.name;

    const { roles, activeSlot } = credentials;
    const script = renderPoolerAuthScript({
      authFile: POOLER_PATHS.authFile,
      pidFile: POOLER_PATHS.pidFile,
      activeRole: roles[activeSlot].name,
      database: db.database,
      port: pooler.port,
      waitSeconds: args.waitSeconds ?? DEFAULTS.waitSeconds,
    });
    const statsPassword = args.stats?.password ?? pulumi.output("");
    const stdin = pulumi.all([roles.a.password, roles.b.password, statsPassword]).apply(([a, b, stats]) => {
      const entries: AuthEntry[] = [
        { user: roles.a.name, verifier: roleVerifier(a, roles.a.name) },
        { user: roles.b.name, verifier: roleVerifier(b, roles.b.name) },
        ...(args.stats ? [{ user: args.stats.user, verifier: roleVerifier(stats, args.stats.user) }] : []),
      ];
      return renderPoolerAuthStdin(activeSlot === "a" ? a : b, renderPgbouncerAuthFile(entries));
    });
    this.authStep = deployCommand(
      `${name}-auth`,
      {
        host: app.host,
        create: this.container.name.apply((n) => shellJoin(["docker", "exec", "-i", n, "sh", "-c", script])),
        stdin: pulumi.secret(stdin),
        triggers: [this.container.id],
      },
      { parent: this, dependsOn: [this.container, ...(args.after ?? [])] },
    );
    this.registerOutputs({ host: this.host, port: this.port });
  }

  /** The URL a backend connects with: the role's own credentials, through the pooler. A Pulumi secret. */
  public databaseUrl(role: { readonly name: string; readonly password: pulumi.Output<string> }, database: string): pulumi.Output<string> {
    return pulumi.secret(pulumi.interpolate`postgresql://${role.name}:${role.password}@${this.host}:${this.port}/${database}`);
  }
}
