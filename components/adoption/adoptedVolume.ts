/**
 * How a state volume of an adopted docker-compose deployment enters the stack: by `import`, with its
 * exact Docker name, never created.
 *
 * Why import and not only the existing name. pulumi-docker's volume (the bridged
 * kreuzwerker/terraform-provider-docker `internal/provider/resource_docker_volume.go`) creates with
 * `client.VolumeCreate` and the given name, and Docker answers a create of an existing local volume
 * with that volume: a `docker.Volume` that only names it would seem to work, but its state would then
 * hold the compose labels Docker reads back (`d.Set("labels", ...)`), and `labels`, `driver`,
 * `driver_opts` and `name` are all ForceNew: the next diff plans a replacement, whose delete removes
 * the volume (`VolumeRemove(..., force=true)`). With `import`, the engine reads the volume (Read with
 * the id, which for this resource is the volume's name) and fails the update, before anything runs,
 * if the declared inputs differ from what it read (pulumi/pulumi pkg/resource/deploy/step.go,
 * ImportStep.Apply: "inputs to import do not match the existing resource"): it can never create.
 *
 * What must match. The name, exactly. Compose puts its own labels on the volume
 * (com.docker.compose.project, .volume, .version) and may give driver options: those are in
 * `ignoreChanges`, which the import step applies before it diffs (processIgnoreChanges in the same
 * function) and every later update applies too, so the stack's labels never reach the volume and no
 * ForceNew field ever differs. `protect` makes the engine refuse any replacement or delete of it
 * ("unable to replace resource ... as it is currently marked for protection", step_generator.go),
 * and `retainOnDelete` keeps it on the host even after `pulumi state unprotect` and a destroy.
 * Keeping `import` set on later updates is a no-op: the engine imports only when the resource is not
 * in the state yet or its import id changed (step_generator.go: `isImport := goal.Custom && goal.ID
 * != "" && (!hasOld || old.External || oldImportID != goal.ID)`), and refuses to replace a resource
 * whose goal carries an id ("previously-imported resources" error), a second guard. (The SDK's doc
 * of `import` says to remove it once imported, node_modules/@pulumi/pulumi/resource.d.ts:400-406; the
 * engine code above shows keeping it changes nothing but that refusal, which is what an adopted
 * volume wants.)
 */
import type * as pulumi from "@pulumi/pulumi";

/** Inputs of an adopted volume taken from what Docker has, never from the program. */
export const ADOPTED_VOLUME_IGNORE_CHANGES: readonly string[] = ["labels", "driver", "driverOpts", "cluster"];

/** Arguments of the docker.Volume of an adopted state volume: its exact name, nothing else. */
export function adoptedVolumeArgs(existingName: string): { readonly name: string } {
  return { name: existingName };
}

/** Options of the docker.Volume of an adopted state volume (merged over the stack's own options). */
export function adoptedVolumeOptions(existingName: string): pulumi.CustomResourceOptions {
  return { import: existingName, protect: true, retainOnDelete: true, ignoreChanges: [...ADOPTED_VOLUME_IGNORE_CHANGES] };
}
