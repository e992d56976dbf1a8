/**
 * The Pulumi CLI's rules for project-level config (`config:` in Pulumi.yaml) and for checking a
 * stack's values against it, as a small pure module: what `pulumi preview` refuses before the
 * program runs, which the mock runtime never sees. Written from the CLI's source (pulumi/pulumi),
 * not copied from it:
 *
 * - sdk/go/common/workspace/project.json (`$defs.simpleConfigType`, the `config` property): a
 *   project config entry is a string, integer or boolean (a default), or a declaration with only
 *   `type`, `items`, `description`, `secret`, `default`, `value`. `object` joined the type enum in
 *   pulumi/pulumi#20129 and parsing in #20132, released in CLI 3.187.0 (CHANGELOG, 3.187.0).
 * - sdk/go/common/workspace/project.go (commit 0351806b): `(*Project).Validate` (default and value
 *   exclusive; arrays need `items`; a typed default must have its type; keys of other namespaces
 *   carry a `value` only) and `ValidateConfigValue` (what each type accepts).
 * - sdk/go/common/workspace/config.go (commit 0a7aa0e2): `mergeConfig` L311-320, a key of the
 *   project's namespace with neither `value` nor `default` that the stack does not set is missing,
 *   and all missing keys fail at once with the text of L59; L322-343, a default is applied as the
 *   stack's value; `validateStackConfigValue` L132-157, the secret and type checks, first failure
 *   wins.
 * - sdk/go/common/resource/config/key.go `ParseKey`: a stack config key needs a namespace.
 */
import { MIN_PULUMI_CLI_VERSION, compareVersions } from "../../plan/pulumiCli";

export interface ItemsType {
  readonly type: string;
  readonly items?: ItemsType;
}

export interface ConfigTypeDeclaration {
  readonly type?: string;
  readonly items?: ItemsType;
  readonly description?: string;
  readonly secret?: boolean;
  readonly default?: unknown;
  readonly value?: unknown;
}

const DECLARATION_KEYS = ["type", "items", "description", "secret", "default", "value"];

/** Config types the CLI's project schema knows, by CLI version. */
export function configTypesOf(cliVersion: string): readonly string[] {
  const base = ["string", "integer", "boolean", "array"];
  return compareVersions(cliVersion, MIN_PULUMI_CLI_VERSION) >= 0 ? [...base, "object"] : base;
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const present = (v: unknown) => v !== undefined && v !== null;

/** A key of the project's namespace: bare (`secrets`) or prefixed (`runbook:secrets`). */
export const inProjectNamespace = (project: string, key: string) => !key.includes(":") || key.startsWith(`${project}:`);

/** `ValidateConfigValue`: whether `value` has the declared type. */
export function hasConfigType(type: string, items: ItemsType | undefined, value: unknown): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "integer":
      return (typeof value === "number" && Number.isInteger(value)) || (typeof value === "string" && /^[+-]?\d+$/.test(value));
    case "boolean":
      return typeof value === "boolean" || value === "true" || value === "false";
    case "object":
      return isMap(value);
    default:
      return Array.isArray(value) && items !== undefined && value.every((v) => hasConfigType(items.type, items.items, v));
  }
}

/** `InferFullTypeName`: `array<string>` for an array of strings. */
export const fullTypeName = (type: string, items?: ItemsType): string => (items ? `array<${fullTypeName(items.type, items.items)}>` : type);

/** The declarations of Pulumi.yaml's `config:`, shorthand values turned into defaults or values. */
export function declarationsOf(project: Record<string, unknown>): Map<string, ConfigTypeDeclaration> {
  const name = String(project["name"]);
  const out = new Map<string, ConfigTypeDeclaration>();
  for (const [key, entry] of Object.entries(isMap(project["config"]) ? project["config"] : {})) {
    if (isMap(entry)) out.set(key, entry as ConfigTypeDeclaration);
    else out.set(key, inProjectNamespace(name, key) ? { default: entry } : { value: entry });
  }
  return out;
}

/** Problems the CLI reports when it loads Pulumi.yaml (schema, then `Validate`). */
export function projectProblems(project: unknown, cliVersion: string): string[] {
  if (!isMap(project) || typeof project["name"] !== "string") return ["project is missing a non-empty string 'name' attribute"];
  const problems: string[] = [];
  const types = configTypesOf(cliVersion);
  const raw = isMap(project["config"]) ? project["config"] : {};
  for (const [key, entry] of Object.entries(raw)) {
    // project.json: a string, an integer, a boolean, or a declaration.
    if (isMap(entry)) {
      for (const attr of Object.keys(entry)) {
        if (!DECLARATION_KEYS.includes(attr)) problems.push(`#/config/${key}: additionalProperties '${attr}' not allowed`);
      }
      if (entry["type"] !== undefined && !types.includes(String(entry["type"]))) {
        problems.push(`#/config/${key}/type: value must be one of ${types.map((t) => `"${t}"`).join(", ")}`);
      }
    } else if (!(typeof entry === "string" || typeof entry === "boolean" || (typeof entry === "number" && Number.isInteger(entry)))) {
      problems.push(`#/config/${key}: expected string, integer, boolean or a config type declaration`);
    }
  }
  if (problems.length > 0) return problems;
  for (const [key, decl] of declarationsOf(project)) {
    if (present(decl.default) && present(decl.value)) {
      problems.push(`project config '${key}' cannot have both a 'default' and 'value' attribute`);
    } else if (inProjectNamespace(project["name"], key)) {
      if (decl.type === "array" && decl.items === undefined) {
        problems.push(`The configuration key '${key}' declares an array but does not specify the underlying type via the 'items' attribute`);
      } else if (decl.type !== undefined && present(decl.default) && !hasConfigType(decl.type, decl.items, decl.default)) {
        problems.push(`The default value specified for configuration key '${key}' is not of the expected type '${fullTypeName(decl.type, decl.items)}'`);
      }
    } else if (decl.type !== undefined) {
      problems.push(`Configuration key '${key}' is not namespaced by the project and should not define a type`);
    } else if (present(decl.default)) {
      problems.push(`Configuration key '${key}' is not namespaced by the project and should not define a default value. Did you mean to use the 'value' attribute instead of 'default'?`);
    } else if (!present(decl.value)) {
      problems.push(`Configuration key '${key}' is namespaced and must provide an attribute 'value'`);
    }
  }
  return problems;
}

/** A stack value as the CLI holds it: a secret (`{ secure }`), an object (maps, lists), or a string. */
interface StackValue {
  readonly secure: boolean;
  /** The decrypted content: scalars are strings; objects keep their structure, secure leaves as strings. */
  readonly content: unknown;
}

function stackValueOf(raw: unknown): StackValue {
  const isSecure = (v: unknown): v is { secure: string } => isMap(v) && Object.keys(v).length === 1 && typeof v["secure"] === "string";
  const decrypt = (v: unknown): unknown =>
    isSecure(v) ? "<decrypted>" : Array.isArray(v) ? v.map(decrypt) : isMap(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decrypt(x)])) : v;
  // resource/config/value.go `hasSecureValue`: an object holding a secure leaf is secure.
  const holdsSecure = (v: unknown): boolean => isSecure(v) || (Array.isArray(v) ? v.some(holdsSecure) : isMap(v) && Object.values(v).some(holdsSecure));
  if (isSecure(raw)) return { secure: true, content: "<decrypted>" };
  if (isMap(raw) || Array.isArray(raw)) return { secure: holdsSecure(raw), content: decrypt(raw) };
  return { secure: false, content: raw === null || raw === undefined ? "" : String(raw) };
}

function missingMessage(stack: string, keys: string[]): string {
  const sorted = keys.length > 1 ? [...keys].sort() : keys;
  const list = sorted.length === 1 ? `'${sorted[0]}'` : `${sorted.slice(0, -1).map((k) => `'${k}'`).join(", ")} and '${sorted.at(-1)}'`;
  return `Stack '${stack}' is missing configuration value${keys.length > 1 ? "s" : ""} ${list}`;
}

/**
 * The error `pulumi preview` stops with for this stack file, or undefined when the CLI accepts it.
 * @param stackDoc the parsed Pulumi.<stack>.yaml
 */
export function stackConfigError(project: Record<string, unknown>, stack: string, stackDoc: unknown): string | undefined {
  const name = String(project["name"]);
  const config = isMap(stackDoc) && isMap(stackDoc["config"]) ? stackDoc["config"] : {};
  for (const key of Object.keys(config)) {
    if ((key.match(/:/g) ?? []).length !== 1) return `could not parse ${key} as a configuration key (configuration keys should be of the form \`<namespace>:<name>\`)`;
  }
  const values = new Map<string, StackValue>(Object.entries(config).map(([k, v]) => [k, stackValueOf(v)]));
  const declarations = declarationsOf(project);
  const keys = [...declarations.keys()].sort();
  const fullKey = (key: string) => (key.includes(":") ? key : `${name}:${key}`);
  const missing: string[] = [];
  for (const key of keys) {
    const decl = declarations.get(key)!;
    if (values.has(fullKey(key))) continue;
    if (!present(decl.value) && !present(decl.default)) {
      if (fullKey(key).startsWith(`${name}:`)) missing.push(key);
      continue;
    }
    // createConfigValue: scalars become strings, maps and lists stay objects.
    values.set(fullKey(key), stackValueOf(present(decl.default) ? decl.default : decl.value));
  }
  if (missing.length > 0) return missingMessage(stack, missing);
  for (const key of keys) {
    const decl = declarations.get(key)!;
    if (decl.type === undefined) continue;
    const value = values.get(fullKey(key)) ?? { secure: false, content: "" };
    if (decl.secret && !value.secure) return `Stack '${stack}' with configuration key '${key}' must be encrypted as it's secret`;
    if (!hasConfigType(decl.type, decl.items, value.content)) {
      return `Stack '${stack}' with configuration key '${key}' must be of type '${fullTypeName(decl.type, decl.items)}'`;
    }
  }
  return undefined;
}
