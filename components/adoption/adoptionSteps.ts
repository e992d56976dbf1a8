/**
 * What AppStack does for an app that adopts a running docker-compose deployment (`app.adoption`),
 * as three functions it calls at the points where they belong: a state volume (imported, or made),
 * the database handover (before PostgreSQL or Redis start), and the cut-over (before the containers
 * that hold host ports start). For an app that adopts nothing they make what AppStack always made,
 * and nothing else.
 */
import * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import type { AppSpec } from "../../config/spec";
import { adoptedVolumeArgs, adoptedVolumeOptions } from "./adoptedVolume";
import { ComposeHandover } from "./composeHandover";

type Labels = { label: string; value: string }[];

/** A volume of state: the existing Docker volume when the app adopts one for `key`, else a new labelled one. */
export function stateVolume(name: string, key: string, app: Pick<AppSpec, "adoption">, labels: Labels, opts: pulumi.CustomResourceOptions): docker.Volume {
  const existing = app.adoption?.volumes[key];
  return existing
    ? new docker.Volume(name, adoptedVolumeArgs(existing), { ...opts, ...adoptedVolumeOptions(existing) })
    : new docker.Volume(name, { labels }, opts);
}

/**
 * PostgreSQL and Redis never run twice on one data directory: the compose containers that mount an
 * adopted `pgdata` or `redis-data` stop before the stack's server starts on it. Returns the step the
 * database and cache wait for (none when nothing of that kind is adopted).
 */
export function serversHandover(name: string, app: AppSpec, volume: (key: string) => docker.Volume, parent: pulumi.Resource): pulumi.Resource[] {
  const adoption = app.adoption;
  const keys = [...(app.database.engine === "postgres" ? ["pgdata"] : []), ...(app.cache?.persistent ? ["redis-data"] : [])].filter((k) => adoption?.volumes[k]);
  if (!adoption || keys.length === 0) return [];
  const handover = new ComposeHandover(
    `${name}-adoption-servers`,
    { app, project: adoption.project, onlyMounting: keys.map((k) => adoption.volumes[k]!), after: keys.map(volume) },
    { parent },
  );
  return [handover.stop];
}

/**
 * The cut-over: once every container in `ready` is healthy, the compose project's containers stop.
 * Returns the step that the containers holding host ports (the proxy, an admin UI) wait for.
 */
export function composeCutover(name: string, app: AppSpec, ready: readonly docker.Container[], parent: pulumi.Resource): pulumi.Resource[] {
  if (!app.adoption) return [];
  return [new ComposeHandover(`${name}-adoption-cutover`, { app, project: app.adoption.project, ready }, { parent }).stop];
}
