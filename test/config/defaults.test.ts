/**
 * Every default, pinned after resolution. The expected values are written out here, not read from
 * config/defaults.ts or the catalog, so a changed default fails a test; and every leaf of DEFAULTS
 * must be pinned below, so a new default cannot go unpinned.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULTS, PROTECTED_ENVIRONMENTS } from "../../config/defaults";
import { parseStackConfig } from "../../config/resolve";
import type { AppSpec } from "../../config/spec";
import { ROOT } from "../helpers";
import { DIAGNOSE_DEFAULTS } from "../../components/diagnostics";
import { MAINTENANCE_JOB_DEFAULTS, SCHEDULES } from "../../components/maintenance";
import { MAINTENANCE_DEFAULTS } from "../../config/maintenance";

/** A stack that sets only what is required: one app, its tags. */
function minimal(app: string, environment = "staging"): AppSpec {
  const tags: Record<string, unknown> = { backend: { tag: "1.0.0" } };
  if (["fairlens", "reference", "handwork"].includes(app)) tags["frontend"] = { tag: "1.0.0" };
  return parseStackConfig({ environment, apps: { [app]: tags } }).apps[0]!;
}

/** [DEFAULTS leaf it pins, what it reads from a resolved app, the value] */
const stackDefaults: [string, (a: AppSpec) => unknown, unknown][] = [
  ["host", (a) => a.host, { kind: "local", dockerHost: "unix:///var/run/docker.sock" }],
  ["publicHost", (a) => a.publicHost, "localhost"],
  ["logRotation.maxSize", (a) => a.logRotation.maxSize, "10m"],
  ["logRotation.maxFile", (a) => a.logRotation.maxFile, 3],
  ["proxy.image", (a) => a.proxy.image.split(":")[0], "nginx"],
  ["proxy.tag", (a) => a.proxy.image.split(":")[1], "1.27.3-alpine"],
  ["proxy.httpPort", (a) => a.proxy.httpPort, 80],
  ["proxy.httpsPort", (a) => a.proxy.httpsPort, 443],
  ["proxy.maintenance", (a) => a.proxy.maintenance, false],
  ["proxy.rateLimit.requestsPerSecond", (a) => a.proxy.rateLimit.requestsPerSecond, 10],
  ["proxy.rateLimit.burst", (a) => a.proxy.rateLimit.burst, 20],
  ["proxy.clientMaxBodyMb", (a) => a.proxy.clientMaxBodyMb, 25],
  ["proxy.limits.cpus", (a) => a.proxy.limits.cpus, 0.5],
  ["proxy.limits.memoryMb", (a) => a.proxy.limits.memoryMb, 256],
  ["healthGate.attempts", (a) => a.healthGate.attempts, 30],
  ["healthGate.intervalSeconds", (a) => a.healthGate.intervalSeconds, 2],
];

function leaves(value: unknown, prefix = ""): string[] {
  if (value === null || typeof value !== "object") return [prefix];
  return Object.entries(value).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
}

const APPS = ["fairlens", "fdts", "reference", "lms", "handwork"];

describe("stack defaults after resolution", () => {
  it.each(APPS.flatMap((app) => stackDefaults.map(([leaf, read, value]) => [app, leaf, read, value] as const)))(
    "%s: %s defaults to the pinned value",
    (app, _leaf, read, value) => expect(read(minimal(app))).toEqual(value),
  );

  it("pins every leaf of DEFAULTS", () => {
    expect(stackDefaults.map(([leaf]) => leaf).sort()).toEqual(leaves(DEFAULTS).sort());
  });

  it("turns no TLS on, protects state in prod only, and sets no external secret", () => {
    for (const app of APPS) {
      expect(minimal(app).proxy.tls, app).toBeUndefined();
      expect(minimal(app).protectState, app).toBe(false);
      expect(minimal(app, "prod").protectState, app).toBe(true);
      expect(minimal(app).externalSecrets, app).toEqual({});
    }
    expect(PROTECTED_ENVIRONMENTS).toEqual(["prod"]);
  });

  it("states the same defaults in the README's config reference", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    for (const row of [
      "| `apps.<id>.host` | URL | `unix:///var/run/docker.sock` |",
      "| `apps.<id>.proxy.tag` | image tag | `1.27.3-alpine` (nginx) |",
      "| `apps.<id>.proxy.httpPort`, `.httpsPort` | port | 80, 443 |",
      "| `apps.<id>.proxy.maintenance` | boolean | `false` |",
      "| `apps.<id>.proxy.rateLimit` | `{requestsPerSecond, burst}` | 10 r/s, burst 20 |",
      "| `apps.<id>.proxy.clientMaxBodyMb` | 1–10240 | 25 |",
      "| `apps.<id>.logRotation` | `{maxSize, maxFile}` | `10m`, 3 |",
      "| `apps.<id>.healthGate` | `{attempts, intervalSeconds}` | 30, 2 s |",
    ]) {
      expect(readme).toContain(row);
    }
  });
});

describe("catalog defaults after resolution (the values the README's config reference gives)", () => {
  it.each([
    ["fairlens", 2],
    ["fdts", 1],
    ["reference", 2],
    ["lms", 3],
    ["handwork", 2],
  ])("%s runs %i backend replicas by default", (app, replicas) => expect(minimal(String(app)).backend.replicas).toBe(replicas));

  it("gives the LMS web 2 CPUs and 4096 MiB (2048 reserved) and its database 8192 MiB (4096 reserved)", () => {
    const lms = minimal("lms");
    expect(lms.backend.limits).toEqual({ cpus: 2, memoryMb: 4096, memoryReservationMb: 2048 });
    expect(lms.database).toMatchObject({ engine: "postgres", image: "postgres:16.4-alpine", limits: { cpus: 2, memoryMb: 8192, memoryReservationMb: 4096 } });
  });

  it("runs PostgreSQL 16.4 where an app has a database container, and SQLite inside the others", () => {
    for (const app of ["fairlens", "reference", "lms"]) expect(minimal(app).database, app).toMatchObject({ engine: "postgres", image: "postgres:16.4-alpine" });
    for (const app of ["fdts", "handwork"]) expect(minimal(app).database.engine, app).toBe("sqlite");
  });

  it("turns FairLens' optional Redis off and the LMS Redis on, with one rq worker", () => {
    expect(minimal("fairlens").cache).toBeUndefined();
    expect(minimal("lms").cache).toMatchObject({ image: "redis:7.4-alpine", port: 6379 });
    expect(minimal("lms").workers.map((w) => [w.name, w.replicas])).toEqual([["rq", 1]]);
  });

  it("lists every external secret a minimal stack leaves unset", () => {
    expect(Object.fromEntries(APPS.map((a) => [a, minimal(a).unsetExternalSecrets]))).toEqual({
      fairlens: ["ALGORAND_API_KEY"],
      fdts: [],
      reference: [],
      lms: ["FIREBASE_CREDENTIALS_JSON", "SLACK_WEBHOOK_URL"],
      handwork: ["STRIPE_SECRET_KEY", "PAYPAL_CLIENT_SECRET", "TWILIO_AUTH_TOKEN", "SENDGRID_API_KEY"],
    });
  });
});

// Maintenance, scaling and diagnostics: that area's defaults, every leaf pinned.
describe("maintenance, scaling and diagnostics defaults", () => {
  const pinned: [string, unknown, unknown][] = [
    ["MAINTENANCE_DEFAULTS", MAINTENANCE_DEFAULTS, { enabled: true, window: false, osUpdates: "off" }],
    ["MAINTENANCE_JOB_DEFAULTS", MAINTENANCE_JOB_DEFAULTS, { logRetentionDays: 30, imageRetentionDays: 7 }],
    [
      "SCHEDULES",
      SCHEDULES,
      { weekly: "Sun *-*-* 02:00:00 UTC", monthly: "Sun *-*-01..07 03:00:00 UTC", prune: "Sun *-*-* 04:00:00 UTC", logs: "*-*-* 04:30:00 UTC", certificates: "*-*-* 00,12:17:00 UTC" },
    ],
    ["DIAGNOSE_DEFAULTS", DIAGNOSE_DEFAULTS, { diskPercent: 80, connectionsPercent: 80, logLines: 50, logSince: "24h" }],
  ];
  it.each(pinned)("%s holds the pinned values", (_, actual, expected) => expect(actual).toEqual(expected));

  it.each(APPS)("%s: a minimal stack gets the scheduled jobs on, no window, no OS updates, and a host of unknown size", (app) => {
    const a = minimal(app);
    expect(a.maintenance).toEqual({ enabled: true, window: false, osUpdates: "off" });
    expect(a.hostCapacity).toEqual({ hostKey: "unix:///var/run/docker.sock", source: "unknown: set apps.<id>.hostMemoryMb" });
  });
});
