/**
 * Maintenance: the app's scheduled jobs (database upkeep, image and volume pruning that keeps the
 * recorded releases, log retention, TLS renewal with a proxy reload) installed on its Docker host as
 * systemd timers by one deploy step (components/maintenance/units.ts says why timers). The step runs
 * again whenever a rendered file changes (its trigger is their hash), after the release is healthy.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import type { AppSpec } from "../../config/spec";
import { deployCommand, type DeployCommand } from "../app/deployCommand";
import { maintenanceJobs } from "./jobs";
import { renderInstallScript, unitName } from "./units";

export interface MaintenanceArgs {
  /** The app, fully resolved: its database, images, proxy and host. */
  readonly app: AppSpec;
  /** What must be in place first (the release's health gate: the jobs find its containers by label). */
  readonly after: readonly pulumi.Resource[];
}

export class Maintenance extends pulumi.ComponentResource {
  /** The install step (absent when `maintenance.enabled` is false). */
  public readonly install?: DeployCommand;
  /** Each job's systemd timer and its schedule (OnCalendar, UTC). */
  public readonly schedule: Readonly<Record<string, string>>;
  /** The install script, as the step runs it. */
  public readonly installScript: string;

  constructor(name: string, args: MaintenanceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook:maintenance:Maintenance", name, {}, opts);
    const { app } = args;
    const jobs = app.maintenance.enabled ? maintenanceJobs(app) : [];
    this.installScript = renderInstallScript(app.id, jobs);
    this.schedule = Object.fromEntries(jobs.map((j) => [`${unitName(app.id, j.name)}.timer`, j.onCalendar]));
    if (app.maintenance.enabled) {
      const hash = createHash("sha256").update(this.installScript).digest("hex");
      this.install = deployCommand(`${name}-install`, { host: app.host, create: this.installScript, triggers: [hash] }, { parent: this, dependsOn: [...args.after] });
    }
    this.registerOutputs({ schedule: this.schedule });
  }
}
