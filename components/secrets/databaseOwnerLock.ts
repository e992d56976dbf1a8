/**
 * DatabaseOwnerLock: once the release is healthy, the database's owner role (the image's
 * POSTGRES_USER) loses its password, so the two login roles are the only password credentials and
 * rotating them rotates every one. The owner stays reachable the runbooks' way, `docker exec <db>
 * psql`, over the local socket (trust in the postgres image). It runs after the health gate: an app
 * deployed before rotation existed connected as the owner, and its old backends serve no request
 * once the proxy names the new ones.
 */
import type * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { AppSpec } from "../../config/spec";
import { deployCommand, type DeployCommand } from "../app/deployCommand";
import { shellJoin } from "../shared/shell";
import { renderOwnerLockSql } from "./databaseRolesScript";

export interface DatabaseOwnerLockArgs {
  /** The app: its Docker host and its PostgreSQL database. */
  readonly app: Pick<AppSpec, "id" | "host" | "database">;
  /** The running database container. */
  readonly database: docker.Container;
  /** What must have finished first: the release's health gate. */
  readonly after: readonly pulumi.Resource[];
}

export class DatabaseOwnerLock extends pulumi.ComponentResource {
  public readonly step: DeployCommand;

  constructor(name: string, args: DatabaseOwnerLockArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook:secrets:DatabaseOwnerLock", name, {}, opts);
    const db = args.app.database;
    if (db.engine !== "postgres") throw new Error(`\`app.database\`: ${args.app.id} uses SQLite; it has no owner role`);
    if (args.after.length === 0) throw new Error("`after` must name the release's health gate: the owner may lose its password only once nothing uses it");
    this.step = deployCommand(
      `${name}-step`,
      {
        host: args.app.host,
        create: args.database.name.apply((name) => shellJoin(["docker", "exec", "-i", name, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-U", db.user, "-d", db.database])),
        stdin: renderOwnerLockSql(db.user),
        triggers: [args.database.id],
      },
      { parent: this, dependsOn: [args.database, ...args.after] },
    );
    this.registerOutputs({});
  }
}
