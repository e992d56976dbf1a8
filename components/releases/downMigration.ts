/**
 * A rollback's down-migration, inside `pulumi up` and in the right order: when the stack config sets
 * `apps.<id>.rollback` (the rollback command does), one-off containers of the NEWER image (the one
 * that knows how to go down) run the down-migration before the older image's migrations, release
 * task, replicas and workers, all of which wait for the pre-deploy seam this returns into.
 *
 * Each command runs once per rollback: its triggers are the target revision, the newer image and the
 * release being undone (the same rollback done again, after a redeploy, runs again).
 */
import type * as pulumi from "@pulumi/pulumi";
import type { AppSpec } from "../../config/spec";
import type { PreDeployState } from "../app/appStackArgs";
import type { DeployCommand } from "../app/deployCommand";
import { downMigrationCommands } from "./migrations";

/**
 * The pre-deploy steps with the down-migration after them: it waits for `steps` (the database role
 * step: it uses this release's credentials) and `after` (steps already in the seam, such as the
 * pre-deploy backup), and only `steps` and the down-migration are returned. A rollback that restores
 * data instead (`rollback.restoreBackup`) has no down-migration: its restore is a backups step
 * (BackupJobs `-rollback-restore`), already among `steps`.
 */
export function withDownMigration(
  app: AppSpec,
  state: Pick<PreDeployState, "oneOff">,
  steps: readonly pulumi.Resource[],
  after: readonly pulumi.Resource[] = [],
): pulumi.Resource[] {
  const rollback = app.releases.rollback;
  const downgrade = rollback?.downgrade;
  if (!rollback || !downgrade) return [...steps];
  const commands = downMigrationCommands(app.releases.migrations, downgrade.to);
  const down: DeployCommand[] = [];
  commands.forEach((argv, i) => {
    down.push(
      state.oneOff(`rollback-down-migration-${i}`, argv, {
        image: downgrade.image,
        // One after another: Django apps' migrations depend on each other.
        after: [...after, ...steps, ...down],
        triggers: [downgrade.to, downgrade.image, rollback.undoes],
      }),
    );
  });
  return [...steps, ...down];
}
