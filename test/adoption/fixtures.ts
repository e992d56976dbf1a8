/** Stacks that adopt a running docker-compose deployment of every catalog app, and a model of the engine's import check. */
import { catalog } from "../../apps";
import { stateVolumeKeys } from "../../config/adoption";
import { parseStackConfig } from "../../config/resolve";
import type { StackSpec } from "../../config/spec";
import { rawStackConfig } from "../helpers";

/** The compose project name of an app's running deployment in these fixtures. */
export const composeProject = (id: string) => `${id}-compose`;
/** The existing Docker volume compose made for a state volume (`<project>_<volume>`, compose's own naming). */
export const composeVolume = (id: string, key: string) => `${composeProject(id)}_${key}`;

/** The committed stack, with every app adopting its compose deployment and all its state volumes. */
export function adoptedStack(stack: string): StackSpec {
  const raw = structuredClone(rawStackConfig(stack)) as Record<string, unknown>;
  const apps = raw["apps"] as Record<string, Record<string, unknown>>;
  for (const [id, app] of Object.entries(apps)) {
    const cache = app["cache"] as { enabled?: boolean } | undefined;
    const def = catalog[id]!;
    const keys = stateVolumeKeys(def, def.cache !== undefined && (cache?.enabled ?? !def.cache.optional));
    app["adopt"] = { project: composeProject(id), volumes: Object.fromEntries(keys.map((k) => [k, composeVolume(id, k)])) };
  }
  return parseStackConfig(raw);
}

/** A volume as the provider reads it back (resource_docker_volume.go, resourceDockerVolumeRead), in Pulumi's names. */
export interface VolumeState {
  readonly name?: string;
  readonly labels?: readonly { readonly label: string; readonly value: string }[];
  readonly driver?: string;
  readonly driverOpts?: Readonly<Record<string, string>>;
}

/** What `docker volume inspect` gives for a volume docker compose v2 made, as the provider reads it. */
export function composeReadBack(id: string, key: string): VolumeState {
  return {
    name: composeVolume(id, key),
    labels: [
      { label: "com.docker.compose.project", value: composeProject(id) },
      { label: "com.docker.compose.version", value: "2.24.6" },
      { label: "com.docker.compose.volume", value: key },
    ],
    driver: "local",
    driverOpts: {},
  };
}

/**
 * The docker_volume schema (resource_docker_volume.go): every input is ForceNew; `name` and `driver`
 * are Optional+Computed (an absent input keeps the state's value), `labels` and `driver_opts` are
 * Optional only (an absent input means "none", a change from what was read).
 */
const FIELDS = { name: { computed: true }, labels: { computed: false }, driver: { computed: true }, driverOpts: { computed: false } } as const;

const isEmpty = (v: unknown) => v === undefined || (Array.isArray(v) && v.length === 0) || (typeof v === "object" && v !== null && Object.keys(v).length === 0);
const canonical = (v: unknown): string => JSON.stringify(Array.isArray(v) ? [...v].map((x) => JSON.stringify(x)).sort() : v ?? null);

/**
 * The fields whose difference the engine would report between declared inputs and the read-back
 * state: ignoreChanges first copies the old value in (ImportStep.Apply's processIgnoreChanges), then
 * the provider diffs. Every field is ForceNew, so any difference is a replacement (or, on import, a
 * failed import).
 */
export function volumeDiff(declared: VolumeState, read: VolumeState, ignoreChanges: readonly string[]): string[] {
  const inputs: Record<string, unknown> = { ...declared };
  for (const key of ignoreChanges) if (key in read) inputs[key] = read[key as keyof VolumeState];
  const changed: string[] = [];
  for (const [key, { computed }] of Object.entries(FIELDS)) {
    const want = inputs[key];
    const have = read[key as keyof VolumeState];
    if (want === undefined) {
      if (!computed && !isEmpty(have)) changed.push(key);
    } else if (canonical(want) !== canonical(have)) {
      changed.push(key);
    }
  }
  return changed;
}
