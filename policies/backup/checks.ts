/**
 * One check per kind of backup requirement of the runbooks (policies/runbook/requirements.ts,
 * below "Backups:"): what it reads from the stack (the app's backup bucket and the jobs installed on
 * its host), and how it words a shortfall. The policies of this folder wrap them with
 * `requirementPolicy`; `runbook-staging-parity` runs them too, as advice, on other stacks.
 */
import type { AppView } from "../runbook/appView";
import type { BackupRetentionRequirement, BackupScheduleRequirement, BackupVerificationRequirement } from "../runbook/requirements";
import { dependsOn, single, type RequirementCheck, type Shortfall } from "../runbook/rules";
import { AWS_TYPES, backupBuckets, backupJobs, releaseSteps } from "./view";

const numberOf = (config: Readonly<Record<string, string>>, key: string): number | undefined => (config[key] !== undefined && config[key] !== "" ? Number(config[key]) : undefined);
const bucketOf = (app: AppView) => backupBuckets(app.resources).find((b) => b.app === app.id);
const jobsOf = (app: AppView) => backupJobs(app.resources, app.id);
const noJob = (what: string): Shortfall[] => [{ detail: `a scheduled ${what} job installed on the host` }];

export const backupSchedule: RequirementCheck = {
  rules: (req) => single(req.backupSchedule),
  verify: (app, _entry, _key, value) => {
    const want = value as BackupScheduleRequirement;
    const jobs = jobsOf(app);
    const gap = numberOf(jobs.config, "BACKUP_MAX_GAP_HOURS");
    if (!jobs.install || gap === undefined) return noJob("backup");
    const out: Shortfall[] = [];
    if (gap > want.maxIntervalHours) out.push({ detail: `backups up to ${gap} h apart > ${want.maxIntervalHours} h`, urn: jobs.install.urn });
    const have = (jobs.config["BACKUP_SCHEDULE"] ?? "").trim().split(/\s+/).join(" ");
    if (want.cron !== undefined && have !== want.cron) out.push({ detail: `backup schedule "${have}" instead of "${want.cron}" (UTC)`, urn: jobs.install.urn });
    return out;
  },
};

export const backupRetention: RequirementCheck = {
  rules: (req) => single(req.backupRetention),
  verify: (app, _entry, _key, value) => {
    const want = value as BackupRetentionRequirement;
    const out: Shortfall[] = [];
    if (want.localDays !== undefined) {
      const jobs = jobsOf(app);
      const local = numberOf(jobs.config, "LOCAL_RETENTION_DAYS");
      if (!jobs.install || local === undefined) out.push(...noJob("backup"));
      else if (local < want.localDays) out.push({ detail: `local backups kept ${local} days < ${want.localDays} days`, urn: jobs.install.urn });
    }
    if (want.cloudDays !== undefined) {
      const bucket = bucketOf(app);
      const lifecycle = bucket?.of(AWS_TYPES.lifecycle)[0];
      const rules = (lifecycle?.props["rules"] as { status?: string; expiration?: { days?: number } }[] | undefined) ?? [];
      const expiries = rules.filter((r) => r.status === "Enabled" && typeof r.expiration?.days === "number").map((r) => r.expiration!.days!);
      const shortest = expiries.length ? Math.min(...expiries) : undefined;
      if (!bucket) out.push({ detail: `off-site backups kept ${want.cloudDays} days (there is no backup bucket)` });
      else if (shortest !== undefined && shortest < want.cloudDays) {
        out.push({ detail: `cloud backups expiring after ${shortest} days < ${want.cloudDays} days`, urn: (lifecycle ?? bucket.bucket).urn });
      }
    }
    return out;
  },
};

export const backupVerification: RequirementCheck = {
  rules: (req) => single(req.backupVerification),
  verify: (app, _entry, _key, value) => {
    const want = value as BackupVerificationRequirement;
    const jobs = jobsOf(app);
    const gap = numberOf(jobs.config, "VERIFY_MAX_GAP_HOURS");
    if (!jobs.install || gap === undefined) return noJob("verification");
    const out: Shortfall[] = [];
    if (want.maxIntervalDays !== undefined && gap > want.maxIntervalDays * 24) {
      out.push({ detail: `backup verification up to ${gap / 24} days apart > ${want.maxIntervalDays} days`, urn: jobs.install.urn });
    }
    if (want.integrityCheck && !jobs.installer.includes("PRAGMA integrity_check")) {
      out.push({ detail: "backup verification running PRAGMA integrity_check on the restored copy", urn: jobs.install.urn });
    }
    return out;
  },
};

export const backupBeforeDeploy: RequirementCheck = {
  rules: (req) => single(req.backupBeforeDeploy),
  verify: (app, _entry, _key, value) => {
    if (value !== true) return [];
    const { preDeploy } = jobsOf(app);
    if (!preDeploy) return [{ detail: "a backup before every deploy (a pre-deploy backup step)" }];
    return releaseSteps(app)
      .filter((r) => !dependsOn(r, preDeploy))
      .map((r) => ({ detail: `${r.name} starting only after the pre-deploy backup`, urn: r.urn }));
  },
};

export const backupMaxAge: RequirementCheck = {
  rules: (req) => single(req.backupMaxAgeHours),
  verify: (app, _entry, _key, value) => {
    const jobs = jobsOf(app);
    const gap = numberOf(jobs.config, "BACKUP_MAX_GAP_HOURS");
    if (!jobs.install || gap === undefined) return noJob("backup");
    return gap < (value as number) ? [] : [{ detail: `backups more often than the ${value as number} h alert (they run up to ${gap} h apart)`, urn: jobs.install.urn }];
  },
};

export const backupVersioned: RequirementCheck = {
  rules: (req) => single(req.backupVersioned),
  verify: (app, _entry, _key, value) => {
    if (value !== true) return [];
    const bucket = bucketOf(app);
    const enabled = bucket?.of(AWS_TYPES.versioning).some((v) => (v.props["versioningConfiguration"] as { status?: string } | undefined)?.status === "Enabled");
    return enabled ? [] : [{ detail: "versioned off-site backups (a backup bucket with versioning Enabled)", ...(bucket && { urn: bucket.bucket.urn }) }];
  },
};

export const backupEncrypted: RequirementCheck = {
  rules: (req) => single(req.backupEncrypted),
  verify: (app, _entry, _key, value) => {
    if (value !== true) return [];
    const bucket = bucketOf(app);
    const rules = bucket?.of(AWS_TYPES.encryption).flatMap((e) => (e.props["rules"] as { applyServerSideEncryptionByDefault?: { sseAlgorithm?: string } }[] | undefined) ?? []) ?? [];
    const tlsOnly = bucket?.of(AWS_TYPES.policy).some((p) => String(p.props["policy"] ?? "").includes("aws:SecureTransport")) ?? false;
    const out: Shortfall[] = [];
    if (!rules.some((r) => r.applyServerSideEncryptionByDefault?.sseAlgorithm)) out.push({ detail: "off-site backups encrypted at rest (default encryption on the backup bucket)", ...(bucket && { urn: bucket.bucket.urn }) });
    if (!tlsOnly) out.push({ detail: "off-site backups reached in transit over TLS only (a bucket policy denying aws:SecureTransport false)", ...(bucket && { urn: bucket.bucket.urn }) });
    return out;
  },
};
