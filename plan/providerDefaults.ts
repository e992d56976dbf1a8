/**
 * Replacement behaviour the providers choose when the program declares none. The engine replaces a
 * resource create-before-delete unless the provider's diff or the program says delete first; an
 * explicit `deleteBeforeReplace: false` overrides the provider (pulumi/pulumi#3118, CHANGELOG
 * 1.0.0-beta.3). The mock runtime has no provider, so the plan keeps the defaults here.
 */
import type { PlannedResource } from "./mockRuntime";

export const PROVIDER_DELETE_BEFORE_REPLACE: Readonly<Record<string, { readonly deleteBeforeReplace: boolean; readonly source: string }>> = {
  // pulumi/pulumi-docker provider/resources.go (commit 37a4904d, L87-89): the `docker_container`
  // ResourceInfo sets `DeleteBeforeReplace: true`, so a replaced container is removed before its
  // replacement is created.
  "docker:index/container:Container": {
    deleteBeforeReplace: true,
    source: "pulumi/pulumi-docker provider/resources.go: docker_container DeleteBeforeReplace: true",
  },
};

/**
 * Whether replacing this resource deletes it first, and why: the program declared it, or the
 * provider does it by default; undefined when the replacement is created first.
 */
export function deleteBeforeReplaceOf(r: Pick<PlannedResource, "type" | "options">): "declared" | "provider default" | undefined {
  if (r.options.deleteBeforeReplace !== undefined) return r.options.deleteBeforeReplace ? "declared" : undefined;
  return PROVIDER_DELETE_BEFORE_REPLACE[r.type]?.deleteBeforeReplace ? "provider default" : undefined;
}
