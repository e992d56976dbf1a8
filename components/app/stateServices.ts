/**
 * An app's state servers on its Docker host: PostgreSQL and Redis, each on a protected volume, and
 * what the backends are told about them (the database URL of the active login role, the replicas'
 * addresses, the cache URL). Both are replaced delete-first: two servers must never run on one data
 * directory. Called by AppStack, which owns the volumes, images and networks.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { AppSpec } from "../../config/spec";
import type { AppStackArgs } from "./appStackArgs";
import { longRunningSettings, postgresHealthcheck, redisHealthcheck } from "./containerDefaults";
import { ALIASES } from "./nginxConfig";
import { replicaEnv } from "./readReplicas";

/** Mount path of the PostgreSQL and Redis data volumes. */
const DATA_PATHS = { postgres: "/var/lib/postgresql/data", redis: "/data" } as const;

/**
 * Containers whose environment carries secrets keep `envs` secret in the state's outputs too
 * (the policy pack checks for it: CrossGuard cannot see whether an input was a secret).
 */
export const SECRET_ENV: pulumi.CustomResourceOptions = { additionalSecretOutputs: ["envs"] };

/** No host port, no data directory of its own: start the replacement first (zero downtime). */
export const REPLACE_FIRST = { deleteBeforeReplace: false } as const;
/** A host port or a data directory that two containers cannot share: remove the old one first. */
export const DELETE_FIRST = { deleteBeforeReplace: true } as const;

export interface StateServicesArgs {
  readonly app: AppSpec;
  readonly secrets: AppStackArgs["secrets"];
  /** `{ parent, provider }` of every container. */
  readonly child: pulumi.CustomResourceOptions;
  /** Labels and log rotation every container of the app carries. */
  readonly common: Pick<Parameters<typeof longRunningSettings>[0], "labels" | "logRotation">;
  readonly network: docker.Network;
  /** AppStack's state volume by key (created once, protected in prod, adopted where asked). */
  readonly volume: (key: string) => docker.Volume;
  /** AppStack's image by key, kept on the host. */
  readonly image: (key: string, ref: string) => docker.RemoteImage;
  /** What must be gone first (adoption: the compose servers holding the same data). */
  readonly after: pulumi.Input<pulumi.Resource[]> | pulumi.Resource[];
}

export interface StateServices {
  readonly database?: docker.Container;
  readonly cache?: docker.Container;
  /** Plain variables for the backends. */
  readonly env: string[];
  /** Secret variables for the backends. */
  readonly secretEnv: [string, pulumi.Output<string>][];
}

export function deployStateServices(name: string, args: StateServicesArgs): StateServices {
  const { app, child, common, volume, image } = args;
  const internal = (aliases: string[]) => [{ name: args.network.name, aliases }];
  const env: string[] = [];
  const secretEnv: [string, pulumi.Output<string>][] = [];
  let database: docker.Container | undefined;
  let cache: docker.Container | undefined;

  if (app.database.engine === "postgres") {
    const db = app.database;
    const credentials = args.secrets.database;
    if (!credentials) throw new Error("`secrets.database` must be given for a PostgreSQL app");
    // The app connects as the login role of this rotation window (AppSecrets, DatabaseRoles).
    const active = credentials.roles[credentials.activeSlot];
    const dataVolume = volume("pgdata");
    database = new docker.Container(
      `${name}-db`,
      {
        image: image("db", db.image).imageId,
        envs: [`POSTGRES_USER=${db.user}`, `POSTGRES_DB=${db.database}`, pulumi.secret(pulumi.interpolate`POSTGRES_PASSWORD=${credentials.bootstrapPassword}`)],
        volumes: [{ volumeName: dataVolume.name, containerPath: DATA_PATHS.postgres }],
        networksAdvanced: internal([ALIASES.database]),
        ...longRunningSettings({ ...common, role: "database", service: "database", health: postgresHealthcheck(db.user, db.database), limits: db.limits }),
      },
      { ...child, ...SECRET_ENV, ...DELETE_FIRST, dependsOn: args.after },
    );
    // Direct to PostgreSQL: what the one-off steps (migrations, the release task) get, pooler or not.
    secretEnv.push(["DATABASE_URL", pulumi.secret(pulumi.interpolate`postgresql://${active.name}:${active.password}@${ALIASES.database}:${db.port}/${db.database}`)]);
    // Read replicas: where backends may send reads (DATABASE_URL, migrations, backups and the roles
    // step stay on the primary). The app's code must read these to use them.
    if (db.readReplicas > 0) {
      const replicas = replicaEnv(db.readReplicas, active, db);
      env.push(`DATABASE_REPLICA_HOSTS=${replicas.DATABASE_REPLICA_HOSTS}`);
      secretEnv.push(["DATABASE_REPLICA_URL", replicas.DATABASE_REPLICA_URL]);
    }
  }

  // Cache: an append-only file on a protected volume where Redis holds what the app needs after a
  // restart (sessions, the RQ queue); a cache only keeps nothing.
  if (app.cache) {
    const persistent = app.cache.persistent;
    const dataVolume = persistent ? volume("redis-data") : undefined;
    cache = new docker.Container(
      `${name}-redis`,
      {
        image: image("redis", app.cache.image).imageId,
        command: persistent ? ["redis-server", "--appendonly", "yes"] : ["redis-server", "--save", "", "--appendonly", "no"],
        ...(dataVolume && { volumes: [{ volumeName: dataVolume.name, containerPath: DATA_PATHS.redis }] }),
        networksAdvanced: internal([ALIASES.cache]),
        ...longRunningSettings({ ...common, role: "cache", service: "cache", health: redisHealthcheck(), limits: app.cache.limits }),
      },
      { ...child, ...DELETE_FIRST, dependsOn: args.after },
    );
    env.push(`REDIS_URL=redis://${ALIASES.cache}:${app.cache.port}/0`);
  }
  return { database, cache, env, secretEnv };
}
