/**
 * Schema revisions, as pure functions: the command that reads the revision back after migrations,
 * how its output is read, how two revisions compare, and the down-migration commands that take the
 * schema back to an older release's revision.
 *
 * Revisions are strings. alembic: the current revision(s), comma-separated (`ae1027a6acf`; `base`
 * before the first). Django: the latest applied migration of every Django app that has one,
 * `app:migration` sorted by app and comma-separated (`zero` for an app with none applied).
 */
import type { MigrationKind } from "../../config/releases";

/** The read-back command, run in a one-off container of the new image after migrations. */
export function schemaRevisionCommand(kind: MigrationKind): readonly string[] | undefined {
  switch (kind.kind) {
    case "alembic":
      return ["alembic", "current"];
    case "django":
      return ["python", "manage.py", "showmigrations", "--list"];
    default:
      return undefined;
  }
}

/**
 * The revision in the read-back command's stdout. alembic prints `<rev> (head)` per head (its log
 * lines go to stderr; `INFO  [alembic...]` lines are skipped should they reach stdout); Django prints
 * each app's name, then ` [X] 0001_initial` / ` [ ] 0002_x` per migration, or ` (no migrations)`.
 * Django 4.0+ prints ` [-] 0001_squashed_0004_x (4 squashed migrations) Run 'manage.py migrate' to
 * finish recording.` for a squash whose replaced migrations are all applied: applied, for the schema.
 */
export function parseSchemaRevision(kind: MigrationKind, stdout: string): string | null {
  const lines = stdout.split(/\r?\n/);
  if (kind.kind === "alembic") {
    const revs = lines
      .map((l) => l.trim())
      .filter((l) => l !== "" && !/^(INFO|WARNING|ERROR|DEBUG)\b/.test(l))
      .map((l) => l.split(/\s+/)[0]!)
      .filter((r) => /^[A-Za-z0-9_]+$/.test(r));
    return revs.length ? [...new Set(revs)].sort().join(",") : "base";
  }
  if (kind.kind === "django") {
    const latest = new Map<string, string>();
    let app: string | undefined;
    for (const line of lines) {
      if (/^\S/.test(line)) {
        app = line.trim();
        continue;
      }
      const m = /^\s+\[( |X|-)\]\s+(\S+)/.exec(line);
      if (!app || !m) continue;
      if (!latest.has(app)) latest.set(app, "zero");
      if (m[1] !== " ") latest.set(app, m[2]!);
    }
    return latest.size ? [...latest].sort(([a], [b]) => a.localeCompare(b)).map(([a, mig]) => `${a}:${mig}`).join(",") : null;
  }
  return null;
}

/** Django's revision as a map of app → latest applied migration. */
export function djangoMigrations(revision: string): Map<string, string> {
  return new Map(
    revision
      .split(",")
      .filter(Boolean)
      .map((pair) => {
        const i = pair.indexOf(":");
        return [pair.slice(0, i), pair.slice(i + 1)] as [string, string];
      }),
  );
}

/**
 * What the rollback sets as `rollback.downgradeTo` to go from `current` to `target`, or undefined
 * when the schema does not change. For Django: every app whose latest migration differs, and
 * `zero` for an app the target release did not have.
 */
export function downgradeTarget(kind: MigrationKind, current: string | null, target: string | null): string | undefined {
  if (current === target || current === null) return undefined;
  if (kind.kind === "django") {
    const now = djangoMigrations(current);
    const then = djangoMigrations(target ?? "");
    const changes = [...now.keys()].filter((app) => (then.get(app) ?? "zero") !== now.get(app)).sort();
    return changes.length ? changes.map((app) => `${app}:${then.get(app) ?? "zero"}`).join(",") : undefined;
  }
  return target ?? "base";
}

/** Django's default name of a squashed migration: `0001_squashed_0004_first_lessons`. */
const SQUASHED = /^(\d{4})_squashed_(\d{4})(?:_|$)/;

/**
 * Why Django cannot take the schema from `current` down to `downgradeTo`, or undefined. Once every
 * migration a squashed one replaces is applied, Django leaves them out of its graph: `migrate <app>
 * <one of them>` fails (Django 3.2: a KeyError, after the commands before it have run; going to `zero`
 * or to a migration before the squash works). Seen only where the squash is the app's latest and has
 * the name Django gives it by default; any other case fails during the update, as before.
 */
export function djangoDowngradeProblem(current: string, downgradeTo: string): string | undefined {
  const now = djangoMigrations(current);
  for (const [app, target] of djangoMigrations(downgradeTo)) {
    const squash = SQUASHED.exec(now.get(app) ?? "");
    const n = /^(\d{4})_/.exec(target);
    if (squash && n && Number(n[1]) >= Number(squash[1]) && Number(n[1]) <= Number(squash[2])) {
      return `${app} ${target} is one of the migrations the squashed ${now.get(app)} replaces, and Django cannot go down into a squash`;
    }
  }
  return undefined;
}

/** The down-migration commands, in order, each run in a one-off container of the NEWER image. */
export function downMigrationCommands(kind: MigrationKind, downgradeTo: string): (readonly string[])[] {
  switch (kind.kind) {
    case "alembic":
      // alembic takes one target; several heads (`a,b`) are given as one downgrade per head.
      return downgradeTo.split(",").map((rev) => ["alembic", "downgrade", rev]);
    case "django":
      return [...djangoMigrations(downgradeTo)].map(([app, migration]) => ["python", "manage.py", "migrate", app, migration, "--noinput"]);
    default:
      throw new Error(`\`${kind.kind}\` migrations have no down-migration`);
  }
}
