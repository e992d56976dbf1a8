/**
 * BackupJobs: an app's backup jobs on its Docker host, created through AppStack's pre-deploy seam
 * (it needs the app's database container and volumes).
 * - `<name>-install`: the scripts, jobs.env, the writer's credentials (on stdin) and the systemd
 *   timers of the scheduled backup and the daily verification (hostInstall.ts);
 * - `<name>-restore`, in a recovery stack only: restores the newest verified backup (one whose
 *   verification restored it into scratch and matched its manifest), or a named one, of another
 *   stack's bucket into the fresh database, after the database is up and before migrations, any
 *   backend or worker starts; `--if-empty`, so a later `pulumi up` never overwrites data the app
 *   has written since;
 * - `<name>-pre-deploy`: a backup taken whenever the backend image changes, before migrations, whose
 *   object key is an output (a rollback or a restore names it);
 * - `<name>-rollback-restore`, when a rollback asks for it (`npm run rollback -- --restore-data`):
 *   restores the pre-deploy backup of the release being undone, after a backup of the data as it is
 *   (this update's pre-deploy backup, or its own `pre-restore` one when pre-deploy backups are off),
 *   and before migrations, any backend or worker; the newer backends it stops stay stopped
 *   (`--keep-stopped`) until the older release's replace them.
 * The steps it returns (`gates`) are what AppStack makes migrations, replicas and workers wait for.
 * Each step that runs backup.sh or restore.sh passes `--lock-wait 600` (DEPLOY_LOCK_WAIT_SECONDS):
 * while a timer's job holds the app's database lock, the update waits ten minutes at most, then fails
 * naming the lock, having touched nothing.
 */
import * as pulumi from "@pulumi/pulumi";
import type { AppSpec } from "../../config/spec";
import type { PreDeployState } from "../app/appStackArgs";
import { deployCommand, machineTriggers, type DeployCommand } from "../app/deployCommand";
import { deployLockWait } from "../shared/databaseLock";
import { shellJoin, shellQuote } from "../shared/shell";
import { renderBackupScript } from "./backupScript";
import { backupUnit, configDir, renderInstallScript, renderUninstallScript, renderUnits, scriptDir, verifyUnit } from "./hostInstall";
import { renderJobConfig } from "./jobConfig";
import { MONITORING_DATA_SCHEDULE, renderMonitoringBackupScript, renderMonitoringRestoreScript } from "./monitoringData";
import { renderPruneScript } from "./pruneScript";
import { renderRestoreScript } from "./restoreScript";
import { maxGapHours, toOnCalendar } from "./schedule";
import type { ScriptSpec } from "./scriptCommon";
import { renderVerifyScript } from "./verifyScript";

export interface BackupJobsArgs {
  readonly app: AppSpec;
  /** Where the backups go, and the writer's credentials (BackupBucket). */
  readonly bucket: {
    readonly bucketName: pulumi.Input<string>;
    readonly prefix: string;
    readonly region: pulumi.Input<string>;
    readonly writerAccessKeyId: pulumi.Input<string>;
    readonly writerSecretAccessKey: pulumi.Input<string>;
  };
  /** The app's state services, from AppStack's pre-deploy seam. */
  readonly state: PreDeployState;
  /** A recovery stack's source: the bucket and prefix of the stack it replaces, and a backup id (default: the newest verified). */
  readonly restoreSource?: { readonly bucket: pulumi.Input<string>; readonly prefix: pulumi.Input<string>; readonly backup?: string };
  /** A rollback's restore (config `apps.<id>.rollback.restoreBackup`): the backup's key in the app's own bucket (`<app>/<id>/`, or the id), and the release undone. */
  readonly rollbackRestore?: { readonly key: string; readonly undoes: number; readonly from?: number };
}

/** Where certbot keeps its certificates, renewal settings and the `live/` links into `archive/`. */
export const LETSENCRYPT_DIR = "/etc/letsencrypt";

/**
 * What the backups keep of the proxy's TLS files (jobs.env): certbot's whole directory where the
 * certificate is Let's Encrypt's (kept as it is: `certbot renew` refuses `live/` files that are not
 * links), else the certificate and key themselves, read through links (TLS_DEREFERENCE).
 */
export function tlsBackupSettings(tls: { readonly certificateFile: string; readonly keyFile: string } | undefined): Record<string, string | number> {
  if (!tls) return {};
  const files = [tls.certificateFile, tls.keyFile];
  for (const f of files) if (!/^\/[A-Za-z0-9._/@+-]+$/.test(f)) throw new Error(`\`proxy.tls\` path ${JSON.stringify(f)} must be absolute, without spaces`);
  if (files.every((f) => f.startsWith(`${LETSENCRYPT_DIR}/`))) return { TLS_PATHS: LETSENCRYPT_DIR };
  return { TLS_PATHS: [...new Set(files)].join(" "), TLS_DEREFERENCE: 1 };
}

/** The volume of an app that holds uploads, by name. */
export const UPLOADS_VOLUME = "uploads";

/** The scripts' view of an app: its engine, and whether it has uploads. */
export function scriptSpec(app: AppSpec): ScriptSpec {
  return { appId: app.id, engine: app.database.engine, uploads: app.backend.volumes.some((v) => v.name === UPLOADS_VOLUME), configDir: configDir(app.id) };
}

/** The key the pre-deploy backup printed (`backup-key: <prefix>/<id>/`), or "" when it printed none. */
export function backupKeyOf(stdout: string | undefined): string {
  const keys = [...(stdout ?? "").matchAll(/^backup-key: (\S+)$/gm)];
  const last = keys.length > 0 ? keys[keys.length - 1]![1]! : "";
  return last === "none" ? "" : last;
}

export class BackupJobs extends pulumi.ComponentResource {
  public readonly install: DeployCommand;
  /** Names this host as the one that takes the app's backups (backupScript.ts, BACKUP_HOST_KEY). */
  public readonly hostClaim: DeployCommand;
  public readonly restore?: DeployCommand;
  public readonly preDeployBackup?: DeployCommand;
  public readonly rollbackRestore?: DeployCommand;
  /** The object key prefix of the last pre-deploy backup (`<app>/<id>/`), "" before the first. */
  public readonly preDeployBackupKey: pulumi.Output<string>;
  /** What the release waits for: the restore (recovery stacks) and the pre-deploy backup. */
  public readonly gates: readonly pulumi.Resource[];
  /**
   * A recovery stack of an app whose monitoring data is backed up: the command that puts the newest
   * monitoring backup into Prometheus' and Grafana's (empty) volumes, and what it waits for. The
   * Monitoring component runs it before those two containers start (monitoringData.ts).
   */
  public readonly monitoringDataRestore?: {
    readonly create: (volumes: { readonly prometheus: pulumi.Input<string>; readonly grafana: pulumi.Input<string> }) => pulumi.Output<string>;
    readonly after: readonly pulumi.Resource[];
  };

  constructor(name: string, args: BackupJobsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook:backups:BackupJobs", name, {}, opts);
    const { app, state } = args;
    const backups = app.backups;
    if (app.database.engine === "postgres" && !state.database) throw new Error("`state.database` must be given for a PostgreSQL app");
    const db = app.database;
    // A SQLite file outside every volume (the catalog refuses it: apps/validate.ts) has no path on the
    // host: its jobs are given the container's path and fail loudly, the pre-deploy backup included.
    const sqliteVolume = db.engine === "sqlite" ? app.backend.volumes.find((v) => v.name === db.volume && state.volumes[v.name] && db.path.startsWith(`${v.mountPath}/`)) : undefined;
    const spec = scriptSpec(app);
    const monitoringData = backups.monitoringData && app.monitoring !== undefined;
    const uploads = spec.uploads ? state.volumes[UPLOADS_VOLUME] : undefined;
    if (spec.uploads && !uploads) throw new Error(`\`state.volumes.${UPLOADS_VOLUME}\` must be given: ${app.id} has an uploads volume`);

    const jobConfig = pulumi
      .all([args.bucket.bucketName, args.bucket.region, sqliteVolume ? state.volumes[sqliteVolume.name]!.name : "", uploads?.name ?? ""])
      .apply(([bucket, region, sqliteVolumeName, uploadsVolumeName]) =>
        renderJobConfig({
          BUCKET: bucket,
          PREFIX: args.bucket.prefix,
          AWS_DEFAULT_REGION: region,
          DOCKER: 1,
          LOCAL_DIR: backups.localDir,
          METRICS_DIR: backups.metricsDir,
          LOCAL_RETENTION_DAYS: backups.localRetentionDays,
          CLOUD_RETENTION_DAYS: backups.cloudRetentionDays,
          KEEP_MIN: backups.keepMin,
          BACKUP_SCHEDULE: backups.schedule,
          BACKUP_MAX_GAP_HOURS: maxGapHours(backups.schedule),
          VERIFY_SCHEDULE: backups.verifySchedule,
          VERIFY_MAX_GAP_HOURS: maxGapHours(backups.verifySchedule),
          ...(db.engine === "postgres"
            ? { PG_DATABASE: db.database, PG_USER: db.user }
            : sqliteVolume
              ? { SQLITE_VOLUME: sqliteVolumeName, SQLITE_FILE: db.path.slice(sqliteVolume.mountPath.length + 1) }
              : { SQLITE_PATH: db.path }),
          ...(uploads && { UPLOADS_VOLUME: uploadsVolumeName }),
          ...tlsBackupSettings(app.proxy.tls),
        }),
      );
    const installer = jobConfig.apply((config) =>
      renderInstallScript({
        appId: app.id,
        scripts: {
          "backup.sh": renderBackupScript(spec),
          "verify.sh": renderVerifyScript(spec),
          "restore.sh": renderRestoreScript(spec),
          "prune.sh": renderPruneScript(spec),
          ...(monitoringData && { "monitoring-backup.sh": renderMonitoringBackupScript(spec), "monitoring-restore.sh": renderMonitoringRestoreScript(spec) }),
        },
        jobConfig: config,
        units: renderUnits({
          appId: app.id,
          backupCalendar: toOnCalendar(backups.schedule),
          verifyCalendar: toOnCalendar(backups.verifySchedule),
          ...(monitoringData && { monitoringCalendar: toOnCalendar(MONITORING_DATA_SCHEDULE) }),
        }),
        localDir: backups.localDir,
      }),
    );
    const credentials = pulumi.secret(
      pulumi.interpolate`AWS_ACCESS_KEY_ID=${pulumi.output(args.bucket.writerAccessKeyId).apply(shellQuote)}\nAWS_SECRET_ACCESS_KEY=${pulumi.output(args.bucket.writerSecretAccessKey).apply(shellQuote)}\n`,
    );
    const state_ = [...(state.database ? [state.database] : []), ...Object.values(state.volumes)];
    const sudo = (argv: string[]) => shellJoin(["sudo", "-n", ...argv]);

    // The delete stops and removes the app's timers when the app leaves the stack, and keeps every
    // backup and restore.sh (hostInstall.ts). A change of `create` is an update in place (the provider's
    // Update re-runs `create`: pulumi-command remote/commandController.go L57-67), so the delete runs only
    // when the step goes or is replaced (`pulumi up --replace`, a new trigger): then the old step's delete
    // goes first, before the new one installs (`deleteBeforeReplace`). By default the engine creates the
    // replacement first and deletes the old step at the end of the update (pulumi/pulumi
    // step_generator.go "the delete step is generated later on"), which would remove the timers the new
    // step had just installed, since both name the same units. docs/engine-evidence.md item 18.
    this.install = deployCommand(
      `${name}-install`,
      {
        host: app.host,
        create: installer.apply((text) => sudo(["/bin/sh", "-c", text])),
        delete: sudo(["/bin/sh", "-c", renderUninstallScript({ appId: app.id, localDir: backups.localDir })]),
        stdin: credentials,
        // Again on a new instance of a created host, whose root volume lacks the timers.
        triggers: machineTriggers(app.host),
      },
      { parent: this, dependsOn: state_, deleteBeforeReplace: true },
    );

    const dir = scriptDir(app.id);
    // This host takes the app's backups from now on; a backup on any other host (the old one, after the
    // app moved) fails before it reads anything. Run again whenever the connection changes: the provider's
    // Update runs `create` again on any input change (docs/engine-evidence.md item 17).
    this.hostClaim = deployCommand(
      `${name}-host`,
      { host: app.host, create: sudo([`${dir}/backup.sh`, "--claim-host"]), triggers: machineTriggers(app.host) },
      { parent: this, dependsOn: [this.install] },
    );
    // Every step that runs backup.sh or restore.sh waits for the app's database lock a bounded time (a
    // timer's backup or the weekly upkeep may hold it): `pulumi up` fails after that, naming the lock,
    // rather than hanging for DB_LOCK_WAIT's hour, which `sudo -n` would drop anyway (../shared/databaseLock.ts).
    const lockWait = deployLockWait();
    const gates: pulumi.Resource[] = [];
    const source = args.restoreSource;
    if (source) {
      this.restore = deployCommand(
        `${name}-restore`,
        {
          host: app.host,
          create: pulumi
            .all([source.bucket, source.prefix])
            .apply(([bucket, prefix]) =>
              sudo([`${dir}/restore.sh`, ...(source.backup ? ["--id", source.backup] : ["--latest-verified"]), "--from-bucket", bucket, "--from-prefix", prefix, "--if-empty", ...lockWait]),
            ),
          // Once per source: never again on a later update (and --if-empty never overwrites data).
          triggers: [source.bucket, source.prefix, source.backup ?? "latest"],
        },
        { parent: this, dependsOn: [this.install, ...state_] },
      );
      gates.push(this.restore);
      if (monitoringData) {
        this.monitoringDataRestore = {
          create: (volumes) =>
            pulumi
              .all([source.bucket, source.prefix, volumes.prometheus, volumes.grafana])
              .apply(([bucket, prefix, prometheus, grafana]) =>
                sudo([`${dir}/monitoring-restore.sh`, "--prometheus-volume", prometheus, "--grafana-volume", grafana, "--from-bucket", bucket, "--from-prefix", prefix]),
              ),
          after: [this.install],
        };
      }
    }
    if (backups.preDeploy) {
      this.preDeployBackup = deployCommand(
        `${name}-pre-deploy`,
        // A first deploy of a SQLite app has no database file yet: nothing to back up, not a failure.
        { host: app.host, create: sudo([`${dir}/backup.sh`, "--reason", "pre-deploy", ...(sqliteVolume ? ["--skip-missing"] : []), ...lockWait]), triggers: [state.backendImage.imageId] },
        { parent: this, dependsOn: [this.install, this.hostClaim, ...state_, ...(this.restore ? [this.restore] : [])] },
      );
      gates.push(this.preDeployBackup);
    }
    const back = args.rollbackRestore;
    if (back) {
      // The data as it is goes into a backup first, so the rows written since the undone release are
      // never only in the database being overwritten.
      const first = this.preDeployBackup ? [] : [`${sudo([`${dir}/backup.sh`, "--reason", "pre-restore", ...lockWait])} &&`];
      const id = back.key.split("/").filter(Boolean).pop()!;
      // Each rollback its own: a later `--to` may undo the same release, from a newer one.
      const once = `rollback-${back.from ?? 0}-${back.undoes}-${id}`;
      this.rollbackRestore = deployCommand(
        `${name}-rollback-restore`,
        {
          host: app.host,
          // `--once`: done once per rollback on this host, also when an unrelated input change makes the
          // provider run `create` again (remote/commandController.go `Update` runs `create` without an `update`).
          create: [...first, sudo([`${dir}/restore.sh`, "--id", id, "--force", "--keep-stopped", "--once", once, ...lockWait])].join(" "),
          // Once per rollback: the same rollback done again after a redeploy runs again.
          triggers: [back.key, back.undoes, back.from ?? 0],
        },
        { parent: this, dependsOn: [this.install, this.hostClaim, ...state_, ...gates] },
      );
      gates.push(this.rollbackRestore);
    }
    this.preDeployBackupKey = this.preDeployBackup ? this.preDeployBackup.stdout.apply(backupKeyOf) : pulumi.output("");
    this.gates = gates;
    this.registerOutputs({ preDeployBackupKey: this.preDeployBackupKey, units: [backupUnit(app.id), verifyUnit(app.id)] });
  }
}
