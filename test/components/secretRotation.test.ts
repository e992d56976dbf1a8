/**
 * Secret rotation under mocks, for every app of the committed prod and staging stacks, at a clock the
 * test sets: values reach containers only as secrets, in their runbook's format; the database role
 * step runs before anything that uses the new password; Secrets Manager keeps a copy of each value
 * under the app's rotating key; the stack reports the rotation state and no value. Then the same
 * stack one window later, and after an incident (generation bump).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { previousSlotName } from "../../apps/secretSlots";
import { windowIndex, windowStart } from "../../components/secrets/rotationWindow";
import { PROJECT } from "../../config/defaults";
import { parseStackConfig } from "../../config/resolve";
import type { AppSpec, StackSpec } from "../../config/spec";
import { runUnderMocks, type PlannedResource } from "../../plan/mockRuntime";
import { SECRET_SIG, SPECIAL_SIG_KEY } from "../../plan/pulumiInternals";
import type { StackOutputs } from "../../program";
import { CONTAINER, isSecretWire, rawStackConfig } from "../helpers";

const PERIOD = 90;
/** Half way through a window, and the same point of the next one. */
const T0 = windowStart(12, PERIOD) + 45 * 86_400_000;
const T1 = T0 + PERIOD * 86_400_000;

type Run = { spec: StackSpec; resources: readonly PlannedResource[]; outputs: StackOutputs };
const runs: Record<string, Run> = {};
const specAt = (stack: string, now: number, bump = 0): StackSpec => {
  const spec = parseStackConfig(rawStackConfig(stack), PROJECT, { now });
  return { ...spec, apps: spec.apps.map((a) => ({ ...a, rotation: { ...a.rotation, generation: a.rotation.generation + bump } })) };
};
beforeAll(async () => {
  for (const [key, stack, now, bump] of [["prod", "prod", T0, 0], ["staging", "staging", T0, 0], ["prod-next", "prod", T1, 0], ["prod-incident", "prod", T0, 1]] as const) {
    const spec = specAt(stack, now, bump);
    const run = await runUnderMocks(spec, stack);
    runs[key] = { spec, resources: run.resources, outputs: run.outputs as StackOutputs };
  }
});

/** A wire value with its secret marker removed (the value the provider would receive). */
const unwrap = (v: unknown): unknown => (isSecretWire(v) ? (v as { value: unknown }).value : v);
/** Every plain string of a wire value, skipping what is inside a secret. */
function plainStrings(v: unknown): string[] {
  if (typeof v === "string") return [v];
  if (v === null || typeof v !== "object" || (v as Record<string, unknown>)[SPECIAL_SIG_KEY] === SECRET_SIG) return [];
  return Object.values(v as Record<string, unknown>).flatMap(plainStrings);
}
const named = (r: Run, name: string) => r.resources.find((x) => x.name === name);
const envOf = (c: PlannedResource, name: string) => (c.wireInputs["envs"] as unknown[]).find((e) => String(unwrap(e)).startsWith(`${name}=`));
const envValue = (c: PlannedResource, name: string) => String(unwrap(envOf(c, name))).slice(name.length + 1);

/** The values the mock gives generated secrets: a password is `x` repeated, bytes are zeros. */
function mockValues(r: Run): string[] {
  return r.resources.flatMap((x) => {
    const length = Number(unwrap(x.wireInputs["length"]));
    if (x.type === "random:index/randomPassword:RandomPassword") return ["x".repeat(length)];
    if (x.type === "random:index/randomBytes:RandomBytes") return [Buffer.alloc(length).toString("base64"), Buffer.alloc(length).toString("hex")];
    return [];
  });
}

const cases = ["prod", "staging"].flatMap((stack) => specAt(stack, T0).apps.map((app) => [`${stack}/${app.id}`, stack, app.id] as const));
const appOf = (stack: string, id: string): AppSpec => runs[stack]!.spec.apps.find((a) => a.id === id)!;
const usersOfPassword = (r: Run, id: string) => [...r.resources.filter((x) => x.type === CONTAINER && (x.name.startsWith(`${id}-backend-`) || x.name.startsWith(`${id}-worker-`)))];

describe.each(cases)("secret rotation of %s", (_label, stack, id) => {
  it("passes every generated value to containers only as a Pulumi secret, and shows it in plain text nowhere", () => {
    const run = runs[stack]!;
    const values = mockValues(run);
    expect(values.length).toBeGreaterThan(0);
    for (const r of run.resources) {
      for (const text of plainStrings(r.wireInputs)) for (const v of values) expect(text.includes(v), `${r.name} shows a generated value`).toBe(false);
    }
    const app = appOf(stack, id);
    const generated = app.backend.secretEnv.flatMap((s) => (s.source !== "generated" ? [] : s.previousSlot ? [s.name, previousSlotName(s.name)] : [s.name]));
    for (const c of usersOfPassword(run, id)) {
      for (const name of [...generated, ...(app.database.engine === "postgres" ? ["DATABASE_URL"] : [])]) {
        expect(isSecretWire(envOf(c, name)), `${c.name} ${name}`).toBe(true);
      }
      expect(c.options.additionalSecretOutputs).toContain("envs");
    }
  });

  it("makes each generated secret, both slots, with the byte length and encoding its runbook gives", () => {
    const run = runs[stack]!;
    const app = appOf(stack, id);
    const rules = app.backend.secretEnv.flatMap((s) => (s.source === "generated" ? [s] : []));
    const backend = named(run, `${id}-backend-0`)!;
    for (const s of rules) {
      // The catalog's format is the runbook's where the runbook gives one (apps/validate.ts, test/apps).
      for (const name of s.previousSlot ? [s.name, previousSlotName(s.name)] : [s.name]) {
        const value = envValue(backend, name);
        const f = s.format;
        if (f.encoding === "alphanumeric") {
          expect(value, name).toMatch(new RegExp(`^[A-Za-z0-9]{${f.length}}$`));
        } else if (f.encoding === "base64") {
          expect(value, name).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
          expect(Buffer.from(value, "base64").length, name).toBe(f.bytes);
        } else {
          expect(value, name).toMatch(/^[0-9a-f]+$/);
          expect(value.length / 2, name).toBe(f.bytes);
        }
      }
    }
  });

  it("runs the database role step after the database and before every container that uses the new password, and locks the owner after the health gate", () => {
    const run = runs[stack]!;
    const app = appOf(stack, id);
    const step = named(run, `${id}-db-roles-rotate`);
    const lock = named(run, `${id}-db-owner-lock-step`);
    if (app.database.engine !== "postgres") {
      expect(step).toBeUndefined();
      expect(lock).toBeUndefined();
      // SQLite: no role to rotate, and no password anywhere in a database URL (alternating users does not apply).
      for (const c of usersOfPassword(run, id)) expect(String(unwrap(envOf(c, "DATABASE_URL")) ?? ""), c.name).not.toMatch(/:\/\/[^/@]*:[^/@]+@/);
      return;
    }
    const db = named(run, `${id}-db`)!;
    expect(step!.dependencies).toContain(db.urn);
    const gated = run.resources.filter((x) => [`${id}-migrate`, `${id}-release-task`].includes(x.name) || usersOfPassword(run, id).includes(x));
    expect(gated.length).toBeGreaterThanOrEqual(app.backend.replicas);
    for (const r of gated) expect(r.dependencies, `${r.name} waits for the role step`).toContain(step!.urn);
    // The step gives PostgreSQL the password DATABASE_URL carries, for the role it names, as a verifier.
    expect(isSecretWire(step!.wireInputs["stdin"])).toBe(true);
    const [password, ...sql] = String(unwrap(step!.wireInputs["stdin"])).split("\n");
    const url = new URL(envValue(named(run, `${id}-backend-0`)!, "DATABASE_URL"));
    expect(url.password).toBe(password);
    expect(url.username).toBe(run.outputs.apps[id]!.rotation!.database!.activeRole);
    expect(sql.join("\n")).toContain(`ALTER ROLE "${url.username}" WITH LOGIN NOSUPERUSER INHERIT PASSWORD 'SCRAM-SHA-256$4096:`);
    expect(sql.join("\n")).not.toContain(password);
    expect(String(unwrap(step!.wireInputs["create"]))).toMatch(new RegExp(`^docker exec -i ${id}-db-[0-9a-f]{7} sh -c `));
    expect(lock!.dependencies).toContain(named(run, `${id}-health-gate`)!.urn);
    expect(unwrap(lock!.wireInputs["stdin"])).toBe(`ALTER ROLE "${app.database.user}" PASSWORD NULL;\n`);
  });

  it("stores each rotating value in Secrets Manager under the app's rotating KMS key, recoverable for the stack's window", () => {
    const run = runs[stack]!;
    const app = appOf(stack, id);
    const key = named(run, `${id}-secret-store-key`)!;
    expect(unwrap(key.wireInputs["enableKeyRotation"])).toBe(true);
    const secrets = run.resources.filter((x) => x.type === "aws:secretsmanager/secret:Secret" && x.name.startsWith(`${id}-secret-store-`));
    const expected = [
      ...app.backend.secretEnv.flatMap((s) => (s.source !== "generated" ? [] : s.previousSlot ? [s.name, previousSlotName(s.name)] : [s.name])),
      ...(app.database.engine === "postgres" ? ["DATABASE_CREDENTIALS"] : []),
      ...(app.monitoring ? ["GF_SECURITY_ADMIN_PASSWORD"] : []),
    ].sort();
    expect(secrets.map((s) => (unwrap(s.wireInputs["tags"]) as Record<string, string>)["runbook.secret"]).sort()).toEqual(expected);
    for (const s of secrets) {
      expect(s.dependencies, s.name).toContain(key.urn);
      expect(String(unwrap(s.wireInputs["kmsKeyId"]))).toMatch(/^arn:aws:kms:/);
      expect(unwrap(s.wireInputs["recoveryWindowInDays"])).toBe(app.rotation.recoveryWindowDays);
      const version = named(run, `${s.name}-value`)!;
      expect(isSecretWire(version.wireInputs["secretString"]), version.name).toBe(true);
    }
    expect(Object.keys(run.outputs.apps[id]!.secretsManager!).sort()).toEqual(expected);
  });

  it("reports where each secret stands as a stack output, and never a value", () => {
    const run = runs[stack]!;
    const app = appOf(stack, id);
    const state = run.outputs.apps[id]!.rotation!;
    expect(state.clock).toBe(new Date(T0).toISOString());
    expect(state.generation).toBe(app.rotation.generation);
    const names = app.backend.secretEnv.filter((s) => s.source === "generated").map((s) => s.name);
    const made = [...(app.database.engine === "postgres" ? ["DATABASE_PASSWORD"] : []), ...(app.monitoring ? ["GF_SECURITY_ADMIN_PASSWORD"] : [])];
    expect(Object.keys(state.secrets).sort()).toEqual([...names, ...made].sort());
    for (const s of Object.values(state.secrets)) {
      expect(s.window).toBe(windowIndex(T0, s.periodDays));
      expect(Date.parse(s.nextRotation)).toBeGreaterThan(T0);
    }
    const text = JSON.stringify(state);
    for (const v of mockValues(run)) expect(text.includes(v)).toBe(false);
  });
});

describe("secret rotation over time, across the prod stack", () => {
  const keepers = (r: Run) => new Map(r.resources.filter((x) => x.type.startsWith("random:")).map((x) => [x.name, JSON.stringify(unwrap(x.wireInputs["keepers"]))]));
  const changed = (a: Run, b: Run) => {
    const [ka, kb] = [keepers(a), keepers(b)];
    return [...ka.keys()].filter((k) => ka.get(k) !== kb.get(k)).sort();
  };

  it("rotates, one window later, one slot of each two-slot secret and one database role, switches DATABASE_URL, and leaves the database container alone", () => {
    const [before, after] = [runs["prod"]!, runs["prod-next"]!];
    for (const app of before.spec.apps) expect(windowIndex(T1, app.rotation.periodDays) - windowIndex(T0, app.rotation.periodDays)).toBe(1);
    const rotated = changed(before, after);
    const slotted = [...keepers(before).keys()].filter((n) => /-[ab]$/.test(n));
    // Exactly one of each a/b pair.
    const pairs = new Set(slotted.map((n) => n.slice(0, -2)));
    // Single-slot values (Grafana's admin password, reset in Grafana by a step) rotate whole.
    const singles = [...keepers(before).keys()].filter((n) => n.endsWith("-grafana-admin-password"));
    expect(singles.length).toBeGreaterThan(0);
    for (const single of singles) expect(rotated).toContain(single);
    expect(rotated.length).toBe(pairs.size + singles.length);
    for (const base of pairs) expect(rotated.filter((n) => n === `${base}-a` || n === `${base}-b`), base).toHaveLength(1);
    for (const app of before.spec.apps.filter((a) => a.database.engine === "postgres")) {
      const user = (r: Run) => new URL(envValue(named(r, `${app.id}-backend-0`)!, "DATABASE_URL")).username;
      expect(user(after)).not.toBe(user(before));
      expect(after.outputs.apps[app.id]!.rotation!.database).toEqual({ activeRole: user(after), standbyRole: user(before) });
      expect(named(after, `${app.id}-db`)!.wireInputs["envs"]).toEqual(named(before, `${app.id}-db`)!.wireInputs["envs"]);
    }
  });

  it("rotates every value of every app at once after an incident (generation bump), both slots and both database roles, but not the database's bootstrap password", () => {
    const [before, after] = [runs["prod"]!, runs["prod-incident"]!];
    const rotating = [...keepers(before).keys()].filter((n) => !n.endsWith("-db-password"));
    expect(changed(before, after)).toEqual(rotating.sort());
    for (const app of before.spec.apps.filter((a) => a.database.engine === "postgres")) {
      expect(named(after, `${app.id}-db`)!.wireInputs["envs"]).toEqual(named(before, `${app.id}-db`)!.wireInputs["envs"]);
    }
  });
});
