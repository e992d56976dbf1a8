/** AppStack's arguments, and the checks it runs on them before it declares any resource. */
import type * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import { secretVariableNames } from "../../apps/secretSlots";
import type { AppSpec } from "../../config/spec";
import type { AppSecrets } from "../secrets/appSecrets";
import type { OneOffRunner } from "./oneOff";

export interface AppStackArgs {
  /** The app, fully resolved from the catalog and the stack config. */
  readonly app: AppSpec;
  /**
   * The app's secret values (generated and external) and, for PostgreSQL, its credentials: the
   * bootstrap password of the database container and the login role DATABASE_URL uses.
   */
  readonly secrets: Pick<AppSecrets, "env" | "database"> & Partial<Pick<AppSecrets, "replicationPassword">>;
  /**
   * Steps that must finish before migrations, the release task, replicas and workers (LMS runbook:
   * "1. Create backup" before "migrate"). Empty by default.
   */
  readonly beforeMigrations?: readonly pulumi.Resource[];
  /**
   * The same seam, for steps that need the app's state services: called once the database, cache
   * and volumes are declared, its resources are waited for like `beforeMigrations` (a pre-deploy
   * backup dumps the running database; a recovery stack restores into it before any backend starts).
   */
  readonly preDeploy?: (state: PreDeployState) => readonly pulumi.Resource[];
}

/** What the pre-deploy seam is handed: the app's state services, as AppStack declared them. */
export interface PreDeployState {
  /** The PostgreSQL container, where the app has one. */
  readonly database?: docker.Container;
  /** Volumes of state by name (`data`, `uploads`, `pgdata`, `redis-data`). */
  readonly volumes: Readonly<Record<string, docker.Volume>>;
  readonly internalNetwork: docker.Network;
  /** The new release's backend image (its id changes when the release does). */
  readonly backendImage: docker.RemoteImage;
  /** The app's Docker provider. */
  readonly provider: docker.Provider;
  /** Runs a one-off container with the app's environment (a rollback's down-migration with the newer image). */
  readonly oneOff: OneOffRunner;
}

export function validateArgs({ app, secrets }: AppStackArgs): void {
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
  const variables = secretVariableNames(app.backend.secretEnv);
  for (const name of Object.keys(secrets.env)) {
    if (!variables.includes(name)) {
      throw new Error(`\`secrets.env.${name}\` is not a secret variable of ${app.id}`);
    }
  }
}
