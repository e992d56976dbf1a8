import type { PolicyConfigSchema, StackValidationPolicy } from "@pulumi/policy";
import { settings } from "../lib";
import { runbookNumber, type RequirementsData, type SecretFormat } from "../runbook/requirements";
import { generatedSecrets, randomnessBytes, SECRET_KINDS, type SecretKind } from "./kinds";

/**
 * The least randomness per kind of secret, in bytes:
 * - JWT keys: 32, the HS256 minimum ("a key of the same size as the hash output ... or larger MUST be
 *   used", RFC 7518 section 3.2); the runbooks' own commands give 64 (FDTS) and 32 (Handwork).
 * - a framework key, a database password, any other key: 32 (256 bits, as the runbooks' JWT keys).
 * - a human-usable admin password and the database's bootstrap password: 16 (128 bits).
 */
const DEFAULT_MIN_BYTES: Record<SecretKind, number> = {
  "jwt-signing": 32,
  "jwt-refresh": 32,
  "framework-key": 32,
  "database-password": 32,
  "admin-password": 16,
  bootstrap: 16,
  key: 32,
};

const configSchema: PolicyConfigSchema = {
  properties: {
    minBytes: {
      type: "object",
      properties: Object.fromEntries(SECRET_KINDS.map((k) => [k, { type: "integer", minimum: 1 }])),
      additionalProperties: false,
      default: DEFAULT_MIN_BYTES,
      description: "Fewest bytes of randomness per kind of generated secret; the runbook's own format raises it for a secret it names.",
    },
  },
};

const bytesOf = (f: SecretFormat) => (f.encoding === "alphanumeric" ? Math.floor((f.length * Math.log2(62)) / 8) : f.bytes);

/**
 * Every generated secret, each slot of a two-slot one included, carries at least the randomness of
 * its kind, and at least what its runbook's command makes (FDTS `openssl rand -base64 64`: 64 bytes).
 */
export const generatedMinBytes = (data: RequirementsData): StackValidationPolicy => ({
  name: "secrets-generated-min-bytes",
  description:
    "Every generated secret carries at least the randomness its kind needs (32 bytes for signing keys and passwords), and at least what its runbook's own command makes. A short or weak key can be guessed, and a rotation to a weak key makes things worse.",
  configSchema,
  validateStack: (args, report) => {
    const { minBytes } = settings<{ minBytes: Partial<Record<SecretKind, number>> }>(configSchema, args);
    for (const g of generatedSecrets(args.resources)) {
      const have = randomnessBytes(g.resource);
      if (have === undefined) continue; // not known yet (a first preview)
      const entry = data[g.app];
      const rule = entry?.requirements.secrets?.[g.secret];
      const floor = minBytes[g.kind] ?? DEFAULT_MIN_BYTES[g.kind];
      const runbook = rule ? bytesOf(rule.value) : 0;
      if (have >= Math.max(floor, runbook)) continue;
      const why = runbook > floor && entry && rule ? `the runbook's command (${runbookNumber(entry.runbook)} '${rule.source.section}')` : `a ${g.kind}`;
      report(`${g.app}: ${g.secret} (${g.resource.name}) carries ${have} bytes of randomness; ${why} needs at least ${Math.max(floor, runbook)}.`, g.resource.urn);
    }
  },
});
