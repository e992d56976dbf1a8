/**
 * The variables a two-slot secret gives the app: `<NAME>` (the current value) and `<NAME>_PREVIOUS`
 * (the value of the window before, still accepted). Pure; shared by the catalog data, config checks
 * and the components, so every place spells the previous slot the same way.
 */
import type { SecretEnvDefinition } from "./types";

export const previousSlotName = (name: string): string => `${name}_PREVIOUS`;

/** Every secret variable the backend reads: its declared secrets and the previous slots of two-slot ones. */
export function secretVariableNames(secretEnv: readonly SecretEnvDefinition[]): string[] {
  return secretEnv.flatMap((s) => (s.source === "generated" && s.previousSlot ? [s.name, previousSlotName(s.name)] : [s.name]));
}

/** Names of the generated secrets' variables, previous slots included: none of them can be set by a stack. */
export function generatedVariableNames(secretEnv: readonly SecretEnvDefinition[]): string[] {
  return secretVariableNames(secretEnv.filter((s) => s.source === "generated"));
}
