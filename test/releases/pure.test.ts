/**
 * The release record's pure parts: keeping the last N, reading earlier outputs defensively, reading
 * schema revisions back, the down-migration commands, the rollback's plan, the host's releases.json
 * script (run for real, and through shellcheck), and the config keys of the area.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { catalog, catalogIds } from "../../apps";
import { djangoDowngradeProblem, downgradeTarget, downMigrationCommands, parseSchemaRevision } from "../../components/releases/migrations";
import { nextReleases, parseReleases, type Release } from "../../components/releases/record";
import { configHash } from "../../components/releases/releaseRecord";
import { renderReleasesFileScript } from "../../components/releases/releasesFile";
import { planRollback, splitImage } from "../../components/releases/rollbackPlan";
import { migrationKind, RELEASES_DEFAULTS } from "../../config/releases";
import { parseStackConfig } from "../../config/resolve";
import { problemsOf, rawStackConfig } from "../helpers";
import { requireTool, tempDir } from "../tools/realTools";

const release = (id: number, backend = `app:${id}`): Release => ({
  id,
  time: `2026-01-0${(id % 9) + 1}T00:00:00.000Z`,
  images: { backend, proxy: "nginx:1" },
  digests: {},
  configHash: "c",
  schemaRevision: null,
  backupKey: null,
});

const withoutId = (r: Release): Omit<Release, "id"> => Object.fromEntries(Object.entries(r).filter(([k]) => k !== "id")) as Omit<Release, "id">;

describe("the record of releases", () => {
  it("keeps the new release first and at most `keep` in all, numbering it after the newest", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 2, max: 8 }), (n, keep) => {
        const previous = Array.from({ length: n }, (_, i) => release(n - i));
        const next = nextReleases(previous, withoutId(release(99, "app:new")), keep);
        expect(next).toHaveLength(Math.min(n + 1, keep));
        expect(next[0]).toMatchObject({ id: n + 1, images: { backend: "app:new" } });
        expect(next.slice(1)).toEqual(previous.slice(0, keep - 1));
      }),
    );
  });

  it("keeps the newest record as it was when the images and config did not change, filling in what it lacked", () => {
    const previous = [release(3), release(2)];
    const same = withoutId({ ...release(3), time: "2030-01-01T00:00:00.000Z", schemaRevision: "abc", backupKey: "k" });
    expect(nextReleases(previous, same, 5)).toEqual([{ ...release(3), schemaRevision: "abc", backupKey: "k" }, release(2)]);
  });

  it("reads earlier outputs defensively: none on a first update, malformed records dropped", () => {
    expect(parseReleases(undefined)).toEqual([]);
    expect(parseReleases([release(2), { id: "x" }, { ...release(1), images: { backend: 3 } }, null])).toEqual([release(2)]);
  });
});

describe("schema revisions", () => {
  const alembic = { kind: "alembic" } as const;
  const django = { kind: "django" } as const;
  it.each([
    ["ae1027a6acf (head)\n", "ae1027a6acf"],
    ["INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.\nbbb (head)\naaa (head)\n", "aaa,bbb"],
    ["", "base"],
  ])("reads alembic current %j as %s", (stdout, rev) => expect(parseSchemaRevision(alembic, stdout)).toBe(rev));

  it("reads Django's showmigrations --list as each app's latest applied migration", () => {
    const out = "admin\n [X] 0001_initial\n [ ] 0002_logentry\nshop\n [ ] 0001_initial\nmisc\n (no migrations)\n";
    expect(parseSchemaRevision(django, out)).toBe("admin:0001_initial,shop:zero");
  });

  it("reads a squash Django 4.0+ marks [-] (its replaced migrations all applied, itself not recorded) as applied", () => {
    const out = "courses\n [-] 0001_squashed_0004_first_lessons (4 squashed migrations) Run 'manage.py migrate' to finish recording.\n [ ] 0005_x\n";
    expect(parseSchemaRevision(django, out)).toBe("courses:0001_squashed_0004_first_lessons");
  });

  it.each([
    ["courses:0001_squashed_0004_first_lessons", "courses:0002_course_level", "courses 0002_course_level is one of the migrations the squashed 0001_squashed_0004_first_lessons replaces, and Django cannot go down into a squash"],
    ["courses:0001_squashed_0004_first_lessons", "courses:0004_first_lessons", "courses 0004_first_lessons is one of the migrations the squashed 0001_squashed_0004_first_lessons replaces, and Django cannot go down into a squash"],
    ["courses:0001_squashed_0004_first_lessons", "courses:zero", undefined],
    ["courses:0003_squashed_0005_x,shop:0002_b", "courses:0002_a,shop:0001_a", undefined],
    ["courses:0004_first_lessons", "courses:0002_course_level", undefined],
  ])("Django from %s down to %s: %s", (current, to, problem) => {
    expect(djangoDowngradeProblem(current, to)).toBe(problem);
  });

  it.each([
    ["alembic", "bbb", "aaa", "aaa", [["alembic", "downgrade", "aaa"]]],
    ["alembic", "aaa", null, "base", [["alembic", "downgrade", "base"]]],
    ["django", "auth:0012_x,core:0003_c,shop:0001_initial", "auth:0012_x,core:0001_a", "core:0001_a,shop:zero", [["python", "manage.py", "migrate", "core", "0001_a", "--noinput"], ["python", "manage.py", "migrate", "shop", "zero", "--noinput"]]],
  ] as const)("goes down with %s from %s to %s", (kind, from, to, target, commands) => {
    expect(downgradeTarget({ kind }, from, to)).toBe(target);
    expect(downMigrationCommands({ kind }, target)).toEqual(commands);
  });

  it("needs no down-migration when the revision did not change", () => {
    expect(downgradeTarget({ kind: "alembic" }, "aaa", "aaa")).toBeUndefined();
    expect(downgradeTarget({ kind: "django" }, "core:0001_a", "core:0001_a")).toBeUndefined();
  });

  it("knows each catalog app's kind from its migration command, and that FDTS has no down-migration", () => {
    for (const id of catalogIds) {
      const cmd = catalog[id]!.backend.migrationCommand?.join(" ") ?? "";
      const kind = migrationKind(catalog[id]!).kind;
      if (catalog[id]!.backend.noDownMigration) expect(kind, id).toBe("irreversible");
      else if (cmd.startsWith("alembic")) expect(kind, id).toBe("alembic");
      else if (cmd.includes("manage.py migrate")) expect(kind, id).toBe("django");
      else expect(kind, id).toBe("none");
    }
    expect(migrationKind(catalog["fdts"]!).kind).toBe("irreversible");
  });
});

describe("the rollback's plan", () => {
  it("splits image references at the tag, not at a registry port", () => {
    expect(splitImage("registry.local:5000/team/app:1.2.3")).toEqual({ repository: "registry.local:5000/team/app", tag: "1.2.3" });
    expect(() => splitImage("registry.local:5000/team/app")).toThrow("has no tag");
  });

  it("goes back by default to the newest release that runs other images and that no rollback undid", () => {
    const undone = { ...release(3, "app:1"), rollbackOf: 2 };
    const records = [undone, release(2, "app:2"), release(1, "app:1"), release(0, "app:0")];
    const plan = planRollback("runbook", { lms: { releases: records } }, { app: "lms" });
    expect(plan.ok && plan.plan.to.id).toBe(0);
    expect(planRollback("runbook", { lms: { releases: records.slice(0, 3) } }, { app: "lms" })).toEqual({ ok: false, message: "lms has no earlier release on record (recorded: #3, #2, #1)" });
    const forward = planRollback("runbook", { lms: { releases: records } }, { app: "lms", to: 2 });
    expect(forward.ok && forward.plan.config).toEqual([{ key: "runbook:apps.lms.backend.tag", value: "2" }]);
  });

  it("refuses a Django down-migration into the migrations a squash of the newer release replaced, naming the choices", () => {
    const records = [{ ...release(3), schemaRevision: "courses:0001_squashed_0004_first_lessons" }, { ...release(2), schemaRevision: "courses:0002_course_level" }];
    const decision = planRollback("runbook", { lms: { releases: records } }, { app: "lms" });
    expect(decision.ok).toBe(false);
    expect(!decision.ok && decision.message).toMatch(/^lms: cannot roll back from #3 to #2 by images alone: courses 0002_course_level is one of the migrations the squashed 0001_squashed_0004_first_lessons replaces, and Django cannot go down into a squash\.\nChoices:\n {2}--restore-data/);
  });

  it("refuses when the app is not named and several apps have releases, or there is nothing to go back to", () => {
    const apps = { a: { releases: [release(2), release(1)] }, b: { releases: [release(2), release(1)] }, c: { releases: [release(1)] } };
    expect(planRollback("runbook", apps, {})).toEqual({ ok: false, message: "name the app with --app: this stack deploys a, b, c" });
    expect(planRollback("runbook", { lms: apps.c }, { app: "lms" })).toEqual({ ok: false, message: "lms has no earlier release on record (recorded: #1)" });
    expect(planRollback("runbook", { lms: apps.a }, { app: "lms", to: 2 })).toEqual({ ok: false, message: "release #2 is the one running" });
  });
});

describe("releases.json on the host", () => {
  it("is written whole, newest first, by a script shellcheck passes", () => {
    const releases = nextReleases([release(1)], { ...release(2), images: { backend: "ghcr.io/x/y:2", proxy: "nginx:1" } }, 5);
    const script = renderReleasesFileScript("lms", releases);
    const dir = tempDir("releases-file");
    const file = path.join(dir, "release.sh");
    fs.writeFileSync(file, script);
    const check = spawnSync(requireTool("shellcheck"), ["-s", "sh", file], { encoding: "utf8" });
    expect(check.stdout + check.stderr).toBe("");
    const run = spawnSync("sh", ["-s"], { input: script, encoding: "utf8", env: { ...process.env, RUNBOOK_ROOT: dir } });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(dir, "var/lib/runbook/lms/releases.json"), "utf8"))).toEqual(releases);
    expect(fs.existsSync(path.join(dir, "var/lib/runbook/lms/releases.json.new"))).toBe(false);
    expect(() => renderReleasesFileScript("../etc", releases)).toThrow("`app` must be a catalog id");
  });
});

describe("the releases config", () => {
  it(`keeps ${RELEASES_DEFAULTS.keep} releases by default, and what a stack sets`, () => {
    const raw = rawStackConfig("prod") as { apps: Record<string, Record<string, unknown>> };
    for (const app of parseStackConfig(raw).apps) expect(app.releases.keep, app.id).toBe(5);
    const id = Object.keys(raw.apps)[0]!;
    const set = { ...raw, apps: { ...raw.apps, [id]: { ...raw.apps[id], releases: { keep: 8 } } } };
    expect(parseStackConfig(set).apps.find((a) => a.id === id)!.releases.keep).toBe(8);
  });

  it("reads back a digits-only tag that `pulumi config set --path` stored as a number", () => {
    const raw = rawStackConfig("prod") as { apps: Record<string, Record<string, Record<string, unknown>>> };
    for (const id of Object.keys(raw.apps)) {
      const set = { ...raw, apps: { ...raw.apps, [id]: { ...raw.apps[id], backend: { ...raw.apps[id]!["backend"], tag: 20240101 } } } };
      expect(parseStackConfig(set).apps.find((a) => a.id === id)!.backend.image, id).toMatch(/:20240101$/);
    }
  });

  it("refuses a down-migration for an app that has none, half a down-migration, both a down-migration and a restore, and a restore of another app's or a malformed backup key", () => {
    const raw = rawStackConfig("prod") as { apps: Record<string, Record<string, unknown>> };
    const withRollback = (id: string, rollback: unknown) => ({ ...raw, apps: { ...raw.apps, [id]: { ...raw.apps[id], rollback } } });
    expect(problemsOf(withRollback("fdts", { downgradeTo: "abc", image: "ghcr.io/fdts/app:1", undoes: 2 }))).toContain(
      "runbook:apps.fdts.rollback.downgradeTo: fdts has no down-migration (the app migrates its SQLite schema itself at start and has no command to go back): roll back with `npm run rollback -- --restore-data` instead",
    );
    expect(problemsOf(withRollback("lms", { downgradeTo: "core:0001_a", undoes: 2 }))).toContain(
      "runbook:apps.lms.rollback.image: a down-migration needs both `downgradeTo` and `image` (the newer image that knows how to go down)",
    );
    expect(problemsOf(withRollback("lms", { downgradeTo: "core:0001_a", image: "ghcr.io/x/y:2", restoreBackup: "k", undoes: "2" }))).toContain(
      "runbook:apps.lms.rollback.restoreBackup: either a down-migration (`downgradeTo`) or a restore (`restoreBackup`), not both: the restored backup already has the older schema",
    );
    expect(problemsOf(withRollback("lms", { downgradeTo: "core:0001_a", image: "ghcr.io/x/y:2", undoes: "2" }))).toEqual([]);
    expect(problemsOf(withRollback("fdts", { restoreBackup: "fdts/20261122T095900Z-pre-deploy/", undoes: 2 }))).toEqual([]);
    expect(problemsOf(withRollback("fdts", { restoreBackup: "20261122T095900Z-pre-deploy", undoes: 2 }))).toEqual([]);
    expect(problemsOf(withRollback("fdts", { restoreBackup: "lms/20261122T095900Z-pre-deploy/", undoes: 2 }))).toContain(
      "runbook:apps.fdts.rollback.restoreBackup: lms/20261122T095900Z-pre-deploy/ is not a backup of fdts: a rollback restores the app's own pre-deploy backup, under fdts/",
    );
    expect(problemsOf(withRollback("fdts", { restoreBackup: "fdts/x; rm -rf /", undoes: 2 }))).toContain(
      "runbook:apps.fdts.rollback.restoreBackup: must be the key of a pre-deploy backup as the release record shows it: <app>/<id>/ (or the id alone)",
    );
    expect(problemsOf({ ...raw, apps: { ...raw.apps, lms: { ...raw.apps["lms"], releases: { keep: 1 } } } })).toContain(
      "runbook:apps.lms.releases.keep: must be at least 2: a rollback needs the release before the current one",
    );
  });
});

describe("the config hash of a release", () => {
  const lms = (maintenance: Record<string, unknown>, proxy: Record<string, unknown> = {}) => {
    const raw = structuredClone(rawStackConfig("prod")) as { apps: Record<string, Record<string, unknown>> };
    raw.apps["lms"]!["maintenance"] = maintenance;
    raw.apps["lms"]!["proxy"] = { ...(raw.apps["lms"]!["proxy"] as Record<string, unknown>), ...proxy };
    return parseStackConfig(raw as never).apps.find((a) => a.id === "lms")!;
  };

  it("leaves the maintenance page's state out (a window, its schedule, proxy.maintenance): opening a window is no release", () => {
    const base = configHash(lms({}));
    expect(configHash(lms({ window: true }))).toBe(base);
    expect(configHash(lms({ schedule: { cron: "0 2 * * 0#1", durationMinutes: 120 } }))).toBe(base);
    expect(configHash(lms({}, { maintenance: true }))).toBe(base);
    expect(configHash(lms({ enabled: false })), "other maintenance settings still count").not.toBe(base);
  });
});
