/**
 * The backups under Pulumi's mock runtime, for every app of the committed stacks: lifecycle days and
 * Object Lock per stack, encryption with the app's own key, the writer's policy document, the order
 * pre-deploy backup -> migrations -> replicas, and in a recovery stack restore -> backends; secrets
 * only on stdin; the outputs a rollback and a recovery stack read.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { renderWriterPolicy } from "../../components/backups/accessPolicies";
import { renderUninstallScript } from "../../components/backups/hostInstall";
import { DEPLOY_LOCK_WAIT_SECONDS } from "../../components/shared/databaseLock";
import { shellJoin } from "../../components/shared/shell";
import type { AppSpec, StackSpec } from "../../config/spec";
import { mockKmsKeyArn, runUnderMocks, type PlanRun, type PlannedResource } from "../../plan/mockRuntime";
import type { StackOutputs } from "../../program";
import { inputs, isSecretWire, named, stackSpec } from "../helpers";

const runs: Record<string, PlanRun> = {};
const specs: Record<string, StackSpec> = {};
beforeAll(async () => {
  for (const stack of ["prod", "staging"]) {
    specs[stack] = stackSpec(stack);
    runs[stack] = await runUnderMocks(specs[stack]!, `backups-${stack}`);
  }
});

const cases = ["prod", "staging"].flatMap((stack) => stackSpec(stack).apps.map((a) => [stack, a.id] as const));
const app = (stack: string, id: string): AppSpec => specs[stack]!.apps.find((a) => a.id === id)!;
const r = (stack: string, name: string): PlannedResource => named(runs[stack]!.resources, name);

describe.each(cases)("backups of %s/%s", (stack, id) => {
  it("gives the bucket the app's lifecycle, and in prod an Object Lock for the local retention and protection", () => {
    const a = app(stack, id);
    const lifecycle = inputs(r(stack, `${id}-backup-lifecycle`));
    const rules = lifecycle["rules"] as { id: string; expiration?: { days?: number }; noncurrentVersionExpiration?: { noncurrentDays: number } }[];
    expect(rules.find((x) => x.id === "retention")!.expiration!.days).toBe(a.backups.cloudRetentionDays);
    expect(rules.find((x) => x.id === "retention")!.noncurrentVersionExpiration!.noncurrentDays).toBe(30);
    const bucket = r(stack, `${id}-backup-bucket`);
    expect(bucket.options.protect).toBe(stack === "prod");
    expect(bucket.options.retainOnDelete).toBe(stack === "prod");
    expect(inputs(bucket)["objectLockEnabled"]).toBe(stack === "prod");
    const lock = runs[stack]!.resources.find((x) => x.name === `${id}-backup-object-lock`);
    if (stack === "prod") expect(inputs(lock!)["rule"]).toEqual({ defaultRetention: { mode: "GOVERNANCE", days: a.backups.localRetentionDays } });
    else expect(lock).toBeUndefined();
  });

  it("encrypts with the app's own KMS key, which rotates", () => {
    const key = r(stack, `${id}-backup-key`);
    const sse = r(stack, `${id}-backup-encryption`);
    expect(sse.dependencies).toContain(key.urn);
    const rule = (inputs(sse)["rules"] as { applyServerSideEncryptionByDefault: { sseAlgorithm: string; kmsMasterKeyId: string } }[])[0]!;
    expect(rule.applyServerSideEncryptionByDefault).toEqual({ sseAlgorithm: "aws:kms", kmsMasterKeyId: mockKmsKeyArn(`${id}-backup-key`) });
    expect(inputs(key)["enableKeyRotation"]).toBe(true);
  });

  it("lets the writer put and get under the app's prefix only", () => {
    const policy = JSON.parse(String(inputs(r(stack, `${id}-backup-writer-policy`))["policy"])) as ReturnType<typeof renderWriterPolicy>;
    const put = policy.Statement.find((x) => x.Action.includes("s3:PutObject"))!;
    expect(put.Resource).toHaveLength(1);
    const bucketArn = put.Resource[0]!.replace(new RegExp(`/${id}/\\*$`), "");
    expect(bucketArn).toMatch(new RegExp(`^arn:aws:s3:::${String(inputs(r(stack, `${id}-backup-bucket`))["bucketPrefix"])}[0-9a-f]{12}$`));
    expect(policy).toEqual(renderWriterPolicy({ bucketArn, prefix: id, kmsKeyArn: mockKmsKeyArn(`${id}-backup-key`) }));
  });

  it("takes the pre-deploy backup after the database is up and before migrations, the release task, replicas and workers", () => {
    const pre = r(stack, `${id}-backups-pre-deploy`);
    const install = r(stack, `${id}-backups-install`);
    expect(pre.dependencies).toContain(install.urn);
    const db = runs[stack]!.resources.find((x) => x.name === `${id}-db`);
    if (db) expect(pre.dependencies).toContain(db.urn);
    const gated = runs[stack]!.resources.filter((x) => x.name.startsWith(`${id}-`) && /-(migrate|release-task|backend-\d+|worker-.+-\d+)$/.test(x.name));
    expect(gated.length).toBeGreaterThanOrEqual(app(stack, id).backend.replicas);
    for (const g of gated) expect(g.dependencies, g.name).toContain(pre.urn);
    // It re-runs whenever the backend image changes.
    expect(inputs(pre)["triggers"]).toEqual([inputs(r(stack, `${id}-backend-0`))["image"]]);
  });

  it("bounds the pre-deploy backup's wait for the app's database lock with --lock-wait (sudo -n drops DB_LOCK_WAIT), so a held lock fails the update instead of hanging it an hour", () => {
    const create = String(inputs(r(stack, `${id}-backups-pre-deploy`))["create"]);
    expect(create).toMatch(new RegExp(`^sudo -n /usr/local/lib/runbook-backup/${id}/backup\\.sh --reason pre-deploy( --skip-missing)? --lock-wait ${DEPLOY_LOCK_WAIT_SECONDS}$`));
    expect(DEPLOY_LOCK_WAIT_SECONDS).toBe(600);
  });

  it("names the app's host as the one that takes its backups after installing the jobs, before the pre-deploy backup, again on every connection change", () => {
    const claim = r(stack, `${id}-backups-host`);
    expect(inputs(claim)["create"]).toBe(`sudo -n /usr/local/lib/runbook-backup/${id}/backup.sh --claim-host`);
    expect(claim.dependencies).toContain(r(stack, `${id}-backups-install`).urn);
    expect(r(stack, `${id}-backups-pre-deploy`).dependencies).toContain(claim.urn);
    // No update command: the provider runs `create` again when the connection (the host) changes.
    expect(inputs(claim)["update"]).toBeUndefined();
    expect(inputs(claim)["connection"]).toEqual(inputs(r(stack, `${id}-backups-install`))["connection"]);
  });

  it("sends the writer's key only on stdin, as a secret, and installs the timers in the step's command", () => {
    const install = r(stack, `${id}-backups-install`);
    expect(isSecretWire(install.wireInputs["stdin"])).toBe(true);
    const create = String(inputs(install)["create"]);
    expect(create).not.toContain("mock-secret-access-key");
    expect(create).toContain(`/etc/systemd/system/runbook-backup-${id}.timer`);
    expect(create).toContain(`/etc/systemd/system/runbook-backup-verify-${id}.timer`);
    expect(create.startsWith("sudo -n /bin/sh -c ")).toBe(true);
  });

  it("removes the app's timers when the install step is deleted, keeping the backups and restore.sh, and deletes the old step before its replacement installs", () => {
    const a = app(stack, id);
    const install = r(stack, `${id}-backups-install`);
    expect(inputs(install)["delete"]).toBe(shellJoin(["sudo", "-n", "/bin/sh", "-c", renderUninstallScript({ appId: id, localDir: a.backups.localDir })]));
    const del = String(inputs(install)["delete"]);
    expect(del).toContain(`disable --now`);
    expect(del).toContain(`runbook-backup-${id}.timer`);
    expect(del).toContain(`runbook-backup-verify-${id}.timer`);
    expect(del).not.toMatch(/rm -[a-z]*r/);
    expect(install.options.deleteBeforeReplace).toBe(true);
    // A script change updates the step in place (no trigger): only `--replace` replaces it.
    expect(inputs(install)["triggers"]).toEqual([]);
  });

  it("exports where the backups are and the key of the last pre-deploy backup", () => {
    const out = (runs[stack]!.outputs as StackOutputs).apps[id]!;
    expect(Object.keys(out.backups).sort()).toEqual(["bucket", "bucketArn", "kmsKeyArn", "preDeployBackup", "prefix"]);
    expect(out.backups.prefix).toBe(id);
  });
});

describe("a recovery stack", () => {
  const recovery = (from: Record<string, unknown>): StackSpec => {
    const prod = stackSpec("prod");
    return {
      ...prod,
      apps: prod.apps.map((a) => ({ ...a, backups: { ...a.backups, restoreFrom: from as unknown as NonNullable<AppSpec["backups"]["restoreFrom"]> } })),
    };
  };

  it.each([
    ["another stack's outputs through a StackReference", { kind: "stack", stack: "acme/runbook/prod" }],
    ["a bucket named in the config", { kind: "bucket", bucket: "old-backups", prefix: "lms", kmsKeyArn: "arn:aws:kms:eu-west-1:111111111111:key/old", backup: "20260101T020000Z-scheduled" }],
  ])("restores from %s into the fresh database before any backend starts, once per source", async (_what, from) => {
    const run = await runUnderMocks(recovery(from), `recovery-${from.kind}`);
    for (const a of recovery(from).apps) {
      const restore = named(run.resources, `${a.id}-backups-restore`);
      const create = String(inputs(restore)["create"]);
      const bucket = from.kind === "stack" ? `${a.id}-acme-runbook-prod-backups` : "old-backups";
      expect(create).toContain(`restore.sh ${from.kind === "stack" ? "--latest-verified" : "--id 20260101T020000Z-scheduled"} --from-bucket ${bucket} --from-prefix ${from.kind === "stack" ? a.id : "lms"} --if-empty --lock-wait ${DEPLOY_LOCK_WAIT_SECONDS}`);
      const db = run.resources.find((x) => x.name === `${a.id}-db`);
      if (db) expect(restore.dependencies).toContain(db.urn);
      expect(inputs(restore)["triggers"]).toEqual([bucket, from.kind === "stack" ? a.id : "lms", from.kind === "stack" ? "latest" : "20260101T020000Z-scheduled"]);
      for (const g of run.resources.filter((x) => x.name.startsWith(`${a.id}-`) && /-(migrate|release-task|backend-\d+|worker-.+-\d+|backups-pre-deploy)$/.test(x.name))) {
        expect(g.dependencies, g.name).toContain(restore.urn);
      }
      // The writer may read the source, and only read it.
      const policy = String(inputs(named(run.resources, `${a.id}-backup-writer-policy`))["policy"]);
      expect(policy).toContain(`"arn:aws:s3:::${bucket}/${from.kind === "stack" ? a.id : "lms"}/*"`);
    }
  });
});
