/**
 * Secret rotation settings: `apps.<id>.rotation` in a stack file, every default pinned (written out
 * here, not read from ROTATION_DEFAULTS), every problem named by its key path, and the rotation clock
 * that only previews and the offline plan may set.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { catalog } from "../../apps";
import { ConfigError } from "../../config/errors";
import { parseStackConfig, type RawConfig } from "../../config/resolve";
import { ROTATION_CLOCK_ENV, parseClock, rotationClock } from "../../config/rotationClock";
import { ROTATION_DEFAULTS } from "../../config/secrets";
import type { AppSpec } from "../../config/spec";
import { parsePlanArgs } from "../../plan/args";
import { runPlan } from "../../plan/cli";
import { ROOT, rawStackConfig } from "../helpers";

const APPS = Object.keys(catalog);
const NOW = Date.UTC(2026, 5, 1);

function minimal(app: string, rotation?: Record<string, unknown>, environment = "staging"): AppSpec {
  const settings: Record<string, unknown> = { backend: { tag: "1.0.0" }, ...(rotation && { rotation }) };
  if (catalog[app]!.frontend) settings["frontend"] = { tag: "1.0.0" };
  return parseStackConfig({ environment, apps: { [app]: settings } }, "runbook", { now: NOW }).apps[0]!;
}

function problemsOf(raw: unknown): string[] {
  try {
    parseStackConfig(raw as RawConfig, "runbook", { now: NOW });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  return [];
}

/** [ROTATION_DEFAULTS leaf, what it reads from a resolved app, the value] */
const pinned: [string, (a: AppSpec) => unknown, unknown][] = [
  // FairLens's runbook: "Quarterly: Review and rotate secrets/keys"; the same quarter where a runbook names none.
  ["periodDays", (a) => a.rotation.periodDays, 90],
  ["generation", (a) => a.rotation.generation, 0],
  ["recoveryWindowDays", (a) => a.rotation.recoveryWindowDays, 30],
];

describe("apps.<id>.rotation", () => {
  it.each(APPS.flatMap((app) => pinned.map(([leaf, read, value]) => [app, leaf, read, value] as const)))("%s: rotation.%s defaults to the pinned value", (app, _leaf, read, value) => {
    expect(read(minimal(app))).toEqual(value);
  });

  it("pins every leaf of ROTATION_DEFAULTS", () => {
    expect(pinned.map(([leaf]) => leaf).sort()).toEqual(Object.keys(ROTATION_DEFAULTS).sort());
  });

  it("states the same defaults in the README's config reference", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    for (const row of [
      "| `apps.<id>.rotation.periodDays` | 1–365 | 90 (FairLens: its runbook's quarter) |",
      "| `apps.<id>.rotation.generation` | whole number ≥ 0 | 0 |",
      "| `apps.<id>.rotation.recoveryWindowDays` | 7–30 | 30 |",
    ]) {
      expect(readme).toContain(row);
    }
  });

  it("takes the clock the stack is parsed with, and the runbook's period where it names one", () => {
    for (const app of APPS) {
      const spec = minimal(app);
      expect(spec.rotation.now).toBe(NOW);
      expect(spec.rotation.periodDays).toBe(catalog[app]!.requirements.rotation?.["*"]?.value ?? 90);
      expect(spec.rotation.periods).toEqual({});
    }
    expect(catalog["fairlens"]!.requirements.rotation?.["*"]?.source.line).toBe(174);
  });

  it("lets a stack set the period, the incident generation and the recovery window", () => {
    for (const app of APPS) {
      expect(minimal(app, { periodDays: 30, generation: 3, recoveryWindowDays: 7 }).rotation).toEqual({ now: NOW, generation: 3, periodDays: 30, periods: {}, recoveryWindowDays: 7 });
    }
  });

  it.each<[string, unknown, string]>([
    ["periodDays", 0, "runbook:apps.fdts.rotation.periodDays: must be at least 1 (day)"],
    ["periodDays", 400, "runbook:apps.fdts.rotation.periodDays: must be at most 365 (days)"],
    ["periodDays", 1.5, "runbook:apps.fdts.rotation.periodDays: must be a whole number of days"],
    ["generation", -1, "runbook:apps.fdts.rotation.generation: must be at least 0"],
    ["generation", "1", "runbook:apps.fdts.rotation.generation: must be a whole number of rotations"],
    ["recoveryWindowDays", 0, "runbook:apps.fdts.rotation.recoveryWindowDays: must be from 7 to 30 (Secrets Manager's recovery window)"],
    ["recoveryWindowDays", 31, "runbook:apps.fdts.rotation.recoveryWindowDays: must be from 7 to 30 (Secrets Manager's recovery window)"],
    ["period", 90, "runbook:apps.fdts.rotation.period: unknown key"],
  ])("refuses rotation.%s = %j, naming the key path", (key, value, message) => {
    const raw = structuredClone(rawStackConfig("prod")) as { apps: Record<string, Record<string, unknown>> };
    raw.apps["fdts"]!["rotation"] = { [key]: value };
    expect(problemsOf(raw)).toEqual([message]);
  });

  it("refuses a previous slot set as an external secret: the program generates and rotates it", () => {
    const raw = structuredClone(rawStackConfig("prod")) as Record<string, unknown>;
    raw["secrets"] = { fdts: { JWT_SECRET_PREVIOUS: { secure: "v1:abc" } } };
    expect(problemsOf(raw)).toEqual(["runbook:secrets.fdts.JWT_SECRET_PREVIOUS: is generated by the program and rotated by it; it cannot be set"]);
  });
});

describe("the rotation clock", () => {
  it("is the real time unless RUNBOOK_ROTATION_NOW is set", () => {
    expect(rotationClock({}, false, 1234)).toBe(1234);
    expect(rotationClock({ [ROTATION_CLOCK_ENV]: "" }, true, 1234)).toBe(1234);
  });

  it("may be set for a preview only: a real update refuses it, naming the variable", () => {
    expect(rotationClock({ [ROTATION_CLOCK_ENV]: "2027-01-01T00:00:00Z" }, true, 1234)).toBe(Date.UTC(2027, 0, 1));
    expect(() => rotationClock({ [ROTATION_CLOCK_ENV]: "2027-01-01T00:00:00Z" }, false)).toThrow(
      "RUNBOOK_ROTATION_NOW: sets the rotation clock for `pulumi preview` only; unset it for `pulumi up` (rotation follows the real time)",
    );
    expect(() => rotationClock({ [ROTATION_CLOCK_ENV]: "next tuesday" }, true)).toThrow("RUNBOOK_ROTATION_NOW: must be an ISO 8601 time with a zone, such as 2026-04-01T00:00:00Z");
  });

  it.each([
    ["2026-04-01T00:00:00Z", Date.UTC(2026, 3, 1)],
    ["2026-04-01T02:00:00+02:00", Date.UTC(2026, 3, 1)],
    ["2026-04-01", Date.UTC(2026, 3, 1)],
    ["2026-04-01T00:00:00", undefined],
    ["1712000000", undefined],
    ["2026-13-01T00:00:00Z", undefined],
  ])("reads %s as %s", (text, at) => expect(parseClock(text)).toBe(at));

  it("is set in the offline plan with --now, and a bad one is refused before anything runs", async () => {
    const ok = parsePlanArgs(["--stack", "staging", "--now", "2027-01-01T00:00:00Z"], ROOT);
    expect(ok.kind === "run" && ok.options.now).toBe(Date.UTC(2027, 0, 1));
    expect(parsePlanArgs(["--stack", "staging", "--now", "soon"], ROOT)).toEqual({ kind: "error", message: "--now: `soon` is not an ISO 8601 time with a zone, such as 2026-04-01T00:00:00Z" });
    const plan = await runPlan({ stack: "staging", json: false, cwd: ROOT, now: Date.UTC(2027, 0, 1) });
    expect(plan.exitCode).toBe(0);
    expect(plan.stdout).toContain("Rotation clock: 2027-01-01T00:00:00.000Z (--now); each generated secret is in the window of that time.");
  });
});
