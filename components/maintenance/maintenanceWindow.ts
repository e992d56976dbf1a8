/**
 * MaintenanceWindow: `apps.<id>.maintenance.window: true` takes a backup first and then turns the
 * maintenance page on (the proxy's `maintenance` switch, config/resolve.ts). The backup is a step of
 * AppStack's pre-deploy seam: the backends wait for it, and the proxy config step that delivers the
 * maintenance page names the backends, so the page goes on only once the backup is done. The step
 * exists only while the window is open, so it runs once when the window opens.
 *
 * Until the backups area's pre-deploy backup is in this tree, the window takes its own backup
 * (windowBackup.ts); given `backupFirst` (that area's step), it takes none and waits for that one.
 */
import type * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { AppSpec } from "../../config/spec";
import { deployCommand, type DeployCommand } from "../app/deployCommand";
import { renderWindowBackupCommand, renderWindowBackupScript } from "./windowBackup";

export interface MaintenanceWindowArgs {
  readonly app: AppSpec;
  /** The state the backup reads: the database container (PostgreSQL) or the backend's volumes. */
  readonly state: readonly pulumi.Resource[] | readonly docker.Container[];
  /** Narrow seam for the backups area: its pre-deploy backup step, taken instead of this one. */
  readonly backupFirst?: pulumi.Resource;
}

export class MaintenanceWindow extends pulumi.ComponentResource {
  /** The window's own backup step, when the backups area gave none. */
  public readonly backup?: DeployCommand;
  /** What the seam waits for: the backup, whichever takes it. */
  public readonly steps: readonly pulumi.Resource[];
  /** `<file> sha256:<hex>` of the window's own backup. */
  public readonly record?: pulumi.Output<string>;

  constructor(name: string, args: MaintenanceWindowArgs, opts?: pulumi.ComponentResourceOptions) {
    const { app } = args;
    if (!app.maintenance.window) throw new Error(`\`app.maintenance.window\` is off for ${app.id}: declare a MaintenanceWindow only while it is open`);
    super("runbook:maintenance:MaintenanceWindow", name, {}, opts);
    if (args.backupFirst) {
      this.steps = [args.backupFirst];
    } else {
      const db = app.database;
      const script = renderWindowBackupScript(
        db.engine === "postgres"
          ? { appId: app.id, engine: "postgres", database: db.database, user: db.user }
          : { appId: app.id, engine: "sqlite", path: db.path, runtime: app.backend.runtime },
      );
      // As root, through sudo: it takes the app's database lock (windowBackup.ts says why).
      this.backup = deployCommand(`${name}-backup`, { host: app.host, create: renderWindowBackupCommand(app.id, script), triggers: [script] }, { parent: this, dependsOn: [...args.state] });
      this.record = this.backup.stdout;
      this.steps = [this.backup];
    }
    this.registerOutputs({});
  }
}
