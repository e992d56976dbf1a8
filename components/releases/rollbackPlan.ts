/**
 * What a rollback does, as a pure function of the stack's outputs and the request: which release it
 * goes back to, the config it sets (image tags; the down-migration or the restore), or why it
 * refuses, naming the choices. scripts/rollback.ts shows the plan, asks, and drives `pulumi up`.
 */
import { catalog } from "../../apps";
import { migrationKind } from "../../config/releases";
import { djangoDowngradeProblem, downgradeTarget } from "./migrations";
import { releasesOfApp, stableJson, type Release } from "./record";

export interface RollbackRequest {
  /** The app to roll back; may be left out when only one app of the stack has a release to go back to. */
  readonly app?: string;
  /** The release id to go back to; the one before the current by default. */
  readonly to?: number;
  /** Restore the pre-deploy backup of the release being undone instead of a down-migration. */
  readonly restoreData?: boolean;
  /** The operator knows the schema did not change: swap the images only. */
  readonly imagesOnly?: boolean;
}

export interface ConfigChange {
  /** A `--path` config key, `<project>:apps.<id>....`. */
  readonly key: string;
  readonly value: string;
}

export interface RollbackPlan {
  readonly app: string;
  readonly from: Release;
  readonly to: Release;
  /** The release whose pre-deploy backup a restore uses: the one deployed right after `to`. */
  readonly undone: Release;
  /** `--path` keys removed before `config` is set: an earlier rollback's settings never mix with this one's. */
  readonly remove: readonly string[];
  readonly config: readonly ConfigChange[];
  /** What `pulumi up` will do, in words, in order. */
  readonly steps: readonly string[];
}

export type RollbackDecision = { readonly ok: true; readonly plan: RollbackPlan } | { readonly ok: false; readonly message: string };

/** `repository:tag` split at the tag's colon (a registry port's colon comes before the last `/`). */
export function splitImage(ref: string): { repository: string; tag: string } {
  const i = ref.lastIndexOf(":");
  if (i <= ref.lastIndexOf("/")) throw new Error(`image ${ref} has no tag`);
  return { repository: ref.slice(0, i), tag: ref.slice(i + 1) };
}

export function describeRelease(r: Release): string {
  const images = Object.entries(r.images).map(([s, ref]) => `${s} ${splitImage(ref).tag}`).join(", ");
  return `#${r.id} ${r.time} ${images}; schema ${r.schemaRevision ?? "not recorded"}; backup ${r.backupKey ?? "none"}`;
}

export function planRollback(project: string, appsOutput: unknown, req: RollbackRequest): RollbackDecision {
  const ids = Object.keys(isRecord(appsOutput) ? appsOutput : {});
  const app = req.app ?? (ids.filter((id) => releasesOfApp(appsOutput, id).length > 1).length === 1 ? ids.find((id) => releasesOfApp(appsOutput, id).length > 1) : undefined);
  if (!app) return refuse(`name the app with --app: this stack deploys ${ids.join(", ") || "no app"}`);
  const def = catalog[app];
  if (!def || !ids.includes(app)) return refuse(`${app} is not an app of this stack (it deploys ${ids.join(", ") || "no app"})`);
  const releases = releasesOfApp(appsOutput, app);
  const from = releases[0];
  if (!from) return refuse(`${app} has no recorded release yet: the record starts with the next \`pulumi up\``);
  // By default the newest earlier release that runs other images and that no rollback has undone.
  const undoneIds = new Set(releases.flatMap((r) => (r.rollbackOf === undefined ? [] : [r.rollbackOf])));
  const toIndex =
    req.to === undefined
      ? releases.findIndex((r, i) => i > 0 && !undoneIds.has(r.id) && stableJson(r.images) !== stableJson(from.images))
      : releases.findIndex((r) => r.id === req.to);
  const to = releases[toIndex];
  if (!to || toIndex < 1) {
    const listed = releases.map((r) => `#${r.id}`).join(", ");
    return refuse(req.to === from.id ? `release #${from.id} is the one running` : `${app} has no earlier release${req.to === undefined ? "" : ` #${req.to}`} on record (recorded: ${listed})`);
  }
  const undone = releases[toIndex - 1]!;

  const config: ConfigChange[] = [];
  for (const [service, ref] of Object.entries(to.images)) {
    if (from.images[service] === ref) continue;
    const then = splitImage(ref);
    const now = from.images[service] ? splitImage(from.images[service]) : undefined;
    config.push({ key: `${project}:apps.${app}.${service}.tag`, value: then.tag });
    if (now && now.repository !== then.repository) {
      if (service === "proxy") return refuse(`the proxy image of #${to.id} is ${then.repository}, not ${now.repository}: the stack has no setting for the proxy's repository`);
      config.push({ key: `${project}:apps.${app}.${service}.repository`, value: then.repository });
    }
  }
  const steps = [`set ${app}'s image tags to release #${to.id}'s: ${config.map((c) => `${c.key.split(".").slice(2).join(".")}=${c.value}`).join(", ") || "(unchanged)"}`];
  const kind = migrationKind(def);
  const lost = `the data written since ${undone.time} (when #${undone.id} was deployed) would be lost from the live database (the update backs it up first)`;

  if (req.restoreData) {
    if (!undone.backupKey) return refuse(`release #${undone.id} has no pre-deploy backup on record: --restore-data has nothing to restore`);
    // The restore leaves the newer backends stopped for the older ones to replace: with the same image nothing would.
    if (from.images["backend"] === to.images["backend"]) {
      return refuse(`#${from.id} and #${to.id} run the same backend image (${from.images["backend"] ?? "none"}), so no schema changed between them: roll back without --restore-data`);
    }
    // Two tags of one image: the containers and the pre-deploy backup follow the RemoteImage's
    // `imageId`, the image's own id, which a new tag alone leaves as it was (kreuzwerker
    // terraform-provider-docker resource_docker_image_funcs.go: `d.Set("image_id", foundImage.ID)`).
    // Nothing would back the data up first, and nothing would replace the backends the restore stops.
    const digest = from.digests["backend"];
    if (digest !== undefined && digest === to.digests["backend"]) {
      return refuse(
        `#${from.id} and #${to.id} run the same backend image under two tags (${from.images["backend"] ?? "none"} and ${to.images["backend"] ?? "none"} are both ${digest}), so no schema changed between them: roll back without --restore-data`,
      );
    }
    config.push({ key: `${project}:apps.${app}.rollback.restoreBackup`, value: undone.backupKey });
    config.push({ key: `${project}:apps.${app}.rollback.undoes`, value: String(undone.id) });
    config.push({ key: `${project}:apps.${app}.rollback.from`, value: String(from.id) });
    steps.push(`back up the data as it is, then stop the backends and restore the pre-deploy backup ${undone.backupKey} of #${undone.id}: ${lost}`);
  } else if (!req.imagesOnly && (from.schemaRevision !== to.schemaRevision || (kind.kind === "irreversible" && from.images["backend"] !== to.images["backend"]))) {
    // An app that migrates itself records no revision: any other backend image may have changed its schema.
    const choices = (why: string) =>
      [
        `${app}: cannot roll back from #${from.id} to #${to.id} by images alone: ${why}.`,
        "Choices:",
        `  --restore-data   restore the pre-deploy backup of #${undone.id} (${undone.backupKey ?? "none recorded"}); ${lost}`,
        "  --images-only    run the older images on the newer schema (only if you know #" + `${undone.id}` + " changed nothing the older code reads)",
        "  roll forward     fix the release and deploy a new one with `pulumi up`",
      ].join("\n");
    if (kind.kind === "irreversible") return refuse(choices(`it has no down-migration (${kind.reason})`));
    if (kind.kind === "none") return refuse(choices("its schema changed and it has no migration command to take it back"));
    if (from.schemaRevision === null || to.schemaRevision === null) return refuse(choices(`the schema revision of #${from.schemaRevision === null ? from.id : to.id} was not recorded`));
    const downgradeTo = downgradeTarget(kind, from.schemaRevision, to.schemaRevision);
    if (downgradeTo !== undefined) {
      const problem = kind.kind === "django" ? djangoDowngradeProblem(from.schemaRevision, downgradeTo) : undefined;
      if (problem) return refuse(choices(problem));
      const image = from.images["backend"];
      if (!image) return refuse(`release #${from.id} names no backend image to run the down-migration with`);
      config.push({ key: `${project}:apps.${app}.rollback.downgradeTo`, value: downgradeTo });
      config.push({ key: `${project}:apps.${app}.rollback.image`, value: image });
      config.push({ key: `${project}:apps.${app}.rollback.undoes`, value: String(from.id) });
      steps.push(`run the down-migration to ${downgradeTo} with the newer image ${image}, before the older image's migrations and backends`);
    }
  }
  steps.push(
    req.restoreData
      ? `start release #${to.id}'s backends in place of the stopped ones (images kept on the host: no pull; the app is down from the restore until they pass their health checks), then the health gate`
      : `replace the backends with release #${to.id}'s images (kept on the host: no pull), then the health gate`,
  );
  return { ok: true, plan: { app, from, to, undone, remove: [`${project}:apps.${app}.rollback`], config, steps } };
}

const refuse = (message: string): RollbackDecision => ({ ok: false, message });
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
