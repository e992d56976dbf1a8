/**
 * The edges of the stack config: every range accepts its limit and refuses one step past it, and an
 * unknown key is refused at every level, directly under an app included, naming the key.
 */
import { describe, expect, it } from "vitest";
import { problemsOf, rawStackConfig } from "../helpers";

function problemsWith(keyPath: string, value: unknown): string[] {
  const cfg = structuredClone(rawStackConfig("prod")) as Record<string, unknown>;
  const keys = keyPath.split(".");
  let cur = cfg;
  for (const k of keys.slice(0, -1)) {
    cur[k] ??= {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys.at(-1)!] = value;
  return problemsOf(cfg);
}

describe("config ranges, at the limit and one past it", () => {
  it.each([
    ["apps.fdts.backend.replicas", 1, 0, "must be at least 1"],
    ["apps.fdts.backend.replicas", 20, 21, "must be at most 20"],
    ["apps.lms.workers.rq.replicas", 20, 21, "must be at most 20"],
    ["apps.fdts.healthGate.attempts", 1, 0, "must be at least 1"],
    ["apps.fdts.healthGate.attempts", 600, 601, "must be at most 600"],
    ["apps.fdts.healthGate.intervalSeconds", 1, 0, "must be at least 1"],
    ["apps.fdts.healthGate.intervalSeconds", 60, 61, "must be at most 60"],
    ["apps.fdts.proxy.clientMaxBodyMb", 1, 0, "must be at least 1"],
    ["apps.fdts.proxy.clientMaxBodyMb", 10240, 10241, "must be at most 10240"],
    ["apps.fdts.proxy.rateLimit.requestsPerSecond", 1, 0, "must be at least 1"],
    ["apps.fdts.proxy.rateLimit.requestsPerSecond", 10000, 10001, "must be at most 10000"],
    ["apps.fdts.proxy.rateLimit.burst", 0, -1, "must be at least 0"],
    ["apps.fdts.proxy.rateLimit.burst", 100000, 100001, "must be at most 100000"],
    ["apps.fdts.proxy.httpPort", 1, 0, "must be a port number from 1 to 65535"],
    ["apps.fdts.proxy.httpPort", 65535, 65536, "must be a port number from 1 to 65535"],
    ["apps.fdts.proxy.httpsPort", 65535, 65536, "must be a port number from 1 to 65535"],
    ["apps.fdts.logRotation.maxFile", 1, 0, "must be at least 1"],
    ["apps.fdts.logRotation.maxFile", 100, 101, "must be at most 100"],
    ["apps.fairlens.backend.limits.cpus", 64, 64.5, "must be at most 64"],
    ["apps.fairlens.backend.limits.memoryMb", 16, 15, "must be at least 16 (MiB)"],
    ["apps.fairlens.backend.limits.memoryMb", 1048576, 1048577, "must be at most 1048576 (1 TiB)"],
  ])("%s accepts %j and refuses %j", (keyPath, ok, bad, message) => {
    // Siblings a range needs (a rate limit has both fields; log rotation has both).
    const withSiblings = (v: unknown): [string, unknown] => {
      const parent = keyPath.split(".").slice(0, -1).join(".");
      const leaf = keyPath.split(".").at(-1)!;
      if (parent.endsWith("rateLimit")) return [parent, { requestsPerSecond: 10, burst: 20, [leaf]: v }];
      if (parent.endsWith("logRotation")) return [parent, { maxSize: "10m", maxFile: 3, [leaf]: v }];
      return [keyPath, v];
    };
    const atLimit = problemsWith(...withSiblings(ok));
    expect(atLimit.filter((p) => p.startsWith(`runbook:${keyPath}`)), atLimit.join("\n")).toEqual([]);
    expect(problemsWith(...withSiblings(bad))).toContain(`runbook:${keyPath}: ${message}`);
  });

  it("accepts a memory reservation equal to the limit and refuses one MiB more", () => {
    expect(problemsWith("apps.lms.backend.limits", { memoryMb: 1024, memoryReservationMb: 1024 })).toEqual([]);
    expect(problemsWith("apps.lms.backend.limits", { memoryMb: 1024, memoryReservationMb: 1025 })).toEqual([
      "runbook:apps.lms.backend.limits.memoryReservationMb: must not exceed memoryMb",
    ]);
  });
});

describe("unknown keys, at every level", () => {
  it.each([
    ["bogus"],
    ["apps.fdts.bogus"],
    ["apps.fdts.backend.bogus"],
    ["apps.fdts.backend.limits.bogus"],
    ["apps.fairlens.frontend.bogus"],
    ["apps.lms.database.bogus"],
    ["apps.lms.cache.bogus"],
    ["apps.lms.workers.rq.bogus"],
    ["apps.fdts.proxy.bogus"],
    ["apps.fdts.proxy.tls.bogus"],
    ["apps.fdts.proxy.rateLimit.bogus"],
    ["apps.fdts.logRotation.bogus"],
    ["apps.fdts.healthGate.bogus"],
  ])("refuses %s, naming the key", (keyPath) => {
    expect(problemsWith(keyPath, 1)).toContain(`runbook:${keyPath}: unknown key`);
  });
});
