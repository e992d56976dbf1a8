/**
 * DatabaseRoles: the deploy step that applies the database login roles' passwords to the running
 * PostgreSQL (databaseRolesScript.ts), before anything of the release uses them. program.ts creates
 * it in AppStack's pre-deploy seam, which orders it after the database is up and before migrations,
 * the release task, replicas and workers: the new backends start with the role that has just been
 * given its new password, and the old ones keep the other role, whose password is unchanged, until
 * they are removed at the end of the update.
 *
 * It re-runs when its input changes: a new password (the stdin's verifiers) runs it as an update,
 * which runs `create` again (@pulumi/command: an update without an `update` command re-runs `create`),
 * and a new database container (a new data directory) replaces it (`triggers`).
 */
import type * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { AppSpec } from "../../config/spec";
import { deployCommand, type DeployCommand } from "../app/deployCommand";
import { ALIASES } from "../app/nginxConfig";
import { shellJoin } from "../shared/shell";
import { DATABASE_PASSWORD, type DatabaseCredentials } from "./appSecrets";
import { renderDatabaseRolesScript, renderDatabaseRolesSql, renderDatabaseRolesStdin, rolesSpecProblem, type DatabaseRolesSpec } from "./databaseRolesScript";
import { windowIndex } from "./rotationWindow";
import { roleVerifier } from "./scramVerifier";

export interface DatabaseRolesArgs {
  /** The app: its Docker host, its PostgreSQL database and its rotation clock. */
  readonly app: Pick<AppSpec, "id" | "host" | "database" | "rotation">;
  /** The app's database credentials (AppSecrets.database). */
  readonly credentials: DatabaseCredentials;
  /** The running database container the step reaches with `docker exec`. */
  readonly database: docker.Container;
  /** Seconds the step waits for PostgreSQL to accept connections. Default 60. */
  readonly waitSeconds?: number;
  /** Steps that run first (the pre-deploy backup: the data is captured before anything changes). */
  readonly after?: readonly pulumi.Resource[];
}

const DEFAULTS = { waitSeconds: 60 } as const;

export class DatabaseRoles extends pulumi.ComponentResource {
  /** The deploy step; what the pre-deploy seam waits for. */
  public readonly step: DeployCommand;
  /** The login role DATABASE_URL uses once the step has run. */
  public readonly activeRole: string;

  constructor(name: string, args: DatabaseRolesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook:secrets:DatabaseRoles", name, {}, opts);
    const { app, credentials } = args;
    if (app.database.engine !== "postgres") throw new Error(`\`app.database\`: ${app.id} uses SQLite; it has no database roles to rotate`);
    const { roles, activeSlot } = credentials;
    const period = app.rotation.periods[DATABASE_PASSWORD] ?? app.rotation.periodDays;
    const spec: DatabaseRolesSpec = {
      owner: credentials.owner,
      database: app.database.database,
      roles: { a: roles.a.name, b: roles.b.name },
      activeRole: roles[activeSlot].name,
      checkHost: ALIASES.database,
      waitSeconds: args.waitSeconds ?? DEFAULTS.waitSeconds,
      window: windowIndex(app.rotation.now, period),
      generation: app.rotation.generation,
    };
    const problem = rolesSpecProblem(spec);
    if (problem) throw new Error(`\`credentials\`: ${problem}`);
    const script = renderDatabaseRolesScript(spec);
    const stdin = pulumi
      .all([roles.a.password, roles.b.password])
      .apply(([a, b]) => renderDatabaseRolesStdin(activeSlot === "a" ? a : b, renderDatabaseRolesSql(spec, { a: roleVerifier(a, roles.a.name), b: roleVerifier(b, roles.b.name) })));
    this.step = deployCommand(
      `${name}-rotate`,
      {
        host: app.host,
        create: args.database.name.apply((db) => shellJoin(["docker", "exec", "-i", db, "sh", "-c", script])),
        stdin: pulumi.secret(stdin),
        triggers: [args.database.id],
      },
      { parent: this, dependsOn: [args.database, ...(args.after ?? [])] },
    );
    this.activeRole = spec.activeRole;
    this.registerOutputs({ activeRole: this.activeRole });
  }
}
