/**
 * `apps.<id>.fargate`: its defaults, and every problem named on the key that is wrong: a SQLite app,
 * settings only a Docker host has, a missing domain, shared subnets, an autoscaling ceiling below the
 * replicas. Apps on Docker hosts keep their host rules without the Fargate app in them.
 */
import { describe, expect, it } from "vitest";
import { FARGATE_DEFAULTS } from "../../config/fargate";
import { parseStackConfig } from "../../config/resolve";
import { PROJECT } from "../../config/defaults";
import { problemsOf } from "../helpers";
import { FARGATE, withFargate } from "./fixtures";

const appOf = (raw: unknown, id: string) => parseStackConfig(raw as never, PROJECT).apps.find((a) => a.id === id)!;
const key = (id: string, ...rest: string[]) => `runbook:apps.${id}${rest.length ? "." + rest.join(".") : ""}`;

describe("apps.<id>.fargate", () => {
  it("resolves with its defaults: a Multi-AZ database in prod, a single-zone one in staging, no autoscaling", () => {
    expect(appOf(withFargate("prod", "lms"), "lms").fargate).toEqual({
      ...FARGATE,
      database: { instanceClass: "db.m6g.large", storageGb: 100, multiAz: true },
      cacheNodeType: "cache.t4g.small",
    });
    expect(appOf(withFargate("staging", "lms"), "lms").fargate!.database.multiAz).toBe(false);
    // The default class holds the catalog's database limits: the LMS's 8 GiB, the reference app's 2 GiB.
    expect(appOf(withFargate("prod", "reference"), "reference").fargate!.database.instanceClass).toBe("db.t4g.medium");
    expect(FARGATE_DEFAULTS).toEqual({ databaseStorageGb: 100, cacheNodeType: "cache.t4g.small", autoscalingCpuPercent: 60, maxPointInTimeDays: 35 });
  });

  it("takes the stack's database, cache and autoscaling settings, with a 60 % CPU target unless given", () => {
    const f = appOf(withFargate("prod", "lms", { database: { instanceClass: "db.r6g.large", storageGb: 200, multiAz: false }, cache: { nodeType: "cache.r7g.large" }, autoscaling: { maxReplicas: 12 } }), "lms").fargate!;
    expect([f.database, f.cacheNodeType, f.autoscaling]).toEqual([{ instanceClass: "db.r6g.large", storageGb: 200, multiAz: false }, "cache.r7g.large", { maxReplicas: 12, cpuPercent: 60 }]);
  });

  it("takes the stack's proxy.rateLimit, which the load balancer's WAF keeps", () => {
    const raw = withFargate("prod", "lms") as unknown as { apps: Record<string, Record<string, unknown>> };
    raw.apps["lms"]!["proxy"] = { ...(raw.apps["lms"]!["proxy"] as object | undefined), rateLimit: { requestsPerSecond: 5, burst: 10 } };
    expect(appOf(raw, "lms").proxy.rateLimit).toEqual({ requestsPerSecond: 5, burst: 10 });
  });

  it("turns on the app's TLS settings, since the load balancer always terminates TLS", () => {
    expect(appOf(withFargate("prod", "lms"), "lms").backend.env["SECURE_SSL_REDIRECT"]).toBe("true");
    // The same settings on a Docker host whose proxy has no certificate: off.
    const onHost = withFargate("prod", "lms") as unknown as { apps: Record<string, Record<string, unknown>> };
    delete onHost.apps["lms"]!["fargate"];
    expect(appOf(onHost, "lms").backend.env["SECURE_SSL_REDIRECT"]).toBe("false");
  });

  it.each(["fdts", "handwork"])("refuses %s, which keeps SQLite on its backend's volume, naming the key", (id) => {
    expect(problemsOf(withFargate("prod", id))).toContainEqual(expect.stringMatching(new RegExp(`^${key(id, "fargate").replace(/\./g, "\\.")}: .* keeps SQLite in a file on its backend's volume; a Fargate task has no lasting disk`)));
  });

  it.each([
    ["host", "ssh://deploy@lms.example.com"],
    ["hostMemoryMb", 8192],
    ["monitoring", { retentionDays: 30 }],
    ["logging", { enabled: true }],
    ["maintenance", { window: true }],
    ["firewall", { lockdown: true }],
    ["logRotation", { maxSize: "10m", maxFile: 3 }],
    ["releases", { keep: 5 }],
  ])("refuses `%s` beside fargate, naming it and why", (name, value) => {
    const raw = withFargate("prod", "lms") as unknown as { apps: Record<string, Record<string, unknown>> };
    raw.apps["lms"]![name] = value;
    expect(problemsOf(raw)).toContainEqual(expect.stringMatching(new RegExp(`^${key("lms", name).replace(/\./g, "\\.")}: is not used with \`fargate\`: `)));
  });

  it("refuses nested Docker-only settings by their own key: proxy.tls, database.pooler, cache.limits, backups.restoreFrom", () => {
    const raw = withFargate("prod", "lms") as unknown as { apps: Record<string, Record<string, unknown>> };
    const lms = raw.apps["lms"]!;
    lms["proxy"] = { tls: { certificateFile: "/c.pem", keyFile: "/k.pem" } };
    lms["database"] = { pooler: { enabled: true } };
    lms["cache"] = { limits: { memoryMb: 512 } };
    lms["backups"] = { restoreFrom: { stack: "organization/runbook/prod" }, localRetentionDays: 7, schedule: "0 3 * * *", cloudRetentionDays: 120 };
    const problems = problemsOf(raw).filter((p) => p.includes("is not used with `fargate`"));
    // The schedule and the cloud retention are used (AWS Backup's plan); what only a host has is refused.
    expect(problems.map((p) => p.split(": ")[0])).toEqual(["backups.localRetentionDays", "backups.restoreFrom", "cache.limits", "database.pooler", "proxy.tls"].map((k) => `runbook:apps.lms.${k}`));
  });

  it("takes backups.verifySchedule as the restore test's schedule, and names a schedule AWS Backup's cron cannot say", () => {
    const raw = withFargate("prod", "lms") as unknown as { apps: Record<string, Record<string, unknown>> };
    raw.apps["lms"]!["backups"] = { verifySchedule: "0 4 * * 0" };
    expect(problemsOf(raw)).toEqual([]);
    expect(appOf(raw, "lms").backups.verifySchedule).toBe("0 4 * * 0");
    raw.apps["lms"]!["backups"] = { schedule: "0 2 * * */2", verifySchedule: "0 4 * * 1/2" };
    expect(problemsOf(raw)).toEqual([
      `${key("lms", "backups", "schedule")}: AWS Backup takes no step (/) in the day of the week; list the days (1,3,5) (with \`fargate\`, AWS Backup runs it)`,
      `${key("lms", "backups", "verifySchedule")}: AWS Backup takes no step (/) in the day of the week; list the days (1,3,5) (with \`fargate\`, AWS Backup runs it)`,
    ]);
  });

  it("needs the app's domain: the certificate is for it and the health gate sends it", () => {
    const raw = withFargate("prod", "lms") as unknown as { apps: Record<string, Record<string, unknown>> };
    delete raw.apps["lms"]!["domain"];
    expect(problemsOf(raw)).toContain(`${key("lms", "domain")}: is required with \`fargate\`: the load balancer's certificate is for it, and the health gate sends it as the Host header`);
  });

  it("names each malformed id, a single subnet, a subnet in both lists, and an autoscaling ceiling below the replicas", () => {
    const raw = withFargate("prod", "lms", {
      vpcId: "vpc-1",
      publicSubnetIds: ["subnet-0a0000000000000a1"],
      privateSubnetIds: ["subnet-0a0000000000000a1", "subnet-0b0000000000000b2"],
      certificateArn: "arn:aws:iam::111122223333:server-certificate/x",
      autoscaling: { maxReplicas: 2 },
    });
    expect(problemsOf(raw)).toEqual([
      `${key("lms", "fargate", "autoscaling", "maxReplicas")}: must be at least backend.replicas (3): the backend never runs fewer than its replicas`,
      `${key("lms", "fargate", "certificateArn")}: must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)`,
      `${key("lms", "fargate", "privateSubnetIds")}: must not share subnets with publicSubnetIds (subnet-0a0000000000000a1): tasks and the database stay off the internet-facing subnets`,
      `${key("lms", "fargate", "publicSubnetIds")}: must list at least two subnets, in two availability zones (a load balancer and RDS need two)`,
      `${key("lms", "fargate", "vpcId")}: must be an id such as vpc-0123456789abcdef0 (from your AWS account; the program looks nothing up)`,
    ]);
  });

  it("leaves the other apps' host rules to the apps on hosts: a Fargate app holds no host port", () => {
    // Staging runs every app on one Docker host, each proxy on its own port; LMS's port 80 there is free once it moves.
    const raw = withFargate("staging", "lms") as unknown as { apps: Record<string, Record<string, unknown>> };
    expect(problemsOf(raw)).toEqual([]);
    const spec = parseStackConfig(raw as never, PROJECT);
    expect(spec.apps.filter((a) => a.fargate).map((a) => a.id)).toEqual(["lms"]);
    const onHost = spec.apps.filter((a) => !a.fargate);
    expect(onHost.map((a) => a.hostCapacity.hostKey)).not.toContain(undefined);
  });
});
