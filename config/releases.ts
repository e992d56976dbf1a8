/**
 * Releases and rollback in a stack's config: `apps.<id>.releases` (how many releases the stack keeps
 * on record) and `apps.<id>.rollback` (set by `npm run rollback`, rarely by hand: the down-migration
 * a rollback runs with the newer image before the older one replaces the backends).
 */
import { z } from "zod";
import { catalog, type AppDefinition } from "../apps";

export const RELEASES_DEFAULTS = {
  /** Releases kept in the `releases` stack output and in the host's releases.json (issue 12: "the last 5"). */
  keep: 5,
} as const;

/** How the app's schema is migrated, read back and taken back, from the catalog's migration command. */
export type MigrationKind =
  | { readonly kind: "alembic" }
  | { readonly kind: "django" }
  /** No migration command, and nothing in the catalog says the app migrates itself: images only. */
  | { readonly kind: "none" }
  /** The app migrates itself; no revision can be read back and no down-migration exists. */
  | { readonly kind: "irreversible"; readonly reason: string };

/** Set by `npm run rollback`: how the release being undone is taken back, besides its images. */
export interface RollbackSpec {
  /** The release being undone: part of the steps' triggers, so the same rollback done twice runs twice. */
  readonly undoes: number;
  /** A down-migration: the revision to go down to (alembic, or `app:migration,...` for Django) and the newer image that knows how. */
  readonly downgrade?: { readonly to: string; readonly image: string };
  /** `--restore-data`: the pre-deploy backup of the release being undone, restored before any backend starts. */
  readonly restoreBackup?: string;
  /** The release that ran when the rollback was planned: with `undoes`, what makes each restore its own (a later `--to` may undo the same release again). */
  readonly from?: number;
}

export interface ReleasesSpec {
  readonly keep: number;
  readonly migrations: MigrationKind;
  readonly rollback?: RollbackSpec;
}

const REVISION = /^[A-Za-z0-9_.:,-]+$/;
/** A backup's object key prefix `<prefix>/<id>/`, or its id: ids are what backup.sh accepts. */
const BACKUP_KEY = /^(?:[A-Za-z0-9._-]+\/)?[A-Za-z0-9_][A-Za-z0-9._-]*\/?$/;
const IMAGE_REF = /^[a-z0-9][a-z0-9._/:-]*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** The keys this area adds to `apps.<id>` (config/schema.ts spreads them under its marker). */
export const releasesKeys = {
  releases: z
    .strictObject({
      keep: z
        .number({ error: "must be a whole number of releases from 2 to 50" })
        .int({ error: "must be a whole number of releases from 2 to 50" })
        .min(2, { error: "must be at least 2: a rollback needs the release before the current one" })
        .max(50, { error: "must be at most 50" })
        .optional(),
    })
    .optional(),
  rollback: z
    .strictObject({
      // `pulumi config set --path` may store a value that looks like a number as one: take both.
      downgradeTo: z
        .union([z.string(), z.number()], { error: "must be a schema revision string" })
        .transform(String)
        .pipe(z.string().regex(REVISION, { error: "must be a schema revision: letters, digits and _ . : , -" }))
        .optional(),
      image: z.string({ error: "must be an image reference" }).regex(IMAGE_REF, { error: "must be the newer image as repository:tag" }).optional(),
      // `<app>/<id>/` as the pre-deploy backup printed it (the release record keeps it), or the id alone.
      restoreBackup: z
        .string({ error: "must be the key of a pre-deploy backup" })
        .regex(BACKUP_KEY, { error: "must be the key of a pre-deploy backup as the release record shows it: <app>/<id>/ (or the id alone)" })
        .optional(),
      from: z.coerce.number({ error: "must be the id of the release running before the rollback" }).int({ error: "must be the id of the release running before the rollback" }).positive({ error: "must be the id of the release running before the rollback" }).optional(),
      undoes: z.coerce.number({ error: "must be the id of the release being undone" }).int({ error: "must be the id of the release being undone" }).positive({ error: "must be the id of the release being undone" }),
    })
    .optional(),
};

type ReleasesConfig = {
  releases?: { keep?: number | undefined } | undefined;
  rollback?: { downgradeTo?: string | undefined; image?: string | undefined; restoreBackup?: string | undefined; from?: number | undefined; undoes: number } | undefined;
};

/** The kind of the catalog's migration command: `alembic ...`, or Django's `manage.py migrate`. */
export function migrationKind(def: Pick<AppDefinition, "backend">): MigrationKind {
  const cmd = def.backend.migrationCommand ?? [];
  if (def.backend.noDownMigration) return { kind: "irreversible", reason: def.backend.noDownMigration.reason };
  if (cmd[0] === "alembic") return { kind: "alembic" };
  if (cmd.some((a) => a.endsWith("manage.py")) && cmd.includes("migrate")) return { kind: "django" };
  return { kind: "none" };
}

/** Problems of this area that span fields: a rollback's down-migration needs an app that has one. */
export function releasesProblems(raw: unknown): { path: PropertyKey[]; message: string }[] {
  const apps = isRecord(raw) && isRecord(raw["apps"]) ? raw["apps"] : {};
  const problems: { path: PropertyKey[]; message: string }[] = [];
  for (const [appId, app] of Object.entries(apps)) {
    const def = catalog[appId];
    const rollback = isRecord(app) && isRecord(app["rollback"]) ? app["rollback"] : undefined;
    if (!def || !rollback) continue;
    const at = (key: string) => ["apps", appId, "rollback", key];
    if ((rollback["downgradeTo"] === undefined) !== (rollback["image"] === undefined)) {
      problems.push({ path: at(rollback["image"] === undefined ? "image" : "downgradeTo"), message: "a down-migration needs both `downgradeTo` and `image` (the newer image that knows how to go down)" });
    }
    if (rollback["downgradeTo"] !== undefined && rollback["restoreBackup"] !== undefined) {
      problems.push({ path: at("restoreBackup"), message: "either a down-migration (`downgradeTo`) or a restore (`restoreBackup`), not both: the restored backup already has the older schema" });
    }
    const key = rollback["restoreBackup"];
    if (typeof key === "string" && key.includes("/") && key.split("/")[0] !== appId) {
      problems.push({ path: at("restoreBackup"), message: `${key} is not a backup of ${appId}: a rollback restores the app's own pre-deploy backup, under ${appId}/` });
    }
    const kind = migrationKind(def);
    if (rollback["downgradeTo"] !== undefined && (kind.kind === "none" || kind.kind === "irreversible")) {
      const why = kind.kind === "irreversible" ? kind.reason : "it has no migration command";
      problems.push({ path: at("downgradeTo"), message: `${appId} has no down-migration (${why}): roll back with \`npm run rollback -- --restore-data\` instead` });
    }
  }
  return problems;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function resolveReleases(def: Pick<AppDefinition, "backend">, app: ReleasesConfig): { releases: ReleasesSpec } {
  return {
    releases: {
      keep: app.releases?.keep ?? RELEASES_DEFAULTS.keep,
      migrations: migrationKind(def),
      ...(app.rollback && {
        rollback: {
          undoes: app.rollback.undoes,
          ...(app.rollback.downgradeTo !== undefined && app.rollback.image !== undefined && { downgrade: { to: app.rollback.downgradeTo, image: app.rollback.image } }),
          ...(app.rollback.restoreBackup !== undefined && { restoreBackup: app.rollback.restoreBackup }),
          ...(app.rollback.from !== undefined && { from: app.rollback.from }),
        },
      }),
    },
  };
}
