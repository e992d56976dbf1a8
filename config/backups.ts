/**
 * The backups area's stack settings: `apps.<id>.backups`. Its schema, the rules between its fields,
 * its defaults (BACKUP_DEFAULTS, the runbook's numbers where the runbook gives them) and how a
 * stack's settings resolve into the BackupSpec components receive.
 */
import { z } from "zod";
import type { AppDefinition } from "../apps/types";
import { scheduleProblem } from "../components/backups/schedule";
import { TEXTFILE_DIR } from "../components/backups/metrics";
import type { RawProblem } from "./schema";

export const BACKUP_DEFAULTS = {
  /** LMS "Automated Backups": "Daily at 2 AM UTC"; the default of every app whose runbook gives no time. */
  schedule: "0 2 * * *",
  /** Where the runbook asks for a backup every hour (reference app: "hourly incremental backups"). */
  hourlySchedule: "0 * * * *",
  /** Daily verification, stronger than FDTS's "Backup Verification ... Weekly"; after the 02:00 backup. */
  verifySchedule: "30 5 * * *",
  /** LMS "Retention: 30 days local, 90 days cloud". */
  localRetentionDays: 30,
  cloudRetentionDays: 90,
  /** Days a noncurrent version of a backup object is kept in the bucket. */
  noncurrentVersionDays: 30,
  /** The newest local backups kept whatever their age. */
  keepMin: 3,
  /** Local copies on the host, one directory per app below it. */
  localDir: "/var/backups/runbook",
  /** The node exporter's textfile collector directory. */
  metricsDir: TEXTFILE_DIR,
  /** A backup before every deploy whose images change (LMS "1. Create backup"). */
  preDeploy: true,
  /** Prometheus' and Grafana's data, daily, where the app runs monitoring (reference app "3.1 Data Backup Strategy"). */
  monitoringData: true,
} as const;

const days = z
  .number({ error: "must be a whole number of days from 1 to 3650" })
  .int({ error: "must be a whole number of days from 1 to 3650" })
  .min(1, { error: "must be at least 1 (day)" })
  .max(3650, { error: "must be at most 3650 (days)" });

const cron = z.string({ error: "must be a cron expression string, such as \"0 2 * * *\"" }).superRefine((expr, ctx) => {
  const problem = scheduleProblem(expr);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

const absolutePath = z.string({ error: "must be an absolute path on the Docker host" }).regex(/^\/[A-Za-z0-9._/-]*$/, { error: "must be an absolute path on the Docker host (letters, digits, '.', '_', '-', '/')" });

const STACK_NAME = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
const BACKUP_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const restoreFrom = z.union(
  [
    z.strictObject({
      stack: z.string().regex(STACK_NAME, { error: "must be a fully qualified stack name, <org>/<project>/<stack>" }),
      backup: z.string().regex(BACKUP_ID, { error: "must be a backup id (letters, digits, '.', '_', '-')" }).optional(),
    }),
    z.strictObject({
      bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: "must be an S3 bucket name" }),
      prefix: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { error: "must be the app's prefix in that bucket (its catalog id)" }).optional(),
      kmsKeyArn: z.string().regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/, { error: "must be the ARN of the bucket's KMS key (arn:aws:kms:<region>:<account>:key/<id>)" }),
      backup: z.string().regex(BACKUP_ID, { error: "must be a backup id (letters, digits, '.', '_', '-')" }).optional(),
    }),
  ],
  { error: "must be { stack: <org>/<project>/<stack> } or { bucket, kmsKeyArn, prefix?, backup? }" },
);

/** `apps.<id>.backups` (the line under "Backups:" in config/schema.ts). */
export const backupsConfig = z
  .strictObject({
    schedule: cron.optional(),
    verifySchedule: cron.optional(),
    localRetentionDays: days.optional(),
    cloudRetentionDays: days.optional(),
    noncurrentVersionDays: days.optional(),
    preDeploy: z.boolean({ error: "must be true or false" }).optional(),
    monitoringData: z.boolean({ error: "must be true or false" }).optional(),
    localDir: absolutePath.optional(),
    metricsDir: absolutePath.optional(),
    restoreFrom: restoreFrom.optional(),
  })
  .optional();

export type BackupsConfig = z.infer<typeof backupsConfig>;

export type RestoreFromSpec =
  | { readonly kind: "stack"; readonly stack: string; readonly backup?: string }
  | { readonly kind: "bucket"; readonly bucket: string; readonly prefix: string; readonly kmsKeyArn: string; readonly backup?: string };

/** An app's backups, resolved (AppSpec.backups). */
export interface BackupSpec {
  /** Cron, UTC, five fields. */
  readonly schedule: string;
  readonly verifySchedule: string;
  readonly localRetentionDays: number;
  readonly cloudRetentionDays: number;
  readonly noncurrentVersionDays: number;
  readonly keepMin: number;
  readonly preDeploy: boolean;
  /** A daily backup of Prometheus' and Grafana's data (apps with monitoring only), restored by a recovery stack. */
  readonly monitoringData: boolean;
  /** Object Lock (governance) for the local retention window, and the bucket protected: prod. */
  readonly locked: boolean;
  /** This app's directory of local copies on the host. */
  readonly localDir: string;
  readonly metricsDir: string;
  /** A recovery stack restores into its fresh database from here. */
  readonly restoreFrom?: RestoreFromSpec;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** Rules between the fields of `apps.<id>.backups` (called from crossFieldProblems). */
export function backupsProblems(appId: string, app: Record<string, unknown>): RawProblem[] {
  const raw = app["backups"];
  if (!isObject(raw)) return [];
  const local = typeof raw["localRetentionDays"] === "number" ? raw["localRetentionDays"] : BACKUP_DEFAULTS.localRetentionDays;
  const cloud = typeof raw["cloudRetentionDays"] === "number" ? raw["cloudRetentionDays"] : BACKUP_DEFAULTS.cloudRetentionDays;
  const problems: RawProblem[] = [];
  if (cloud < local) {
    problems.push({
      path: ["apps", appId, "backups", "cloudRetentionDays"],
      message: `must be at least localRetentionDays (${local}): the off-site copy keeps what the host keeps, and Object Lock holds objects for the local retention`,
    });
  }
  return problems;
}

/** The runbook's schedule where it gives one (a time, or an interval shorter than a day), else the default. */
export function defaultSchedule(def: AppDefinition): string {
  const rule = def.requirements.backupSchedule?.value;
  if (rule?.cron) return rule.cron;
  if (rule && rule.maxIntervalHours < 24) return BACKUP_DEFAULTS.hourlySchedule;
  return BACKUP_DEFAULTS.schedule;
}

export function resolveBackups(def: AppDefinition, cfg: BackupsConfig, protectedEnvironment: boolean): BackupSpec {
  const retention = def.requirements.backupRetention?.value;
  const from = cfg?.restoreFrom;
  return {
    schedule: cfg?.schedule ?? defaultSchedule(def),
    verifySchedule: cfg?.verifySchedule ?? BACKUP_DEFAULTS.verifySchedule,
    localRetentionDays: cfg?.localRetentionDays ?? retention?.localDays ?? BACKUP_DEFAULTS.localRetentionDays,
    cloudRetentionDays: cfg?.cloudRetentionDays ?? retention?.cloudDays ?? BACKUP_DEFAULTS.cloudRetentionDays,
    noncurrentVersionDays: cfg?.noncurrentVersionDays ?? BACKUP_DEFAULTS.noncurrentVersionDays,
    keepMin: BACKUP_DEFAULTS.keepMin,
    preDeploy: cfg?.preDeploy ?? BACKUP_DEFAULTS.preDeploy,
    monitoringData: cfg?.monitoringData ?? BACKUP_DEFAULTS.monitoringData,
    locked: protectedEnvironment,
    localDir: `${cfg?.localDir ?? BACKUP_DEFAULTS.localDir}/${def.id}`,
    metricsDir: cfg?.metricsDir ?? BACKUP_DEFAULTS.metricsDir,
    ...(from && {
      restoreFrom:
        "stack" in from
          ? { kind: "stack" as const, stack: from.stack, ...(from.backup !== undefined && { backup: from.backup }) }
          : { kind: "bucket" as const, bucket: from.bucket, prefix: from.prefix ?? def.id, kmsKeyArn: from.kmsKeyArn, ...(from.backup !== undefined && { backup: from.backup }) },
    }),
  };
}
