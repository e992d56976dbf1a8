/**
 * Config of the adoption area: `apps.<id>.adopt` takes a running docker-compose deployment of the app
 * into the stack. `project` is the compose project (the `com.docker.compose.project` label of its
 * containers); `volumes` maps each state volume of the app to the existing Docker volume that holds
 * its data, taken into the stack as it is. Pure: no Pulumi runtime.
 */
import { z } from "zod";
import { catalog, type AppDefinition } from "../apps";
import type { AdoptionSpec } from "./spec";

/** Compose's rule for project names (docker compose: lowercase letters, digits, '-' and '_', starting with a letter or digit). */
export const COMPOSE_PROJECT = /^[a-z0-9][a-z0-9_-]*$/;
/** Docker's rule for volume names (`[a-zA-Z0-9][a-zA-Z0-9_.-]+`, as `docker volume create` refuses otherwise). */
export const DOCKER_VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export const adoptSchema = z.strictObject({
  project: z
    .string({ error: "must be the docker-compose project name (the com.docker.compose.project label of its containers)" })
    .regex(COMPOSE_PROJECT, { error: "must be a compose project name: lowercase letters, digits, '-' and '_', starting with a letter or digit" }),
  volumes: z
    .record(
      z.string(),
      z
        .string({ error: "must be the name of an existing Docker volume (docker volume ls)" })
        .regex(DOCKER_VOLUME_NAME, { error: "must be a Docker volume name: letters, digits, '_', '.' and '-', starting with a letter or digit" }),
    )
    .optional(),
});

export type AdoptConfig = z.infer<typeof adoptSchema>;

/**
 * The state volumes of an app as AppStack declares them (keys of `AppStack.volumes`): the backend's
 * volumes, PostgreSQL's data directory, and Redis's append-only file where the cache keeps one.
 */
export function stateVolumeKeys(def: AppDefinition, cacheEnabled: boolean): string[] {
  return [
    ...def.backend.volumes.map((v) => v.name),
    ...(def.database.engine === "postgres" ? ["pgdata"] : []),
    ...(def.cache?.persistent && cacheEnabled ? ["redis-data"] : []),
  ];
}

/** Whether the stack runs the app's cache (as config/resolve.ts decides it). */
function cacheEnabled(def: AppDefinition, appRaw: Record<string, unknown>): boolean {
  const cache = isObject(appRaw["cache"]) ? appRaw["cache"] : {};
  return def.cache !== undefined && (typeof cache["enabled"] === "boolean" ? cache["enabled"] : !def.cache.optional);
}

interface RawProblem {
  readonly path: (string | number)[];
  readonly message: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * Cross-field rules: every state volume of the app is named (a state volume left out would start
 * empty, and the cut-over would then stop the compose containers that hold the data); no other key;
 * one Docker volume adopted once per host; and no adoption onto a host the stack creates (a new
 * machine runs no compose project).
 */
export function adoptionProblems(raw: unknown): RawProblem[] {
  const problems: RawProblem[] = [];
  const apps = isObject(raw) && isObject(raw["apps"]) ? raw["apps"] : {};
  const seen = new Map<string, string>();
  for (const [id, appRaw] of Object.entries(apps)) {
    const def = catalog[id];
    if (!def || !isObject(appRaw) || !isObject(appRaw["adopt"])) continue;
    const adopt = appRaw["adopt"];
    if (appRaw["aws"] !== undefined) {
      problems.push({ path: ["apps", id, "adopt"], message: "cannot adopt onto a host the stack creates (apps.<id>.aws): a new machine runs no docker-compose project; adopt on the existing host, then move" });
    }
    const keys = stateVolumeKeys(def, cacheEnabled(def, appRaw));
    const volumes = isObject(adopt["volumes"]) ? adopt["volumes"] : {};
    for (const key of Object.keys(volumes)) {
      if (!keys.includes(key)) {
        problems.push({ path: ["apps", id, "adopt", "volumes", key], message: `is not a state volume of ${def.displayName}; its state volumes are ${keys.join(", ") || "none"}` });
      }
    }
    for (const key of keys.filter((k) => !(k in volumes))) {
      problems.push({
        path: ["apps", id, "adopt", "volumes", key],
        message: `is required: name the existing Docker volume that holds ${def.displayName}'s ${key} (docker volume ls); left out, it would start empty and the cut-over would stop the containers holding the data`,
      });
    }
    const host = typeof appRaw["host"] === "string" ? appRaw["host"] : "default";
    for (const [key, name] of Object.entries(volumes)) {
      if (typeof name !== "string") continue;
      const where = `${host}\u0000${name}`;
      const first = seen.get(where);
      if (first) problems.push({ path: ["apps", id, "adopt", "volumes", key], message: `adopts the Docker volume ${name} that ${first} already adopts on the same host` });
      else seen.set(where, `apps.${id}.adopt.volumes.${key}`);
    }
  }
  return problems;
}

/** The resolved adoption of one app, or nothing when the stack adopts nothing for it. */
export function resolveAdoption(adopt: AdoptConfig | undefined): { adoption?: AdoptionSpec } {
  if (!adopt) return {};
  return { adoption: { project: adopt.project, volumes: { ...(adopt.volumes ?? {}) } } };
}
