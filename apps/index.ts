import { fairlens } from "./fairlens";
import { fdts } from "./fdts";
import { handwork } from "./handwork";
import { lms } from "./lms";
import { reference } from "./reference";
import type { AppDefinition } from "./types";

export type * from "./types";

/** Every application this program can deploy, by catalog id. */
export const catalog: Readonly<Record<string, AppDefinition>> = Object.freeze(
  Object.fromEntries([fairlens, fdts, reference, lms, handwork].map((app) => [app.id, app])),
);

export const catalogIds: readonly string[] = Object.keys(catalog);
