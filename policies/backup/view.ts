/**
 * A stack's backups as the backup policies see them: each app's backup bucket (an S3 bucket tagged
 * `runbook.role=backups`) with the resources that configure it (found by their dependency on it,
 * as each takes the bucket's id), and the app's backup jobs on its host (deploy steps found by what
 * they run: the install step writes `/etc/runbook-backup/<app>/jobs.env`, the pre-deploy step runs
 * `backup.sh --reason pre-deploy`, a recovery stack's step `restore.sh`).
 */
import type { PolicyResource } from "@pulumi/policy";
import { TYPES } from "../lib";
import type { AppView } from "../runbook/appView";
import { words } from "../runbook/rules";

export const AWS_TYPES = {
  bucket: "aws:s3/bucket:Bucket",
  versioning: "aws:s3/bucketVersioning:BucketVersioning",
  encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  publicAccess: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  ownership: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  policy: "aws:s3/bucketPolicy:BucketPolicy",
  lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  objectLock: "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
  kmsKey: "aws:kms/key:Key",
  userPolicy: "aws:iam/userPolicy:UserPolicy",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  policyDocument: "aws:iam/policy:Policy",
} as const;

export const BACKUP_ROLE = "backups";

const tag = (r: PolicyResource, key: string): string | undefined => (r.props["tags"] as Record<string, string> | undefined)?.[key];
const isCommand = (r: PolicyResource) => r.type === TYPES.localCommand || r.type === TYPES.remoteCommand;
const text = (r: PolicyResource | undefined, key: string) => (r ? String(r.props[key] ?? "") : "");

export interface BucketView {
  readonly app: string;
  readonly environment: string;
  readonly bucket: PolicyResource;
  /** Resources of a type that take this bucket. */
  of(type: string): PolicyResource[];
  /** The KMS keys the bucket's encryption uses. */
  keys(): PolicyResource[];
}

/** Every backup bucket of the stack. */
export function backupBuckets(resources: readonly PolicyResource[]): BucketView[] {
  return resources
    .filter((r) => r.type === AWS_TYPES.bucket && tag(r, "runbook.role") === BACKUP_ROLE)
    .map((bucket) => {
      const of = (type: string) => resources.filter((r) => r.type === type && r.dependencies.some((d) => d.urn === bucket.urn));
      return {
        app: tag(bucket, "runbook.app") ?? bucket.name,
        environment: tag(bucket, "runbook.environment") ?? "",
        bucket,
        of,
        keys: () => of(AWS_TYPES.encryption).flatMap((e) => e.dependencies.filter((d) => d.type === AWS_TYPES.kmsKey)),
      };
    });
}

export interface JobsView {
  /** The step that installs the scripts, jobs.env and timers. */
  readonly install?: PolicyResource;
  /** The installer it runs (the shell text given to `sh -c`). */
  readonly installer: string;
  /** jobs.env as the host gets it. */
  readonly config: Readonly<Record<string, string>>;
  readonly preDeploy?: PolicyResource;
  readonly restore?: PolicyResource;
}

/** The settings of a jobs.env text. */
export function jobSettings(installer: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of installer.matchAll(/^([A-Z][A-Z0-9_]*)=('(?:[^']|'\\'')*'|\S*)$/gm)) {
    const raw = m[2]!;
    out[m[1]!] = raw.startsWith("'") ? raw.slice(1, -1).replace(/'\\''/g, "'") : raw;
  }
  return out;
}

const jobsCache = new WeakMap<readonly PolicyResource[], Map<string, JobsView>>();

/** The backup steps of one app (worked out once per stack and app: installers are long texts). */
export function backupJobs(resources: readonly PolicyResource[], app: string): JobsView {
  const cache = jobsCache.get(resources) ?? new Map<string, JobsView>();
  jobsCache.set(resources, cache);
  const cached = cache.get(app);
  if (cached) return cached;
  const view = findJobs(resources, app);
  cache.set(app, view);
  return view;
}

function findJobs(resources: readonly PolicyResource[], app: string): JobsView {
  const commands = resources.filter((r) => isCommand(r) && text(r, "create").includes(`/runbook-backup/${app}/`));
  const install = commands.find((c) => text(c, "create").includes(`/etc/runbook-backup/${app}/jobs.env`));
  const installer = install ? (words(text(install, "create")).find((w) => w.includes("jobs.env")) ?? "") : "";
  const runs = (c: PolicyResource, script: string) => words(text(c, "create")).includes(`/usr/local/lib/runbook-backup/${app}/${script}`);
  return {
    ...(install && { install }),
    installer,
    config: jobSettings(installer),
    ...(() => {
      const preDeploy = commands.find((c) => runs(c, "backup.sh") && words(text(c, "create")).join(" ").includes("--reason pre-deploy"));
      const restore = commands.find((c) => runs(c, "restore.sh"));
      return { ...(preDeploy && { preDeploy }), ...(restore && { restore }) };
    })(),
  };
}

/** Whether an installer puts a timer named `unit` on the host, and its calendar. */
export function timerCalendar(installer: string, unit: string): string | undefined {
  const at = installer.indexOf(`/${unit}.timer.new`);
  if (at < 0) return undefined;
  return /^OnCalendar=(.+)$/m.exec(installer.slice(at))?.[1];
}

/** What must start only after the pre-deploy backup and a restore: migrations, the release task, replicas, workers. */
export function releaseSteps(app: AppView): PolicyResource[] {
  return [app.step("migrate"), app.step("release-task"), ...app.service("backend"), ...app.containers.filter((c) => c.name.includes("-worker-"))].filter((r): r is PolicyResource => r !== undefined);
}
