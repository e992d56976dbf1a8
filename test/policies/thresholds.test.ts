/**
 * Every configurable threshold of policies/app/*, at its limit and one step past it: with the
 * schema's default, with another value, and with the values the committed policy configs
 * (policies/config/<stack>.json) give. A value exactly at a limit passes; one past it fails.
 * And the ranges of the thresholds themselves, in each policy's config schema.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { PolicyConfigError, resolvePolicyConfig } from "../../plan/policyRunner";
import * as app from "../../policies/app";
import { ROOT } from "../helpers";
import { check, compliantContainer } from "./harness";

const compliant = compliantContainer;

interface Threshold {
  readonly policy: ResourceValidationPolicy;
  readonly setting: string;
  readonly schemaDefault: number;
  /** Container props with the measured value set to `n`. */
  readonly props: (n: number) => Record<string, unknown>;
  /** One step past the limit: +1 for a maximum, -1 for a minimum. */
  readonly past: 1 | -1;
}

const thresholds: Threshold[] = [
  {
    policy: app.healthcheckRequired,
    setting: "maxIntervalSeconds",
    schemaDefault: 60,
    props: (n) => ({ ...compliant(), healthcheck: { tests: ["CMD", "pg_isready"], interval: `${n}s`, retries: 5 } }),
    past: 1,
  },
  {
    policy: app.logRotationRequired,
    setting: "maxSizeMb",
    schemaDefault: 100,
    props: (n) => ({ ...compliant(), logOpts: { "max-size": `${n}m`, "max-file": "3" } }),
    past: 1,
  },
  {
    policy: app.logRotationRequired,
    setting: "maxFiles",
    schemaDefault: 10,
    props: (n) => ({ ...compliant(), logOpts: { "max-size": "10m", "max-file": String(n) } }),
    past: 1,
  },
  { policy: app.memoryLimitRequired, setting: "minMemoryMb", schemaDefault: 64, props: (n) => ({ ...compliant(), memory: n }), past: -1 },
];

const committed = ["prod", "staging"].map((stack) => {
  const file = JSON.parse(fs.readFileSync(path.join(ROOT, "policies", "config", `${stack}.json`), "utf8")) as Record<string, unknown>;
  return [stack, file] as const;
});

describe("policy thresholds: at the limit passes, one past fails", () => {
  it.each(thresholds.map((t) => [t.policy.name, t.setting, t] as const))("%s.%s with its schema default", async (_p, setting, t) => {
    const schema = t.policy.configSchema!.properties[setting] as { default: number };
    expect(schema.default).toBe(t.schemaDefault);
    expect(await check(t.policy, { props: t.props(t.schemaDefault) })).toEqual([]);
    expect(await check(t.policy, { props: t.props(t.schemaDefault + t.past) })).toHaveLength(1);
  });

  it.each(thresholds.map((t) => [t.policy.name, t.setting, t] as const))("%s.%s with a configured value", async (_p, setting, t) => {
    // A stricter limit than the default: 7 below a maximum, 7 above a minimum.
    const limit = t.schemaDefault - 7 * t.past;
    expect(await check(t.policy, { props: t.props(limit) }, { [setting]: limit })).toEqual([]);
    expect(await check(t.policy, { props: t.props(limit + t.past) }, { [setting]: limit })).toHaveLength(1);
  });

  it.each(committed.flatMap(([stack, file]) => thresholds.map((t) => [stack, t.policy.name, t.setting, file, t] as const)))(
    "policies/config/%s.json: %s.%s",
    async (_stack, name, setting, file, t) => {
      const entry = file[name];
      const configured = typeof entry === "object" && entry !== null ? (entry as Record<string, unknown>)[setting] : undefined;
      const limit = typeof configured === "number" ? configured : t.schemaDefault;
      const config = typeof configured === "number" ? { [setting]: configured } : {};
      expect(await check(t.policy, { props: t.props(limit) }, config)).toEqual([]);
      expect(await check(t.policy, { props: t.props(limit + t.past) }, config)).toHaveLength(1);
    },
  );

  it("counts a health check interval of exactly 1m as 60 s, and 1m1s as over", async () => {
    const p = app.healthcheckRequired;
    const withInterval = (interval: string) => ({ props: { ...compliant(), healthcheck: { tests: ["CMD", "pg_isready"], interval, retries: 5 } } });
    expect(await check(p, withInterval("1m"))).toEqual([]);
    expect(await check(p, withInterval("1m1s"))).toEqual(["Container c checks its health every 61s; at most 60s is allowed."]);
  });

  it("counts 102400k as 100 MiB of log, and 102401k as over", async () => {
    const p = app.logRotationRequired;
    const withSize = (size: string) => ({ props: { ...compliant(), logOpts: { "max-size": size, "max-file": "3" } } });
    expect(await check(p, withSize("102400k"))).toEqual([]);
    expect(await check(p, withSize("102401k"))).toEqual(["Container c keeps log files of up to 102401k; at most 100m is allowed."]);
  });

  it("keeps at least one rotated log file: 1 passes, 0 fails", async () => {
    const p = app.logRotationRequired;
    expect(await check(p, { props: { ...compliant(), logOpts: { "max-size": "10m", "max-file": "1" } } })).toEqual([]);
    expect(await check(p, { props: { ...compliant(), logOpts: { "max-size": "10m", "max-file": "0" } } })).toEqual([
      "Container c keeps 0 log files; from 1 to 10 are allowed.",
    ]);
  });
});

describe("threshold settings' own ranges, at the edge", () => {
  const problems = (policy: ResourceValidationPolicy, setting: string, value: number) => {
    try {
      resolvePolicyConfig([policy], "mandatory", { [policy.name]: { [setting]: value } });
      return [];
    } catch (err) {
      return [...(err as PolicyConfigError).problems];
    }
  };

  const byName = new Map([app.healthcheckRequired, app.logRotationRequired, app.memoryLimitRequired].map((p) => [p.name, p]));
  it.each([
    ["app-container-healthcheck-required", "maxIntervalSeconds", 1, 0, "must be >= 1"],
    ["app-container-healthcheck-required", "maxIntervalSeconds", 3600, 3601, "must be <= 3600"],
    ["app-container-log-rotation-required", "maxSizeMb", 1, 0, "must be >= 1"],
    ["app-container-log-rotation-required", "maxSizeMb", 10240, 10241, "must be <= 10240"],
    ["app-container-log-rotation-required", "maxFiles", 1, 0, "must be >= 1"],
    ["app-container-log-rotation-required", "maxFiles", 100, 101, "must be <= 100"],
    ["app-container-memory-limit-required", "minMemoryMb", 4, 3, "must be >= 4"],
    ["app-container-memory-limit-required", "minMemoryMb", 1048576, 1048577, "must be <= 1048576"],
  ])("%s.%s accepts %i and refuses %i", (name, setting, ok, bad, message) => {
    const policy = byName.get(name)!;
    expect(problems(policy, setting, ok)).toEqual([]);
    expect(problems(policy, setting, bad)).toEqual([`${policy.name}.${setting}: ${message}`]);
  });
});
