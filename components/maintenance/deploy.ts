/** How program.ts wires this area: the window's backup in the pre-deploy seam; jobs, capacity and outputs after the app. */
import type * as pulumi from "@pulumi/pulumi";
import type { AppSpec, StackSpec } from "../../config/spec";
import type { PreDeployState } from "../app/appStackArgs";
import type { AppStack } from "../app/appStack";
import { capacityOf, HostCapacity, type AppCapacity } from "./capacity";
import { Maintenance } from "./maintenance";
import { MaintenanceWindow } from "./maintenanceWindow";

/** The `maintenance` stack output of one app. */
export interface MaintenanceOutput {
  /** systemd timer -> OnCalendar (UTC). */
  readonly schedule: Readonly<Record<string, string>>;
  readonly window: boolean;
  /** `<file> sha256:<hex>` of the window's own backup, while a window is open. */
  readonly windowBackup?: pulumi.Output<string>;
}

/**
 * The pre-deploy seam's part of a maintenance window: the backup before anything of the release (and
 * so before the proxy that turns the maintenance page on). `backupFirst`: the backups area's step.
 */
export function maintenanceWindowSeam(app: AppSpec, opts?: pulumi.ComponentResourceOptions, backupFirst?: pulumi.Resource) {
  let window: MaintenanceWindow | undefined;
  const seam = (state: PreDeployState): pulumi.Resource[] => {
    if (!app.maintenance.window) return [];
    window = new MaintenanceWindow(`${app.id}-maintenance-window`, { app, state: [...(state.database ? [state.database] : []), ...Object.values(state.volumes)], ...(backupFirst && { backupFirst }) }, opts);
    return [...window.steps];
  };
  return { seam, window: () => window };
}

/** Scheduled jobs after the release is healthy; the host's capacity once per host; the app's outputs. */
export function deployMaintenance(spec: StackSpec, app: AppSpec, stack: AppStack, window: MaintenanceWindow | undefined, opts?: pulumi.ComponentResourceOptions): { maintenance: MaintenanceOutput; capacity: AppCapacity } {
  const maintenance = new Maintenance(`${app.id}-maintenance`, { app, after: [stack.healthGate] }, opts);
  const sharing = spec.apps.filter((a) => a.hostCapacity.hostKey === app.hostCapacity.hostKey);
  if (sharing[0]?.id === app.id) {
    new HostCapacity(
      `${app.id}-host-capacity`,
      { host: app.hostCapacity.hostKey, ...(app.hostCapacity.memoryMb !== undefined && { memoryMb: app.hostCapacity.memoryMb }), source: app.hostCapacity.source, apps: sharing.map((a) => a.id) },
      opts,
    );
  }
  return {
    maintenance: { schedule: maintenance.schedule, window: app.maintenance.window, ...(window?.record && { windowBackup: window.record }) },
    capacity: capacityOf(app),
  };
}
