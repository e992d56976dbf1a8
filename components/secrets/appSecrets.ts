/**
 * AppSecrets: the secret values one app reads. Generated ones are made by @pulumi/random the way
 * the runbook's command makes them (`openssl rand -base64 64`: RandomBytes of 64, base64), so nobody
 * types or sees them; external ones come from the stack's secure config. Every value leaves as a
 * Pulumi secret. Rotation windows build on this component.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { SecretFormat } from "../../apps/requirements";
import type { AppSpec } from "../../config/spec";

export interface AppSecretsArgs {
  /** The app's backend secret variables, database engine and external secret values. */
  readonly app: Pick<AppSpec, "id" | "backend" | "database" | "externalSecrets"> & Partial<Pick<AppSpec, "monitoring">>;
}

/** Alphanumeric secrets use letters and digits only: safe in URLs, env files and shell without quoting. */
const ALPHANUMERIC = { special: false, upper: true, lower: true, numeric: true } as const;

/** Length of the generated PostgreSQL password (alphanumeric: it goes into DATABASE_URL). */
export const DATABASE_PASSWORD_LENGTH = 32;

/** Length of the generated Grafana admin password (alphanumeric, like the database password). */
export const GRAFANA_PASSWORD_LENGTH = 32;

/** Fewest bytes of randomness a generated secret may have: 256 bits. */
export const MIN_SECRET_BYTES = 32;

/**
 * Keepers name the app and variable a random value belongs to: the policy pack finds secrets by
 * them (random resources carry no labels). A change of keepers makes a new value.
 */
export const secretKeepers = (app: string, name: string) => ({ "runbook.app": app, "runbook.secret": name });

/** Bytes of randomness in a format: base64 and hex count bytes; alphanumeric text has log2(62) ≈ 5.95 bits a character. */
export function formatBytes(format: SecretFormat): number {
  return format.encoding === "alphanumeric" ? Math.floor((format.length * Math.log2(62)) / 8) : format.bytes;
}

export class AppSecrets extends pulumi.ComponentResource {
  /** Secret environment of the backend: variable name to secret value. */
  public readonly env: Readonly<Record<string, pulumi.Output<string>>>;
  /** The PostgreSQL password, where the app uses PostgreSQL. */
  public readonly databasePassword?: pulumi.Output<string>;
  /** Grafana's admin password, where the app is monitored (alphanumeric: it goes through env and stdin). */
  public readonly grafanaAdminPassword?: pulumi.Output<string>;

  constructor(name: string, args: AppSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook:secrets:AppSecrets", name, {}, opts);
    const { app } = args;
    for (const s of app.backend.secretEnv) {
      if (s.source !== "generated") continue;
      const size = s.format.encoding === "alphanumeric" ? s.format.length : s.format.bytes;
      if (!Number.isInteger(size) || formatBytes(s.format) < MIN_SECRET_BYTES) {
        throw new Error(`\`app.backend.secretEnv\`: ${s.name} must carry at least ${MIN_SECRET_BYTES} bytes of randomness (got ${JSON.stringify(s.format)})`);
      }
    }
    const env: Record<string, pulumi.Output<string>> = {};
    for (const s of app.backend.secretEnv) {
      if (s.source === "generated") {
        env[s.name] = pulumi.secret(this.generate(`${name}-${s.name.toLowerCase().replace(/_/g, "-")}`, secretKeepers(app.id, s.name), s.format));
      } else if (app.externalSecrets[s.name] !== undefined) {
        env[s.name] = pulumi.secret(pulumi.output(app.externalSecrets[s.name]!));
      }
    }
    this.env = env;
    if (app.database.engine === "postgres") {
      const format = { encoding: "alphanumeric", length: DATABASE_PASSWORD_LENGTH } as const;
      this.databasePassword = pulumi.secret(this.generate(`${name}-db-password`, secretKeepers(app.id, "POSTGRES_PASSWORD"), format));
    }
    if (app.monitoring) {
      const format = { encoding: "alphanumeric", length: GRAFANA_PASSWORD_LENGTH } as const;
      this.grafanaAdminPassword = pulumi.secret(this.generate(`${name}-grafana-admin-password`, secretKeepers(app.id, "GF_SECURITY_ADMIN_PASSWORD"), format));
    }
    this.registerOutputs({ names: Object.keys(env) });
  }

  private generate(name: string, keepers: Record<string, string>, format: SecretFormat): pulumi.Output<string> {
    if (format.encoding === "alphanumeric") {
      return new random.RandomPassword(name, { length: format.length, ...ALPHANUMERIC, keepers }, { parent: this }).result;
    }
    const bytes = new random.RandomBytes(name, { length: format.bytes, keepers }, { parent: this });
    return format.encoding === "base64" ? bytes.base64 : bytes.hex;
  }
}
