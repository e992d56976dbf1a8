/**
 * AppSecrets: the secret values one app reads. Generated ones are made by @pulumi/random the way
 * the runbook's command makes them (`openssl rand -base64 64`: RandomBytes of 64, base64), so nobody
 * types or sees them; external ones come from the stack's secure config. Every value leaves as a
 * Pulumi secret.
 *
 * Rotation: every generated value's keepers carry its rotation window and the app's incident
 * generation (rotationWindow.ts), so the first `pulumi up` of a new window makes new values and a
 * generation bump makes all of them new at once. Signing keys the app verifies with two slots
 * (`previousSlot`) are kept in two values, `<NAME>` and `<NAME>_PREVIOUS`; the database password in two
 * login roles, of which one is active (databaseRoles.ts applies them).
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { SecretFormat } from "../../apps/requirements";
import { previousSlotName } from "../../apps/secretSlots";
import type { AppSpec } from "../../config/spec";
import { ALIASES } from "../app/nginxConfig";
import { inferKind, KEEPER, type SecretKind } from "../../policies/secrets/kinds";
import { clockProblem, otherSlot, rotationKeepers, rotationState, windowIndex, writtenSlot, type RotationClock, type SecretRotationState, type Slot } from "./rotationWindow";

export interface AppSecretsArgs {
  /** The app's backend secret variables, database engine, external secret values, rotation settings and monitoring. */
  readonly app: Pick<AppSpec, "id" | "backend" | "database" | "externalSecrets" | "rotation"> & Partial<Pick<AppSpec, "monitoring">>;
}

/** Alphanumeric secrets use letters and digits only: safe in URLs, env files and shell without quoting. */
const ALPHANUMERIC = { special: false, upper: true, lower: true, numeric: true } as const;

/** Length of the bootstrap PostgreSQL password (alphanumeric: it seeds the image's superuser). */
export const DATABASE_PASSWORD_LENGTH = 32;
/** Length of each login role's password: 44 letters and digits carry 32 bytes (256 bits) of randomness. */
export const DATABASE_ROLE_PASSWORD_LENGTH = 44;
/** The name the database login roles' passwords carry in their keepers and rotation state. */
export const DATABASE_PASSWORD = "DATABASE_PASSWORD";

/** The name the read replicas' replication password carries in its keepers, rotation state and Secrets Manager. */
export const REPLICATION_PASSWORD = "REPLICATION_PASSWORD";
/** PgBouncer's read-only stats user (its SHOW views), for the metrics exporter where the pooler and monitoring are on. */
export const POOLER_STATS_USER = "pgbouncer_stats";

/** Length of the generated Grafana admin password (alphanumeric, like the database password). */
export const GRAFANA_PASSWORD_LENGTH = 32;

/** Fewest bytes of randomness a generated secret may have: 256 bits. */
export const MIN_SECRET_BYTES = 32;

/**
 * Keepers name the app and variable a random value belongs to: the policy pack finds secrets by
 * them (random resources carry no labels). A change of keepers makes a new value.
 */
export const secretKeepers = (app: string, name: string) => ({ [KEEPER.app]: app, [KEEPER.secret]: name });

/** Bytes of randomness in a format: base64 and hex count bytes; alphanumeric text has log2(62) ≈ 5.95 bits a character. */
export function formatBytes(format: SecretFormat): number {
  return format.encoding === "alphanumeric" ? Math.floor((format.length * Math.log2(62)) / 8) : format.bytes;
}

/** The login roles of an app's database: `<owner>_a` and `<owner>_b`. */
export const databaseRoleNames = (owner: string): Record<Slot, string> => ({ a: `${owner}_a`, b: `${owner}_b` });

/** What AppStack and the role step need of the database credentials. */
export interface DatabaseCredentials {
  /** The image's POSTGRES_USER: owns the tables, loses its password once the app has switched. */
  readonly owner: string;
  /** POSTGRES_PASSWORD: seeds a new data directory only; stable, so the database is never replaced for it. */
  readonly bootstrapPassword: pulumi.Output<string>;
  /** Password of each login role. */
  readonly roles: Readonly<Record<Slot, { readonly name: string; readonly password: pulumi.Output<string> }>>;
  /** The slot the app connects with in this window (DATABASE_URL). */
  readonly activeSlot: Slot;
  /**
   * PgBouncer's stats user, where the pooler and monitoring are on: the exporter reads SHOW POOLS with
   * it. It exists in PgBouncer's auth file only (not in PostgreSQL), and rotates with the app's window.
   */
  readonly poolerStats?: { readonly user: string; readonly password: pulumi.Output<string> };
}

/** A value stored in Secrets Manager for break-glass reads, under the variable name the app sees. */
export interface StoredSecret {
  readonly name: string;
  readonly value: pulumi.Output<string>;
}

/** The stack output of an app's rotation: where each secret stands, never a value. */
export interface RotationStateOutput {
  /** The clock this run used. */
  readonly clock: string;
  readonly generation: number;
  readonly secrets: Readonly<Record<string, SecretRotationState>>;
  /** PostgreSQL apps: the login role DATABASE_URL uses, and the one that keeps the previous password. */
  readonly database?: { readonly activeRole: string; readonly standbyRole: string };
}

export class AppSecrets extends pulumi.ComponentResource {
  /** Secret environment of the backend: variable name to secret value. */
  public readonly env: Readonly<Record<string, pulumi.Output<string>>>;
  /** The PostgreSQL credentials, where the app uses PostgreSQL. */
  public readonly database?: DatabaseCredentials;
  /** Every rotating value, for Secrets Manager (program.ts hands them to SecretStore). */
  public readonly stored: readonly StoredSecret[];
  /** Where each generated secret stands (a stack output). */
  public readonly rotation: RotationStateOutput;

  /**
   * The password read replicas connect to the primary with (`database.readReplicas` > 0): rotated
   * with the app's window, given to the primary only as a SCRAM verifier and to replicas only as a
   * secret environment variable.
   */
  public readonly replicationPassword?: pulumi.Output<string>;

  /** Grafana's admin password, where the app is monitored (alphanumeric: it goes through env and stdin). */
  public readonly grafanaAdminPassword?: pulumi.Output<string>;

  private readonly app: AppSecretsArgs["app"];
  private readonly storedValues: StoredSecret[] = [];
  private readonly states: Record<string, SecretRotationState> = {};

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
    const problem = clockProblem({ now: app.rotation.now, periodDays: app.rotation.periodDays, generation: app.rotation.generation });
    if (problem) throw new Error(`\`app.rotation\`: ${problem}`);
    this.app = app;
    const env: Record<string, pulumi.Output<string>> = {};
    for (const s of app.backend.secretEnv) {
      if (s.source === "generated") {
        const resourceName = `${name}-${s.name.toLowerCase().replace(/_/g, "-")}`;
        if (s.previousSlot) {
          const slots = this.generateSlots(resourceName, s.name, s.kind ?? inferKind(s.name), s.format);
          env[s.name] = slots.current;
          env[previousSlotName(s.name)] = slots.previous;
        } else {
          env[s.name] = this.generate(resourceName, { ...secretKeepers(app.id, s.name), ...(s.kind && { [KEEPER.kind]: s.kind }) }, s.format);
        }
      } else if (app.externalSecrets[s.name] !== undefined) {
        env[s.name] = pulumi.secret(pulumi.output(app.externalSecrets[s.name]!));
      }
    }
    this.env = env;
    if (app.database.engine === "postgres") {
      const format = { encoding: "alphanumeric", length: DATABASE_PASSWORD_LENGTH } as const;
      // Not rotated, and its keepers never change: POSTGRES_PASSWORD is in the database container's
      // environment, which forces a replacement of the database when it changes.
      const bootstrapPassword = pulumi.secret(this.random(`${name}-db-password`, secretKeepers(app.id, "POSTGRES_PASSWORD"), format));
      const roleFormat = { encoding: "alphanumeric", length: DATABASE_ROLE_PASSWORD_LENGTH } as const;
      const passwords = this.slotValues(`${name}-database-password`, DATABASE_PASSWORD, "database-password", roleFormat);
      const names = databaseRoleNames(app.database.user);
      const statsPassword =
        app.database.pooler && app.monitoring
          ? this.generate(`${name}-pgbouncer-stats-password`, secretKeepers(app.id, "PGBOUNCER_STATS_PASSWORD"), { encoding: "alphanumeric", length: DATABASE_ROLE_PASSWORD_LENGTH })
          : undefined;
      this.database = {
        owner: app.database.user,
        bootstrapPassword,
        roles: { a: { name: names.a, password: passwords.a }, b: { name: names.b, password: passwords.b } },
        activeSlot: passwords.current,
        ...(statsPassword && { poolerStats: { user: POOLER_STATS_USER, password: statsPassword } }),
      };
      const db = app.database;
      const active = this.database.roles[passwords.current];
      // The active credential, as Secrets Manager's database secrets spell it, for a break-glass psql.
      this.storedValues.push({
        name: "DATABASE_CREDENTIALS",
        value: pulumi.secret(active.password.apply((password) => JSON.stringify({ engine: "postgres", host: ALIASES.database, port: db.port, dbname: db.database, username: active.name, password }))),
      });
    }
    if (app.database.engine === "postgres" && app.database.readReplicas > 0) {
      const format = { encoding: "alphanumeric", length: DATABASE_ROLE_PASSWORD_LENGTH } as const;
      this.replicationPassword = this.generate(`${name}-replication-password`, { ...secretKeepers(app.id, REPLICATION_PASSWORD), [KEEPER.kind]: "database-password" }, format);
    }
    if (app.monitoring) {
      const format = { encoding: "alphanumeric", length: GRAFANA_PASSWORD_LENGTH } as const;
      this.grafanaAdminPassword = this.generate(`${name}-grafana-admin-password`, secretKeepers(app.id, "GF_SECURITY_ADMIN_PASSWORD"), format);
    }
    this.stored = this.storedValues;
    this.rotation = {
      clock: new Date(app.rotation.now).toISOString(),
      generation: app.rotation.generation,
      secrets: this.states,
      ...(this.database && { database: { activeRole: this.database.roles[this.database.activeSlot].name, standbyRole: this.database.roles[otherSlot(this.database.activeSlot)].name } }),
    };
    this.registerOutputs({ names: Object.keys(env), rotation: this.rotation });
  }

  /** The clock a secret rotates by: its own period where the runbook sets one, else the app's. */
  private clock(secret: string): RotationClock {
    const r = this.app.rotation;
    return { now: r.now, periodDays: r.periods[secret] ?? r.periodDays, generation: r.generation };
  }

  /**
   * A single-slot generated value that rotates every window; `keepers` name the app and the secret
   * (secretKeepers) and may state its kind. Stored in Secrets Manager under the secret's name.
   */
  private generate(name: string, keepers: Record<string, string>, format: SecretFormat): pulumi.Output<string> {
    const secret = keepers[KEEPER.secret] ?? name;
    const kind = (keepers[KEEPER.kind] as SecretKind | undefined) ?? inferKind(secret);
    const clock = this.clock(secret);
    const value = pulumi.secret(this.random(name, { ...keepers, ...rotationKeepers({ app: this.app.id, name: secret, kind }, clock) }, format));
    this.states[secret] = rotationState(clock, false);
    this.storedValues.push({ name: secret, value });
    return value;
  }

  /** A two-slot secret: its current and previous values, each stored under the variable the app reads. */
  private generateSlots(name: string, secret: string, kind: SecretKind, format: SecretFormat): { current: pulumi.Output<string>; previous: pulumi.Output<string> } {
    const values = this.slotValues(name, secret, kind, format);
    const current = values[values.current];
    const previous = values[otherSlot(values.current)];
    this.storedValues.push({ name: secret, value: current }, { name: previousSlotName(secret), value: previous });
    return { current, previous };
  }

  /** Slots a and b of a secret (`<name>-a`, `<name>-b`), and which one the current window wrote. */
  private slotValues(name: string, secret: string, kind: SecretKind, format: SecretFormat): Record<Slot, pulumi.Output<string>> & { current: Slot } {
    const clock = this.clock(secret);
    const value = (slot: Slot) => pulumi.secret(this.random(`${name}-${slot}`, rotationKeepers({ app: this.app.id, name: secret, kind }, clock, slot), format));
    this.states[secret] = rotationState(clock, true);
    return { a: value("a"), b: value("b"), current: writtenSlot(windowIndex(clock.now, clock.periodDays)) };
  }

  private random(name: string, keepers: Record<string, string>, format: SecretFormat): pulumi.Output<string> {
    if (format.encoding === "alphanumeric") {
      return new random.RandomPassword(name, { length: format.length, ...ALPHANUMERIC, keepers }, { parent: this }).result;
    }
    const bytes = new random.RandomBytes(name, { length: format.bytes, keepers }, { parent: this });
    return format.encoding === "base64" ? bytes.base64 : bytes.hex;
  }
}
