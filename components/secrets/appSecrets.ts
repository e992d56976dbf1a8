/**
 * AppSecrets: the secret values one app reads. Generated ones come from random.RandomPassword
 * (nobody types them, nobody sees them); external ones come from the stack's secure config.
 * Every value leaves as a Pulumi secret. Rotation windows build on this component.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { AppSpec } from "../../config/spec";

export interface AppSecretsArgs {
  /** The app's backend secret variables, database engine and external secret values. */
  readonly app: Pick<AppSpec, "backend" | "database" | "externalSecrets">;
}

/** Generated secrets use letters and digits only: safe in URLs, env files and shell without quoting. */
const GENERATED = { special: false, upper: true, lower: true, numeric: true } as const;

/** Length of the generated PostgreSQL password. */
export const DATABASE_PASSWORD_LENGTH = 32;

export class AppSecrets extends pulumi.ComponentResource {
  /** Secret environment of the backend: variable name to secret value. */
  public readonly env: Readonly<Record<string, pulumi.Output<string>>>;
  /** The PostgreSQL password, where the app uses PostgreSQL. */
  public readonly databasePassword?: pulumi.Output<string>;

  constructor(name: string, args: AppSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook:secrets:AppSecrets", name, {}, opts);
    for (const s of args.app.backend.secretEnv) {
      if (s.source === "generated" && (!Number.isInteger(s.length) || s.length < 32)) {
        throw new Error(`\`app.backend.secretEnv\`: ${s.name} must be generated with a length of at least 32 (got ${s.length})`);
      }
    }
    const env: Record<string, pulumi.Output<string>> = {};
    for (const s of args.app.backend.secretEnv) {
      if (s.source === "generated") {
        const password = new random.RandomPassword(
          `${name}-${s.name.toLowerCase().replace(/_/g, "-")}`,
          { length: s.length, ...GENERATED },
          { parent: this },
        );
        env[s.name] = pulumi.secret(password.result);
      } else if (args.app.externalSecrets[s.name] !== undefined) {
        env[s.name] = pulumi.secret(pulumi.output(args.app.externalSecrets[s.name]!));
      }
    }
    this.env = env;
    if (args.app.database.engine === "postgres") {
      const password = new random.RandomPassword(`${name}-db-password`, { length: DATABASE_PASSWORD_LENGTH, ...GENERATED }, { parent: this });
      this.databasePassword = pulumi.secret(password.result);
    }
    this.registerOutputs({ names: Object.keys(env) });
  }
}
