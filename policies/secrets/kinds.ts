/**
 * What the secrets policies share: the kinds of generated secret, how a random resource's keepers
 * name its app, secret, kind and rotation, and how much randomness it carries. Self-contained (the
 * pack stands alone); the program imports the kinds and keeper names from here, so both sides spell
 * them the same way.
 */
import type { PolicyResource } from "@pulumi/policy";

/** What a generated secret is for: each kind has its own minimum of randomness. */
export type SecretKind = "jwt-signing" | "jwt-refresh" | "framework-key" | "database-password" | "admin-password" | "bootstrap" | "key";

export const SECRET_KINDS: readonly SecretKind[] = ["jwt-signing", "jwt-refresh", "framework-key", "database-password", "admin-password", "bootstrap", "key"];

/**
 * The keepers every generated secret carries. Random resources have no labels, so the pack finds
 * and judges secrets by these. A change of any keeper makes a new value (that is how rotation works).
 */
export const KEEPER = {
  app: "runbook.app",
  secret: "runbook.secret",
  kind: "runbook.kind",
  /** Days between two scheduled rotations. */
  periodDays: "runbook.rotationDays",
  /** The rotation window this value belongs to (for a two-slot secret: the window its slot was last written in). */
  window: "runbook.window",
  /** The incident generation: a bump makes every value of the app new at once. */
  generation: "runbook.generation",
  /** `a` or `b` for a secret kept in two slots (JWT keys, database roles). */
  slot: "runbook.slot",
} as const;

/**
 * The kind of a secret a caller did not state, from its variable name. `POSTGRES_PASSWORD` is the
 * postgres image's init-only superuser password (docker-entrypoint.sh reads it only to initialise an
 * empty data directory), which the program removes from the role once the app no longer uses it.
 */
export function inferKind(name: string): SecretKind {
  const upper = name.toUpperCase();
  if (upper === "POSTGRES_PASSWORD") return "bootstrap";
  if (upper.includes("JWT") && upper.includes("REFRESH")) return "jwt-refresh";
  if (upper.includes("JWT")) return "jwt-signing";
  if (upper === "DATABASE_PASSWORD") return "database-password";
  if (upper.includes("SECRET_KEY")) return "framework-key";
  if (upper.includes("PASSWORD")) return "admin-password";
  return "key";
}

export const RANDOM_TYPES = {
  bytes: "random:index/randomBytes:RandomBytes",
  password: "random:index/randomPassword:RandomPassword",
  string: "random:index/randomString:RandomString",
} as const;

const RANDOM = new Set<string>(Object.values(RANDOM_TYPES));

/** The special characters @pulumi/random uses when `overrideSpecial` is not set (terraform-provider-random string.go). */
const DEFAULT_SPECIAL = "!@#$%&*()-_=+[]{}<>:?";

/**
 * A property of a resource as the provider holds it, read without tripping the analyzer's
 * unknown-checking proxy (which only traps `get`): unknown values (a first preview) come back as
 * something that is not a string or number, and callers skip them.
 */
export function peek(obj: unknown, key: string): unknown {
  if (obj === null || typeof obj !== "object") return undefined;
  return Object.getOwnPropertyDescriptor(obj, key)?.value;
}

export interface GeneratedSecret {
  readonly resource: PolicyResource;
  readonly app: string;
  readonly secret: string;
  readonly kind: SecretKind;
  readonly keepers: Readonly<Record<string, string>>;
}

/** Random resources that generate an app's secret (keepers name the app), with what their keepers say. */
export function generatedSecrets(resources: readonly PolicyResource[]): GeneratedSecret[] {
  const out: GeneratedSecret[] = [];
  for (const r of resources) {
    if (!RANDOM.has(r.type)) continue;
    const raw = peek(r.props, "keepers");
    if (raw === null || typeof raw !== "object") continue;
    const keepers = Object.fromEntries(Object.keys(raw).map((k) => [k, peek(raw, k)]).filter((e): e is [string, string] => typeof e[1] === "string"));
    const app = keepers[KEEPER.app];
    if (app === undefined) continue;
    const secret = keepers[KEEPER.secret] ?? r.name;
    const stated = keepers[KEEPER.kind];
    const kind = stated !== undefined && (SECRET_KINDS as readonly string[]).includes(stated) ? (stated as SecretKind) : inferKind(secret);
    out.push({ resource: r, app, secret, kind, keepers });
  }
  return out;
}

/**
 * Bytes of randomness a random resource carries: RandomBytes counts bytes; a password or string
 * has log2(alphabet) bits a character, the alphabet being the character classes it draws from.
 * Undefined when the length is not known yet.
 */
export function randomnessBytes(r: PolicyResource): number | undefined {
  const length = peek(r.props, "length");
  if (typeof length !== "number") return undefined;
  if (r.type === RANDOM_TYPES.bytes) return length;
  const on = (key: string) => peek(r.props, key) !== false;
  const special = peek(r.props, "overrideSpecial");
  const alphabet = (on("upper") ? 26 : 0) + (on("lower") ? 26 : 0) + (on("numeric") ? 10 : 0) + (on("special") ? (typeof special === "string" ? special.length : DEFAULT_SPECIAL.length) : 0);
  return alphabet < 2 ? 0 : Math.floor((length * Math.log2(alphabet)) / 8);
}
