/**
 * RecoveryReport: what a recovery stack reports once the app is back on its fresh host, as the
 * stack output `apps.<id>.recovery`:
 * - the recovery point: the time of the backup restored (its manifest's `created`), so the data
 *   written after it is what was lost;
 * - the backup's key (`s3://<bucket>/<prefix>/<id>/`);
 * - the recovery time: from the restore's start (after the host and its database are up) to the
 *   health gate passing, through migrations and the backends' start.
 * `<name>-healthy` reads the host's clock once the health gate has passed (the restore's times are
 * the same clock). It re-runs whenever the restore does: the restore's output, which carries its
 * times, is its trigger.
 */
import * as pulumi from "@pulumi/pulumi";
import type { AppSpec } from "../../config/spec";
import { deployCommand, type DeployCommand } from "../app/deployCommand";

export interface RecoveryReportArgs {
  /** The app: its id and Docker host. */
  readonly app: Pick<AppSpec, "id" | "host">;
  /** BackupJobs.restore: its stdout carries `recovery-point:`, `restored-from:`, `restore-started:`, `restore-finished:`. */
  readonly restore: DeployCommand;
  /** AppStack.healthGate: the app answers on its health endpoints through the proxy. */
  readonly healthGate: pulumi.Resource;
}

/** The stack output of a recovery. Times are ISO 8601 UTC; "" where the step printed none. */
export interface Recovery {
  /** `restored`; `skipped` when the database already held tables (`--if-empty`: a later update); `unknown` when the restore printed nothing (a preview). */
  readonly status: "restored" | "skipped" | "unknown";
  /** The restored backup's time: the data is as of then. */
  readonly point: string;
  readonly backupKey: string;
  readonly startedAt: string;
  readonly restoredAt: string;
  readonly healthyAt: string;
  /** Seconds from the restore's start to the health gate passing; -1 when unknown. */
  readonly seconds: number;
}

const DEFAULTS = { clock: "date -u +%s" } as const;

const field = (stdout: string, key: string): string => {
  const all = [...stdout.matchAll(new RegExp(`^${key}: (\\S+)$`, "gm"))];
  return all.length > 0 ? all[all.length - 1]![1]! : "";
};
const iso = (unix: string): string => (/^\d+$/.test(unix) ? new Date(Number(unix) * 1000).toISOString() : "");

/** The recovery a restore's stdout and the healthy step's stdout (unix seconds) describe. */
export function recoveryOf(restoreStdout: string, healthyStdout: string): Recovery {
  const restored = field(restoreStdout, "restored");
  const status = restored === "none" ? "skipped" : restored === "" ? "unknown" : "restored";
  const started = field(restoreStdout, "restore-started");
  const healthy = healthyStdout.trim();
  const known = status === "restored" && /^\d+$/.test(started) && /^\d+$/.test(healthy);
  return {
    status,
    point: iso(field(restoreStdout, "recovery-point")),
    backupKey: field(restoreStdout, "restored-from"),
    startedAt: iso(started),
    restoredAt: iso(field(restoreStdout, "restore-finished")),
    healthyAt: status === "restored" ? iso(healthy) : "",
    seconds: known ? Number(healthy) - Number(started) : -1,
  };
}

export class RecoveryReport extends pulumi.ComponentResource {
  /** Reads the host's clock after the health gate. */
  public readonly healthy: DeployCommand;
  public readonly recovery: pulumi.Output<Recovery>;

  constructor(name: string, args: RecoveryReportArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook:backups:RecoveryReport", name, {}, opts);
    if (!args.restore) throw new Error("`restore` must be given: only a recovery stack (backups.restoreFrom) reports a recovery");
    if (!args.healthGate) throw new Error("`healthGate` must be given: the recovery ends when the app answers its health checks");
    this.healthy = deployCommand(
      `${name}-healthy`,
      { host: args.app.host, create: DEFAULTS.clock, triggers: [args.restore.stdout] },
      { parent: this, dependsOn: [args.restore, args.healthGate] },
    );
    // A remote command's stdout is secret because its connection is (pulumi/pulumi-command#256). The
    // report holds only the fields recoveryOf parses (times, a bucket key), never a secret: shown plainly.
    this.recovery = pulumi.unsecret(pulumi.all([args.restore.stdout, this.healthy.stdout]).apply(([restore, healthy]) => recoveryOf(restore ?? "", healthy ?? "")));
    this.registerOutputs({ recovery: this.recovery });
  }
}
