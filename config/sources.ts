/**
 * Where raw config comes from: a stack file read offline (the plan), or the Pulumi runtime
 * (`pulumi up`). Both give the same RawConfig shape, where a secret leaf is `{ secure: string }`.
 */
import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { LineCounter, parseDocument } from "yaml";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { ConfigError } from "./errors";
import type { RawConfig } from "./resolve";

/** What an offline run puts in place of a `secure:` value it cannot decrypt. Never sent anywhere. */
export const OFFLINE_SECRET_PLACEHOLDER = "offline-placeholder-not-a-secret";

/**
 * Reads Pulumi.<stack>.yaml. Keys of other namespaces (`aws:region`) are left to their providers.
 * `secure:` ciphertexts are replaced by a placeholder: the plan has no key to decrypt them.
 */
export function readStackFile(path: string, project: string): RawConfig {
  let text: string;
  try {
    text = fs.readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError([{ path, message: `cannot read the stack file (${(err as NodeJS.ErrnoException).code ?? String(err)})` }]);
  }
  const doc = parseStackYaml(path, text);
  if (doc === null || typeof doc !== "object" || !("config" in doc) || typeof doc.config !== "object" || doc.config === null) {
    throw new ConfigError([{ path, message: "has no `config:` map" }]);
  }
  const raw: Record<string, unknown> = {};
  const problems: { path: string; message: string }[] = [];
  for (const [fullKey, value] of Object.entries(doc.config as Record<string, unknown>)) {
    const key = parseConfigKey(fullKey);
    if (!key) {
      problems.push({ path: fullKey, message: `is not a config key the Pulumi CLI accepts: keys are <namespace>:<name> (here \`${project}:${fullKey.split(":").pop()}\`)` });
    } else if (key.namespace === project) {
      raw[key.name] = maskSecure(value);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return raw;
}

/**
 * A stack config key as the Pulumi CLI parses it (sdk/go/common/resource/config/key.go `ParseKey`):
 * `<namespace>:<name>`, or the old `<namespace>:config:<name>`; anything else the CLI refuses
 * ("could not parse ... as a configuration key"), so the plan refuses it too.
 */
export function parseConfigKey(fullKey: string): { namespace: string; name: string } | undefined {
  const parts = fullKey.split(":");
  if (parts.length === 2 && parts[0] && parts[1]) return { namespace: parts[0], name: parts[1] };
  if (parts.length === 3 && parts[1] === "config" && parts[0] && parts[2]) return { namespace: parts[0], name: parts[2] };
  return undefined;
}

/**
 * Parses a stack file's YAML. Every syntax error is a problem at `file:line:column` (the `yaml`
 * library's LineCounter), so an editor or a terminal jumps to it; no source text is echoed, as the
 * line could hold a secret typed in by mistake.
 */
export function parseStackYaml(path: string, text: string): unknown {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const { line, col } = lines.linePos(e.pos[0]);
        return { path: `${path}:${line}:${col}`, message: `is not valid YAML: ${e.message.split("\n")[0]}` };
      }),
    );
  }
  return doc.toJS();
}

function maskSecure(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskSecure);
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    if (entries.length === 1 && entries[0]![0] === "secure" && typeof entries[0]![1] === "string") {
      return { secure: OFFLINE_SECRET_PLACEHOLDER };
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, maskSecure(v)]));
  }
  return value;
}

/**
 * `isConfigSecret` is exported by the SDK's runtime but missing from its typings: reached here
 * through one narrow cast, and test/config/sources.test.ts fails loudly if it ever moves.
 */
export const isConfigSecret = (runtimeConfig as unknown as { isConfigSecret: (key: string) => boolean }).isConfigSecret;

/**
 * Reads the project's config from the running Pulumi engine. The engine hands secrets over
 * decrypted; a key it marks secret has each string leaf wrapped as `{ secure }`, so the schema's
 * "secrets only as secure values" rule holds under the CLI too (at the granularity of a top-level key,
 * which is what the engine tells).
 */
export function readPulumiConfig(project: string): RawConfig {
  const all = pulumi.runtime.allConfig();
  const raw: Record<string, unknown> = {};
  for (const [fullKey, text] of Object.entries(all)) {
    if (!fullKey.startsWith(`${project}:`)) continue;
    const key = fullKey.slice(project.length + 1);
    let value: unknown = text;
    try {
      value = JSON.parse(text);
    } catch {
      // a plain string value
    }
    raw[key] = isConfigSecret(fullKey) ? wrapLeaves(value) : value;
  }
  return raw;
}

function wrapLeaves(value: unknown): unknown {
  if (typeof value === "string") return { secure: value };
  if (Array.isArray(value)) return value.map(wrapLeaves);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, wrapLeaves(v)]));
  }
  return value;
}
