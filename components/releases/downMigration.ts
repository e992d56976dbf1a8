/**
 * A rollback's down-migration, inside `pulumi up` and in the right order: when the stack config sets
 * `apps.<id>.rollback` (the rollback command does), one-off containers of the NEWER image (the one
 * that knows how to go down) run the down-migration before the older image's migrations, release
 * task, replicas and workers, all of which wait for the pre-deploy seam this returns into.
 *
 * Each command runs once per rollback: its triggers are the target revision and the newer image.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { AppSpec } from "../../config/spec";
import type { PreDeployState } from "../app/appStackArgs";
import type { DeployCommand } from "../app/deployCommand";
import { downMigrationCommands } from "./migrations";

/**
 * The pre-deploy steps with the down-migration after them: it waits for `steps` (the database role
 * step: it uses this release's credentials) and `after` (steps already in the seam, such as the
 * pre-deploy backup), and only `steps` and the down-migration are returned.
 */
export function withDownMigration(
  app: AppSpec,
  state: Pick<PreDeployState, "oneOff">,
  steps: readonly pulumi.Resource[],
  after: readonly pulumi.Resource[] = [],
): pulumi.Resource[] {
  const rollback = app.releases.rollback;
  if (!rollback) return [...steps];
  const commands = downMigrationCommands(app.releases.migrations, rollback.downgradeTo);
  const down: DeployCommand[] = [];
  commands.forEach((argv, i) => {
    down.push(
      state.oneOff(`rollback-down-migration-${i}`, argv, {
        image: rollback.image,
        // One after another: Django apps' migrations depend on each other.
        after: [...after, ...steps, ...down],
        triggers: [rollback.downgradeTo, rollback.image],
      }),
    );
  });
  return [...steps, ...down];
}
