/**
 * A secret in `backend.env` is a config problem with its key path (exit 2 from the plan), never a
 * "program error" from deep inside a component, and the message never carries the value.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { ConfigError } from "../../config/errors";
import { parseStackConfig, type RawConfig } from "../../config/resolve";
import { SECRET_NAME_PATTERNS } from "../../config/envSecrets";
import { secretEnv } from "../../policies/app/secretEnv";
import { rawStackConfig, runPlanCli } from "../helpers";

function problemsWithEnv(app: string, env: Record<string, string>): string[] {
  const cfg = structuredClone(rawStackConfig("prod")) as { apps: Record<string, { backend: { env?: Record<string, string> } }> };
  cfg.apps[app]!.backend.env = { ...cfg.apps[app]!.backend.env, ...env };
  try {
    parseStackConfig(cfg as unknown as RawConfig);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  return [];
}

const VALUE = "s3cr3t-value-never-printed";

describe("secrets in backend.env", () => {
  it.each([
    ["lms", "SECRET_KEY", VALUE, "is a secret Fraction Ball LMS reads, generated and rotated by the program; remove it from env"],
    ["lms", "SLACK_WEBHOOK_URL", VALUE, "is a secret Fraction Ball LMS reads: remove it from env and set it only as a secret (pulumi config set --secret --path 'secrets.lms.SLACK_WEBHOOK_URL')"],
    ["fdts", "JWT_SECRET", VALUE, "is a secret FDTS reads, generated and rotated by the program; remove it from env"],
    ["lms", "DJANGO_SECRET_KEY", VALUE, "is named like a secret (SECRET)"],
    ["lms", "DB_PASSWORD", VALUE, "is named like a secret (PASSWORD)"],
    ["lms", "GITHUB_TOKEN", VALUE, "is named like a secret (TOKEN)"],
    ["lms", "MAPS_API_KEY", VALUE, "is named like a secret (API_KEY)"],
    ["lms", "SSH_PRIVATE_KEY", VALUE, "is named like a secret (PRIVATE_KEY)"],
    ["lms", "GOOGLE_CREDENTIALS", VALUE, "is named like a secret (CREDENTIALS)"],
    ["lms", "DATABASE_URL", `postgresql://fb:${VALUE}@db:5432/fb`, "holds a URL with a password (user:password@)"],
    ["lms", "CACHE_URL", `redis://:${VALUE}@cache:6379/0`, "holds a URL with a password (user:password@)"],
  ])("refuses %s env %s, naming the key path", (app, name, value, message) => {
    const problems = problemsWithEnv(app, { [name]: value });
    expect(problems.some((p) => p.startsWith(`runbook:apps.${app}.backend.env.${name}: ${message}`)), problems.join("\n")).toBe(true);
    expect(problems.join("\n")).not.toContain(VALUE);
  });

  it.each([
    ["ALLOWED_HOSTS", "lms.example.com"],
    ["DATABASE_URL", "sqlite:////app/data/app.db"],
    ["SESSION_COOKIE_SECURE", "true"],
    ["PUBLIC_URL", "https://lms.example.com/path"],
    ["LOG_LEVEL", "info"],
  ])("accepts plain %s=%s", (name, value) => {
    expect(problemsWithEnv("lms", { [name]: value })).toEqual([]);
  });

  it("knows at least the secret shapes the policy pack's app-container-secret-env looks for", () => {
    const policyDefaults = (secretEnv.configSchema!.properties["secretNamePatterns"] as { default: string[] }).default;
    for (const p of policyDefaults) expect(SECRET_NAME_PATTERNS, p).toContain(p.toUpperCase());
  });

  it("is a config problem for the plan (exit 2, key path), not a program error", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "env-secret-"));
    try {
      const cfg = structuredClone(rawStackConfig("staging")) as { apps: Record<string, { backend: { env?: Record<string, string> } }> };
      cfg.apps["lms"]!.backend.env = { ...cfg.apps["lms"]!.backend.env, DJANGO_SECRET_KEY: VALUE, SECRET_KEY: VALUE };
      const file = path.join(dir, "Pulumi.leaky.yaml");
      fs.writeFileSync(file, stringify({ config: Object.fromEntries(Object.entries(cfg).map(([k, v]) => [`runbook:${k}`, v])) }));
      const res = runPlanCli(["--config-file", file, "--json"]);
      expect(res.status).toBe(2);
      expect(res.stdout).toBe("");
      expect(res.stderr).not.toContain("program error");
      expect(res.stderr).toContain("runbook:apps.lms.backend.env.DJANGO_SECRET_KEY: is named like a secret (SECRET)");
      expect(res.stderr).toContain("runbook:apps.lms.backend.env.SECRET_KEY: is a secret Fraction Ball LMS reads");
      expect(res.stderr).not.toContain(VALUE);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
