import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { PACK_NAME, policies } from "../../policies/pack";
import { resolvePolicyConfig } from "../../plan/policyRunner";
import { ROOT } from "../helpers";

const POLICY_DIR = path.join(ROOT, "policies");
/** Folders of policies: every folder of the pack but its config and installed packages. */
const AREAS = fs.readdirSync(POLICY_DIR, { withFileTypes: true }).filter((d) => d.isDirectory() && !["config", "node_modules", "bin"].includes(d.name)).map((d) => d.name);

describe("policy pack conventions", () => {
  it.each(policies.map((p) => [p.name, p] as const))("%s is named <area>-<resource>-<rule> in lowercase kebab case", (name) => {
    expect(name).toMatch(/^[a-z]+-[a-z]+(-[a-z]+)+$/);
    const area = name.split("-")[0]!;
    expect(fs.existsSync(path.join(POLICY_DIR, area)), `folder policies/${area}`).toBe(true);
  });

  it.each(policies.map((p) => [p.name, p] as const))("%s describes the runbook requirement in whole sentences", (_name, p) => {
    const sentences = p.description.split(/(?<=\.)\s+/);
    expect(sentences.length).toBeGreaterThanOrEqual(2);
    for (const s of sentences) {
      expect(s, s).toMatch(/^[A-Z].*\.$/);
      expect(s.split(" ").length, s).toBeGreaterThanOrEqual(5);
    }
  });

  it.each(policies.map((p) => [p.name, p] as const))("%s gives every setting of its config schema a default", (_name, p) => {
    for (const [key, schema] of Object.entries(p.configSchema?.properties ?? {})) {
      expect((schema as { default?: unknown }).default, `${p.name}.${key}`).toBeDefined();
      expect((schema as { description?: string }).description, `${p.name}.${key}`).toBeTruthy();
    }
  });

  it("has one policy per file, and every file's policy is in the pack", () => {
    const names: string[] = [];
    for (const area of AREAS) {
      for (const f of fs.readdirSync(path.join(POLICY_DIR, area)).filter((x) => x.endsWith(".ts"))) {
        const text = fs.readFileSync(path.join(POLICY_DIR, area, f), "utf8");
        // A policy object (`name: "..."`) or a requirement policy built from a check (`requirementPolicy("...", ...)`);
        // files that define none are shared machinery.
        const found = [...text.matchAll(/(?:name: |(?:requirementPolicy|stagingParityPolicy)\(\s*)"([a-z-]+)"/g)].map((m) => m[1]!);
        expect(found.length, `${area}/${f} defines ${found.length} policies`).toBeLessThanOrEqual(1);
        names.push(...found);
      }
    }
    expect(names.sort()).toEqual(policies.map((p) => p.name).sort());
    expect(new Set(names).size).toBe(policies.length);
  });

  it("constructs the PolicyPack only in the entry file", () => {
    const sources = [
      ...fs.readdirSync(POLICY_DIR).filter((f) => f.endsWith(".ts")),
      ...AREAS.flatMap((area) => fs.readdirSync(path.join(POLICY_DIR, area)).map((f) => `${area}/${f}`)),
    ];
    const constructing = sources.filter((f) => /new PolicyPack\(/.test(fs.readFileSync(path.join(POLICY_DIR, f), "utf8")));
    expect(constructing).toEqual(["index.ts"]);
  });

  it("ships what the Pulumi CLI needs to load the pack from its folder", () => {
    const yaml = fs.readFileSync(path.join(POLICY_DIR, "PulumiPolicy.yaml"), "utf8");
    expect(yaml).toMatch(/^runtime: nodejs$/m);
    const pkg = JSON.parse(fs.readFileSync(path.join(POLICY_DIR, "package.json"), "utf8")) as { name: string; main: string; dependencies: Record<string, string> };
    expect(pkg.name).toBe(PACK_NAME);
    expect(fs.existsSync(path.join(POLICY_DIR, pkg.main))).toBe(true);
    const root = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    // The pack runs the same policy SDK the tests run: pinned to the very same versions.
    expect(pkg.dependencies["@pulumi/policy"]).toBe(root.dependencies["@pulumi/policy"]);
    expect(pkg.dependencies["@pulumi/pulumi"]).toBe(root.dependencies["@pulumi/pulumi"]);
    // `npm ci` in policies/ needs a lockfile in step with package.json.
    const lock = JSON.parse(fs.readFileSync(path.join(POLICY_DIR, "package-lock.json"), "utf8")) as { packages: Record<string, { dependencies?: Record<string, string>; version?: string }> };
    expect(lock.packages[""]!.dependencies).toEqual(pkg.dependencies);
    expect(lock.packages["node_modules/@pulumi/policy"]!.version).toBe(pkg.dependencies["@pulumi/policy"]);
    // The policies import nothing from the program: the pack stands alone.
    for (const area of AREAS) {
      for (const f of fs.readdirSync(path.join(POLICY_DIR, area))) {
        expect(fs.readFileSync(path.join(POLICY_DIR, area, f), "utf8"), `${area}/${f}`).not.toMatch(/from "\.\.\/\.\.\//);
      }
    }
  });

  it.each(["prod", "staging"])("the %s policy config names every policy and is valid", (stack) => {
    const file = JSON.parse(fs.readFileSync(path.join(POLICY_DIR, "config", `${stack}.json`), "utf8")) as Record<string, unknown>;
    expect(Object.keys(file).sort()).toEqual(policies.map((p) => p.name).sort());
    const resolved = resolvePolicyConfig(policies, "mandatory", file);
    if (stack === "prod") expect([...resolved.values()].every((r) => r.level === "mandatory")).toBe(true);
  });
});
