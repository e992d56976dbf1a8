/**
 * Container orchestration (reference app runbook "5. Scalability Considerations", line 182: "For
 * complex deployments and advanced scaling, consider Kubernetes or AWS ECS/Fargate"): the stack
 * setting `apps.<id>.fargate`, its rules against the app's other settings, and how it resolves.
 *
 * With it the same app (catalog entry, tags, replicas, limits, secrets, health paths, migrations)
 * runs on ECS Fargate instead of a Docker host: stateless services behind an Application Load
 * Balancer, PostgreSQL as RDS, Redis as ElastiCache (components/fargate). Only PostgreSQL apps can:
 * a SQLite file lives on its backend's volume, and a Fargate task has no lasting disk.
 */
import { z } from "zod";
import type { ResourceLimits } from "../apps/types";
import { awsId } from "./hosts";
import { rdsClassSize } from "../policies/fargate/rdsClasses";
import { AwsCronError, awsBackupCron } from "../components/fargate/awsCron";
import type { RawProblem } from "./schema";

/** Instance classes the default is picked from, smallest first: the first that holds the runbook's database limits. */
export const RDS_DEFAULT_CLASSES = ["db.t4g.medium", "db.m6g.large", "db.m6g.xlarge", "db.m6g.2xlarge", "db.m6g.4xlarge", "db.m6g.8xlarge"] as const;

export const FARGATE_DEFAULTS = {
  databaseStorageGb: 100,
  cacheNodeType: "cache.t4g.small",
  /** Target tracking on the backend's average CPU (percent of its task's CPU). */
  autoscalingCpuPercent: 60,
  /** RDS keeps automated backups (point-in-time restore) at most 35 days. */
  maxPointInTimeDays: 35,
} as const;

/** Two subnets at least, in two zones: an ALB, an RDS subnet group and a Multi-AZ failover need them. */
const subnets = z
  .array(awsId("subnet"), { error: "must be a list of subnet ids" })
  .min(2, { error: "must list at least two subnets, in two availability zones (a load balancer and RDS need two)" })
  .refine((ids) => new Set(ids).size === ids.length, { error: "must not list a subnet twice" });

export const fargateSchema = z.strictObject({
  vpcId: awsId("vpc"),
  /** The load balancer's subnets (with a route to an internet gateway). */
  publicSubnetIds: subnets,
  /** The tasks', the database's and the cache's subnets (no public addresses; egress through a NAT gateway). */
  privateSubnetIds: subnets,
  /** The ACM certificate of the app's `domain`, which the load balancer serves. */
  certificateArn: z
    .string({ error: "must be an ACM certificate ARN" })
    .regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]+$/, { error: "must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)" }),
  database: z
    .strictObject({
      instanceClass: z.string().regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, { error: "must be an RDS instance class such as db.t4g.medium" }).optional(),
      storageGb: z.number().int({ error: "must be a whole number of GiB" }).min(20, { error: "must be at least 20 (RDS's smallest gp3 volume)" }).max(65_536, { error: "must be at most 65536" }).optional(),
      multiAz: z.boolean({ error: "must be true or false" }).optional(),
    })
    .optional(),
  cache: z
    .strictObject({
      nodeType: z.string().regex(/^cache\.[a-z0-9]+\.[a-z0-9]+$/, { error: "must be an ElastiCache node type such as cache.t4g.small" }).optional(),
    })
    .optional(),
  /** The backend's task count follows its CPU between its replicas and this. */
  autoscaling: z
    .strictObject({
      maxReplicas: z.number().int({ error: "must be a whole number" }).min(1, { error: "must be at least 1" }).max(100, { error: "must be at most 100" }),
      cpuPercent: z.number().int({ error: "must be a whole percent" }).min(10, { error: "must be at least 10" }).max(90, { error: "must be at most 90" }).optional(),
    })
    .optional(),
});

export const fargateKeys = { fargate: fargateSchema.optional() };

/** An app on ECS Fargate: where it runs, and the managed services that replace its state containers. */
export interface FargateSpec {
  readonly vpcId: string;
  readonly publicSubnetIds: readonly string[];
  readonly privateSubnetIds: readonly string[];
  readonly certificateArn: string;
  readonly database: { readonly instanceClass: string; readonly storageGb: number; readonly multiAz: boolean };
  readonly cacheNodeType: string;
  /** Absent: the backend runs its replicas, no more. */
  readonly autoscaling?: { readonly maxReplicas: number; readonly cpuPercent: number };
}

type Raw = Record<string, unknown>;
const isObject = (v: unknown): v is Raw => v !== null && typeof v === "object" && !Array.isArray(v);

/** What a Docker host gives and Fargate does not: each key named with why, so nothing is silently ignored. */
const NOT_ON_FARGATE: readonly [readonly string[], string][] = [
  [["host"], "a Fargate app has no Docker host; remove `host`"],
  [["hostKey"], "a Fargate app has no Docker host; remove `hostKey`"],
  [["hostMemoryMb"], "a Fargate app has no Docker host to size; each task gets the size its limits need"],
  [["aws"], "a Fargate app has no instance of its own; remove `aws` (the load balancer and tasks use `fargate`'s subnets)"],
  [["adopt"], "adopting a docker-compose deployment takes over its Docker volumes, which a Fargate app does not have; adopt it on a Docker host first"],
  [["logging"], "a Fargate app's containers log to CloudWatch Logs (kept 30 days); the Docker host's log collector does not apply"],
  [["monitoring"], "Prometheus and Grafana run on a Docker host; a Fargate app is watched by CloudWatch alarms on its load balancer, services and database"],
  [["maintenance"], "the maintenance timers run on a Docker host; RDS and ElastiCache do their own upkeep in their maintenance windows"],
  [["firewall"], "a Fargate app's security groups admit the public only to the load balancer's 443 and 80; during an incident use `proxy.maintenance`"],
  [["dns"], "point the app's name at the load balancer's DNS name (the `endpoint` output) with an alias record; `dns` sets A records to a host's address"],
  [["logRotation"], "a Fargate app's containers log to CloudWatch Logs (kept 30 days), not to json-file files to rotate"],
  [["releases"], "the release record and `npm run rollback` are a Docker host's; on Fargate go back a release by its tag"],
  [["rollback"], "`npm run rollback` and its down-migrations run on Docker hosts only"],
  [["proxy", "tls"], "the load balancer terminates TLS with `fargate.certificateArn`; remove `proxy.tls`"],
  [["proxy", "httpPort"], "the load balancer listens on 80 (redirect) and 443"],
  [["proxy", "httpsPort"], "the load balancer listens on 80 (redirect) and 443"],
  [["database", "readReplicas"], "read replicas on Fargate would be RDS read replicas, which are not built"],
  [["database", "pooler"], "PgBouncer is not built for Fargate (RDS Proxy would be its form)"],
  [["database", "limits"], "the database is RDS: size it with `fargate.database.instanceClass`"],
  [["database", "tag"], "the database is RDS: its engine version follows the catalog's PostgreSQL major version"],
  [["cache", "limits"], "the cache is ElastiCache: size it with `fargate.cache.nodeType`"],
  [["cache", "tag"], "the cache is ElastiCache: its engine version is the program's"],
  [["backups", "restoreFrom"], "a Fargate app's database is recovered with RDS point-in-time restore (README, \"ECS Fargate\")"],
  [["backups", "localRetentionDays"], "there is no host to keep local copies on: RDS keeps 35 days of point-in-time backups, AWS Backup the cloud retention"],
  [["backups", "noncurrentVersionDays"], "there is no backup bucket: snapshots live in RDS and the AWS Backup vault"],
  [["backups", "localDir"], "there is no host to keep local copies on"],
  [["backups", "metricsDir"], "there is no host whose node exporter would read backup metrics"],
  [["backups", "monitoringData"], "a Fargate app has no Prometheus or Grafana: its metrics are CloudWatch's"],
];

/** Rules between `fargate` and the app's other settings; every problem names its key. */
export function fargateProblems(appId: string, app: unknown, engine: "postgres" | "sqlite", displayName: string, hasAdminUi: boolean): RawProblem[] {
  if (!isObject(app) || !isObject(app["fargate"])) return [];
  const fargate = app["fargate"];
  const at = (...rest: string[]) => ["apps", appId, ...rest];
  const problems: RawProblem[] = [];
  if (engine === "sqlite") {
    return [{ path: at("fargate"), message: `${displayName} keeps SQLite in a file on its backend's volume; a Fargate task has no lasting disk, so it stays on a Docker host` }];
  }
  if (hasAdminUi) problems.push({ path: at("fargate"), message: `${displayName}'s admin UI is reached on 127.0.0.1 of its host; there is no such host on Fargate` });
  if (app["domain"] === undefined) problems.push({ path: at("domain"), message: "is required with `fargate`: the load balancer's certificate is for it, and the health gate sends it as the Host header" });
  for (const [path, why] of NOT_ON_FARGATE) {
    let v: unknown = app;
    for (const key of path) v = isObject(v) ? v[key] : undefined;
    if (v !== undefined) problems.push({ path: at(...path), message: `is not used with \`fargate\`: ${why}` });
  }
  // AWS Backup's plans and restore testing plans take these schedules in AWS's cron, which says less.
  const backups = app["backups"];
  for (const key of ["schedule", "verifySchedule"] as const) {
    const expr = isObject(backups) ? backups[key] : undefined;
    if (typeof expr !== "string") continue;
    try {
      awsBackupCron(expr, `backups.${key}`);
    } catch (e) {
      if (!(e instanceof AwsCronError)) throw e;
      problems.push({ path: at("backups", key), message: `${e.reason} (with \`fargate\`, AWS Backup runs it)` });
    }
  }
  const pub = Array.isArray(fargate["publicSubnetIds"]) ? fargate["publicSubnetIds"] : [];
  const priv = Array.isArray(fargate["privateSubnetIds"]) ? fargate["privateSubnetIds"] : [];
  const shared = pub.filter((s) => priv.includes(s));
  if (shared.length > 0) problems.push({ path: at("fargate", "privateSubnetIds"), message: `must not share subnets with publicSubnetIds (${shared.join(", ")}): tasks and the database stay off the internet-facing subnets` });
  const autoscaling = fargate["autoscaling"];
  const backend = app["backend"];
  const replicas = isObject(backend) && typeof backend["replicas"] === "number" ? backend["replicas"] : undefined;
  if (isObject(autoscaling) && typeof autoscaling["maxReplicas"] === "number" && replicas !== undefined && autoscaling["maxReplicas"] < replicas) {
    problems.push({ path: at("fargate", "autoscaling", "maxReplicas"), message: `must be at least backend.replicas (${replicas}): the backend never runs fewer than its replicas` });
  }
  return problems;
}

/** The smallest default instance class with the CPUs and memory of the catalog's database limits. */
export function defaultInstanceClass(limits: ResourceLimits | undefined): string {
  const fits = RDS_DEFAULT_CLASSES.find((c) => {
    const size = rdsClassSize(c)!;
    return size.cpus >= (limits?.cpus ?? 0) && size.memoryMb >= (limits?.memoryMb ?? 0);
  });
  return fits ?? RDS_DEFAULT_CLASSES[RDS_DEFAULT_CLASSES.length - 1]!;
}

export function resolveFargate(
  fargate: z.infer<typeof fargateSchema> | undefined,
  environment: { readonly protectState: boolean; readonly databaseLimits?: ResourceLimits },
): { fargate?: FargateSpec } {
  if (!fargate) return {};
  return {
    fargate: {
      vpcId: fargate.vpcId,
      publicSubnetIds: fargate.publicSubnetIds,
      privateSubnetIds: fargate.privateSubnetIds,
      certificateArn: fargate.certificateArn,
      database: {
        // The runbook's database limits (LMS: 8 GiB) decide the default, as they size the container on a host.
        instanceClass: fargate.database?.instanceClass ?? defaultInstanceClass(environment.databaseLimits),
        storageGb: fargate.database?.storageGb ?? FARGATE_DEFAULTS.databaseStorageGb,
        // A standby in a second zone in prod: a zone's outage is a failover, not a restore.
        multiAz: fargate.database?.multiAz ?? environment.protectState,
      },
      cacheNodeType: fargate.cache?.nodeType ?? FARGATE_DEFAULTS.cacheNodeType,
      ...(fargate.autoscaling && {
        autoscaling: { maxReplicas: fargate.autoscaling.maxReplicas, cpuPercent: fargate.autoscaling.cpuPercent ?? FARGATE_DEFAULTS.autoscalingCpuPercent },
      }),
    },
  };
}

/** The apps of a stack that run on a Docker host: host sharing (ports, firewall, host size) is theirs alone. */
export function dockerHostApps<T>(apps: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(Object.entries(apps).filter(([, a]) => !(isObject(a) && a["fargate"] !== undefined)));
}

/** The stack's raw config with only the apps on Docker hosts, for the rules about hosts they share. */
export function withDockerHostAppsOnly(raw: unknown): unknown {
  if (!isObject(raw) || !isObject(raw["apps"])) return raw;
  return { ...raw, apps: dockerHostApps(raw["apps"]) };
}
