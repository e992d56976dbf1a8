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

export interface RollbackSpec {
  /** Schema revision to go down to (alembic revision, or `app:migration,...` for Django; `base`/`zero` for none). */
  readonly downgradeTo: string;
  /** The newer image, which knows the down-migrations (`repository:tag`). */
  readonly image: string;
}

export interface ReleasesSpec {
  readonly keep: number;
  readonly migrations: MigrationKind;
  readonly rollback?: RollbackSpec;
}

const REVISION = /^[A-Za-z0-9_.:,-]+$/;
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
      downgradeTo: z.string({ error: "must be a schema revision string" }).regex(REVISION, { error: "must be a schema revision: letters, digits and _ . : , -" }),
      image: z.string({ error: "must be an image reference" }).regex(IMAGE_REF, { error: "must be the newer image as repository:tag" }),
    })
    .optional(),
};

type ReleasesConfig = { releases?: { keep?: number | undefined } | undefined; rollback?: RollbackSpec | undefined };

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
    if (!def || !isRecord(app) || app["rollback"] === undefined) continue;
    const kind = migrationKind(def);
    if (kind.kind === "none" || kind.kind === "irreversible") {
      const why = kind.kind === "irreversible" ? kind.reason : "it has no migration command";
      problems.push({ path: ["apps", appId, "rollback", "downgradeTo"], message: `${appId} has no down-migration (${why}): roll back with \`npm run rollback -- --restore-data\` instead` });
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
      ...(app.rollback && { rollback: { downgradeTo: app.rollback.downgradeTo, image: app.rollback.image } }),
    },
  };
}
