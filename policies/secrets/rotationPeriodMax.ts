import type { PolicyConfigSchema, ResourceValidationPolicy } from "@pulumi/policy";
import { settings } from "../lib";
import { generatedSecrets, KEEPER } from "./kinds";

const configSchema: PolicyConfigSchema = {
  properties: {
    maxDays: {
      type: "integer",
      minimum: 1,
      default: 90,
      description: "Longest period between two scheduled rotations of a generated secret, in days (FairLens: quarterly).",
    },
  },
};

/**
 * Every generated secret rotates on a schedule, at most every `maxDays`: its keepers carry a rotation
 * window (which changes every period) and the period itself. FairLens's "Quarterly: Review and
 * rotate secrets/keys" (000 line 174) is the only period the five runbooks give, and the default here.
 */
export const rotationPeriodMax: ResourceValidationPolicy = {
  name: "secrets-rotation-period-max",
  description:
    "Every generated secret rotates on a schedule, at most every maxDays days (90 by default: the runbooks' quarterly rotation of secrets and keys). A secret without a rotation window never changes until someone remembers to change it.",
  configSchema,
  validateResource: (args, report) => {
    const [g] = generatedSecrets([{ ...args, dependencies: [], propertyDependencies: {} }]);
    // The database image's bootstrap password seeds a new data directory only, and the owner role
    // loses it once the app runs on its login roles (DatabaseOwnerLock): it is no credential to rotate.
    if (!g || g.kind === "bootstrap") return;
    const { maxDays } = settings<{ maxDays: number }>(configSchema, args);
    const days = Number(g.keepers[KEEPER.periodDays]);
    if (g.keepers[KEEPER.window] === undefined || g.keepers[KEEPER.generation] === undefined || !Number.isInteger(days)) {
      report(`${g.app}: ${g.secret} (${args.name}) has no rotation window in its keepers (${KEEPER.window}, ${KEEPER.generation}, ${KEEPER.periodDays}), so it never rotates; generate it through AppSecrets.`);
    } else if (days > maxDays) {
      report(`${g.app}: ${g.secret} (${args.name}) rotates every ${days} days; at most ${maxDays} days are allowed.`);
    }
  },
};
