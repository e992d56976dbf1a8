/**
 * PostgreSQL streaming read replicas of an app (`database.readReplicas`; FairLens runbook
 * "Horizontal Scaling": "Database: Read replicas for read-heavy workloads", LMS runbook "Database
 * Scaling": "Read Replicas: For read-heavy workloads"). AppStack declares them after the database
 * and the pre-deploy seam, before migrations and backends:
 *
 * 1. `<app>-replication`, a deploy step inside the primary (`docker exec`): the replication role with
 *    the generated password's SCRAM verifier (on the step's stdin, a Pulumi secret), and one pg_hba
 *    rule, first in the file, that admits replication from the app's internal network only. It re-runs
 *    when the password changes (a rotation window) and when the primary container is new.
 * 2. `<app>-db-replica-<n>`: the app's own pinned PostgreSQL image, as the postgres user, on the
 *    internal network only (aliases `db-replica` and `db-replica-<n>`), on a volume of its own,
 *    entered by the rendered script (readReplicaScripts.ts): clone with `pg_basebackup -R`, then
 *    `postgres -c hot_standby=on`. PGPASSWORD is its only secret, in `envs`, kept secret in state.
 *
 * Replacement: a replica owns a data directory, so it is replaced delete-first (also pulumi-docker's
 * default for containers, docs/engine-evidence.md items 1 and 19); its replacement starts on the same
 * volume and streams again without a new clone unless the primary became another cluster. The primary
 * container being replaced on the same volume (a new image tag of the same major version) does not
 * replace the replicas (they depend on it by `dependsOn` only): their WAL receivers reconnect to the
 * new container by its alias. A primary on a new data volume does (PRIMARY_VOLUME_LABEL), and so
 * does a new image (the replicas run the same one): their entry clones again where the cluster or
 * the major version changed.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { AppSpec } from "../../config/spec";
import { stateVolume } from "../adoption/adoptionSteps";
import { roleVerifier } from "../secrets/scramVerifier";
import { shellJoin } from "../shared/shell";
import { longRunningSettings, type LongRunningSpec } from "./containerDefaults";
import { deployCommand, type DeployCommand } from "./deployCommand";
import { ALIASES } from "./nginxConfig";
import { REPLICATION_ROLE, renderPrimarySetupScript, renderReplicaInitScript, renderReplicationRoleSql, replicaHealthcheck } from "./readReplicaScripts";

/** The network alias every replica shares (DATABASE_REPLICA_URL's host); each also has `db-replica-<n>`. */
export const REPLICA_ALIAS = "db-replica";

/** The label naming the primary's data volume on every replica. */
export const PRIMARY_VOLUME_LABEL = "runbook.primary-volume";

/** Where the postgres image keeps its data directory (its PGDATA). */
const DATA_PATH = "/var/lib/postgresql/data";

/** Seconds the replication step waits for the primary to accept connections. */
const WAIT_SECONDS = 60;

type PostgresSpec = Extract<AppSpec["database"], { engine: "postgres" }>;

export interface ReadReplicasArgs {
  readonly app: AppSpec;
  readonly database: PostgresSpec;
  readonly parent: pulumi.Resource;
  readonly provider: docker.Provider;
  /** The primary's image (the replicas run the very same one). */
  readonly image: pulumi.Input<string>;
  readonly network: docker.Network;
  /** The running primary. */
  readonly primary: docker.Container;
  /**
   * The primary's data volume: its name is a label of every replica (labels force a new container),
   * so a primary on a new data directory replaces the replicas, whose entry then clones it again.
   */
  readonly primaryVolume: docker.Volume;
  /** The replication password (AppSecrets.replicationPassword). */
  readonly password: pulumi.Output<string>;
  /** Labels and log rotation every container of the app gets. */
  readonly common: Pick<LongRunningSpec, "logRotation"> & { readonly labels: readonly { readonly label: string; readonly value: string }[] };
  /** Steps the replicas wait for (the pre-deploy seam: a recovery stack's restore, the roles step). */
  readonly after: readonly pulumi.Resource[];
}

export interface ReadReplicas {
  readonly step: DeployCommand;
  readonly containers: readonly docker.Container[];
  readonly volumes: readonly docker.Volume[];
}

/**
 * The variables backends read the replicas by (the app's code must use them: README): the host names
 * of every replica (plain), and a URL at the alias they share, with the app's login role (secret).
 */
export function replicaEnv(count: number, role: { readonly name: string; readonly password: pulumi.Output<string> }, db: Pick<PostgresSpec, "port" | "database">) {
  return {
    DATABASE_REPLICA_HOSTS: Array.from({ length: count }, (_, i) => `${REPLICA_ALIAS}-${i}`).join(","),
    DATABASE_REPLICA_URL: pulumi.secret(pulumi.interpolate`postgresql://${role.name}:${role.password}@${REPLICA_ALIAS}:${db.port}/${db.database}`),
  };
}

export function deployReadReplicas(name: string, args: ReadReplicasArgs): ReadReplicas {
  const { app, database: db } = args;
  const count = db.readReplicas;
  if (!Number.isInteger(count) || count < 1) throw new Error(`\`database.readReplicas\` must be a whole number of at least 1 here (got ${count})`);
  const child = { parent: args.parent, provider: args.provider };
  const script = renderPrimarySetupScript({ owner: db.user, database: db.database, waitSeconds: WAIT_SECONDS });
  const step = deployCommand(
    `${name}-replication`,
    {
      host: app.host,
      create: args.primary.name.apply((c) => shellJoin(["docker", "exec", "-i", c, "sh", "-c", script])),
      stdin: pulumi.secret(args.password.apply((p) => renderReplicationRoleSql(roleVerifier(p, REPLICATION_ROLE)))),
      // A new primary container re-runs it (its pg_hba.conf may be new); a new password updates it.
      triggers: [args.primary.id],
    },
    { parent: args.parent, dependsOn: [args.primary, ...args.after] },
  );
  const stateOpts: pulumi.CustomResourceOptions = { ...child, protect: app.protectState, retainOnDelete: app.protectState };
  const labels = [...args.common.labels];
  const volumes: docker.Volume[] = [];
  const replicaLabels = [...labels, { label: PRIMARY_VOLUME_LABEL, value: args.primaryVolume.name }];
  const containers = Array.from({ length: count }, (_, i) => {
    const volume = stateVolume(`${name}-pgdata-replica-${i}`, `pgdata-replica-${i}`, app, labels, stateOpts);
    volumes.push(volume);
    return new docker.Container(
      `${name}-db-replica-${i}`,
      {
        image: args.image,
        user: "postgres",
        entrypoints: ["sh", "-c", renderReplicaInitScript({ primaryHost: ALIASES.database, primaryPort: db.port, applicationName: `${app.id}-replica-${i}` })],
        command: ["replica"],
        envs: [pulumi.secret(pulumi.interpolate`PGPASSWORD=${args.password}`)],
        volumes: [{ volumeName: volume.name, containerPath: DATA_PATH }],
        networksAdvanced: [{ name: args.network.name, aliases: [REPLICA_ALIAS, `${REPLICA_ALIAS}-${i}`] }],
        ...longRunningSettings({ ...args.common, labels: replicaLabels, role: "database-replica", service: "database-replica", health: replicaHealthcheck(db.user, db.database), limits: db.limits }),
      },
      { ...child, additionalSecretOutputs: ["envs"], deleteBeforeReplace: true, dependsOn: [step, ...args.after] },
    );
  });
  return { step, containers, volumes };
}
