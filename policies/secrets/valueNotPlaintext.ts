import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { TYPES } from "../lib";
import { generatedSecrets, peek } from "./kinds";

/** Names that say "secret"; a name for a file or path holding one is not the secret itself. */
const SECRET_NAME = /(SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE_KEY|CREDENTIALS|WEBHOOK_URL)/i;
const NAME_OF_A_PATH = /[-_](FILE|PATH|DIR)$/i;
/** `NAME=value`, `--name=value`, `--name value` on a command line; `name: value` or `name = value` at the start of a line of a file. */
const ASSIGNMENTS = [/(?:^|[\s;&|('"`/])(?:export\s+)?(-{0,2}[A-Za-z_][A-Za-z0-9_.-]*)=(\S+)/g, /(?:^|\s)(--[A-Za-z][A-Za-z0-9-]*)\s+([^\s<>|&;-]\S*)/g, /^\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*(?::|=)\s+(\S.*)$/gm];
const URL_WITH_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^/@\s:'"]*:([^/@\s'"]+)@/gi;
const SQL_PASSWORD = /\bPASSWORD\s+'([^']*)'/gi;

/** A value that points at a secret instead of holding it: a variable, a file, stdin, a template. */
function isReference(raw: string): boolean {
  const v = raw.replace(/^["']|["';,]+$/g, "");
  return v === "" || v === "-" || /^(\$|\/|@|\{\{|%\(|<|file:|env:)/.test(v);
}

/** Every string inside a value, read without tripping the analyzer's unknown-checking proxy. */
function strings(value: unknown, depth = 0): string[] {
  if (typeof value === "string") return [value];
  if (value === null || typeof value !== "object" || depth > 6) return [];
  return Object.keys(value).flatMap((k) => strings(peek(value, k), depth + 1));
}

/** The plain-text places of a resource: what `docker inspect`, `ps`, a log or the state shows as is. */
function surfaces(r: PolicyResource): [string, string[], boolean][] {
  const p = r.props;
  if (r.type === TYPES.container) {
    const uploads = peek(p, "uploads");
    const files = Array.isArray(uploads) ? uploads.flatMap((u) => [peek(u, "content"), peek(u, "contentBase64")].map((c, i) => (typeof c === "string" ? (i === 1 ? Buffer.from(c, "base64").toString("utf8") : c) : undefined))) : [];
    const envsSecret = r.opts.additionalSecretOutputs?.includes("envs") ?? false;
    // An argv is read as the command line it makes (`--api-key` and its value are two words).
    const argv = (key: string) => [strings(peek(p, key)).join(" ")];
    return [
      ["command", argv("command"), true],
      ["entrypoint", argv("entrypoints"), true],
      ["labels", strings(peek(p, "labels")), true],
      ["health check", argv("healthcheck"), true],
      ["uploaded file", files.filter((f): f is string => f !== undefined), true],
      // Secret-looking names in envs are app-container-secret-env's; here only generated values under any name.
      ["environment", envsSecret ? [] : strings(peek(p, "envs")), false],
    ];
  }
  if (r.type === TYPES.localCommand || r.type === TYPES.remoteCommand) {
    return [
      ["command line", ["create", "update", "delete"].flatMap((k) => strings(peek(p, k))), true],
      ["environment", strings(peek(p, "environment")), true],
      ["triggers", strings(peek(p, "triggers")), true],
    ];
  }
  return [];
}

/** What in a text is a secret in plain text (names of things, never the value). */
function findings(text: string, generated: readonly { value: string; what: string }[], patterns: boolean): string[] {
  const out = generated.filter((g) => text.includes(g.value)).map((g) => `the generated ${g.what}`);
  if (!patterns) return out;
  for (const m of text.matchAll(URL_WITH_PASSWORD)) if (!isReference(m[1]!)) out.push("a URL with a password (user:password@)");
  for (const m of text.matchAll(SQL_PASSWORD)) if (!/^(SCRAM-SHA-256\$|md5[0-9a-f]{32}$)/.test(m[1]!)) out.push("a password literal in SQL (give PostgreSQL a SCRAM verifier, on stdin)");
  for (const re of ASSIGNMENTS) {
    for (const m of text.matchAll(re)) {
      const name = m[1]!.replace(/^-+/, "");
      const normal = name.replace(/[-.]/g, "_");
      if (SECRET_NAME.test(normal) && !NAME_OF_A_PATH.test(normal) && !isReference(m[2]!)) out.push(`a value for ${name}`);
    }
  }
  return [...new Set(out)];
}

/**
 * FDTS's own rotation writes the new JWT key into a `sed` command line (001 line 109), where `ps`, a
 * shell history and an error message would show it. Here no secret may sit where such text is kept
 * as is: a container's command, labels, health check, uploaded files (rendered configs), or a deploy
 * step's command line, environment or triggers; and no generated value in a container environment
 * that is not kept secret. Secrets go on a step's stdin, as Pulumi secrets.
 */
export const valueNotPlaintext: StackValidationPolicy = {
  name: "secrets-value-not-plaintext",
  description:
    "No secret sits in plain text in a container's command, labels, health check or uploaded files, or in a deploy step's command line, environment or triggers, and no generated secret in an environment that is not kept secret. Those are shown by docker inspect, ps, logs and error messages, and stored as they are; secrets go on stdin as Pulumi secrets.",
  validateStack: (args, report) => {
    const generated = generatedSecrets(args.resources).flatMap((g) =>
      ["result", "base64", "hex"]
        .map((k) => peek(g.resource.props, k))
        .filter((v): v is string => typeof v === "string" && v.length >= 16)
        .map((value) => ({ value, what: `${g.secret} of ${g.app}` })),
    );
    for (const r of args.resources) {
      for (const [where, texts, patterns] of surfaces(r)) {
        const found = [...new Set(texts.flatMap((t) => findings(t, generated, patterns)))];
        if (found.length > 0) report(`${r.name}: its ${where} holds ${found.join(", ")} in plain text; pass secrets on stdin or in a secret environment, as Pulumi secrets.`, r.urn);
      }
    }
  },
};
