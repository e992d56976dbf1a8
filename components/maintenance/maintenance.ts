/**
 * Maintenance: the app's scheduled jobs (database upkeep, image and volume pruning that keeps the
 * recorded releases, log retention, TLS renewal with a proxy reload) installed on its Docker host as
 * systemd timers by one deploy step (components/maintenance/units.ts says why timers). The step runs
 * again whenever a rendered file changes (an update in place), after the release is healthy, and
 * removes the timers when it is deleted.
 */
import * as pulumi from "@pulumi/pulumi";
import type { AppSpec } from "../../config/spec";
import { deployCommand, machineTriggers, type DeployCommand } from "../app/deployCommand";
import { maintenanceJobs } from "./jobs";
import { renderInstallScript, renderUninstallScript, unitName } from "./units";

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
      // No trigger but a created host's instance (a new one lacks the timers): a changed script is
      // an update in place, which re-runs `create` (pulumi-command
      // remote/commandController.go L57-67) and keeps the timers running meanwhile (the install
      // removes the ones no longer wanted itself). A trigger would make every change a replacement
      // (remote/command.js L132 `replaceOnChanges: ["triggers[*]"]`). The delete removes the timers
      // when the app leaves the stack or `maintenance.enabled` turns false; on a replacement
      // (`pulumi up --replace`) the old step's delete must run before the new step installs, not
      // after it as the engine does by default, since both name the same units: deleteBeforeReplace.
      // docs/engine-evidence.md item 18.
      this.install = deployCommand(
        `${name}-install`,
        { host: app.host, create: this.installScript, delete: renderUninstallScript(app.id, jobs), triggers: machineTriggers(app.host) },
        { parent: this, dependsOn: [...args.after], deleteBeforeReplace: true },
      );
    }
    this.registerOutputs({ schedule: this.schedule });
  }
}
