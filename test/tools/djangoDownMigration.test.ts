/**
 * The LMS's Django down-migration for real: a real Django project (test/fixtures/django-stand-in,
 * Debian's Django 3.2; the LMS runbook's is 5.1) on a PostgreSQL 15 server of the test's own on
 * 127.0.0.1. Releases 1 and 2 migrate with the catalog's own migration command and write rows;
 * release 3 migrates further (a new model, a data migration, a cross-app foreign key, a new app) and
 * writes to what it added. The rollback, planned from the two recorded releases with the revisions
 * read back by `showmigrations --list`, runs exactly the down-migration commands the program would,
 * with release 3's code, then release 2's migration: the schema, the rows and the revision are as
 * they were under release 2.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { catalog } from "../../apps";
import { downMigrationCommands, downgradeTarget, parseSchemaRevision, schemaRevisionCommand } from "../../components/releases/migrations";
import type { Release } from "../../components/releases/record";
import { planRollback } from "../../components/releases/rollbackPlan";
import { migrationKind } from "../../config/releases";
import { startPostgres, type Postgres } from "../backups/servers";
import { djangoStandIn, type DjangoStandIn } from "./djangoStandIn";
import { requireTool, tempDir } from "./realTools";

const APP = "lms";
const DB = { name: "fractionball", user: "fractionball" };
const ADMIN_AUTH = "admin:0003_logentry_add_action_flag_choices,auth:0012_alter_user_first_name_max_length";
const CONTENTTYPES = "contenttypes:0002_remove_content_type_name";
const REV2 = `${ADMIN_AUTH},${CONTENTTYPES},courses:0002_course_level,enrollments:0002_enrollment_status,sessions:0001_initial`;
const REV3 = `${ADMIN_AUTH},certificates:0001_initial,${CONTENTTYPES},courses:0004_first_lessons,enrollments:0003_enrollment_last_lesson,sessions:0001_initial`;
/** The tables release 2 has and writes to. */
const OLD_TABLES = ["courses_course", "enrollments_enrollment"];

const kind = migrationKind(catalog[APP]!);
const migrate = catalog[APP]!.backend.migrationCommand!;
const readBack = schemaRevisionCommand(kind)!;

let pg: Postgres;
let work = "";
let django: DjangoStandIn;

beforeAll(async () => {
  pg = await startPostgres();
  pg.psql("postgres", `CREATE ROLE ${DB.user} LOGIN`);
  work = tempDir("django-down-migration");
  django = djangoStandIn(work, { port: pg.port, ...DB });
  deployed = deployThreeReleases();
  pg.psql("postgres", `CREATE DATABASE release3 TEMPLATE ${DB.name}`);
}, 180_000);

afterAll(() => {
  pg?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

const sql = (query: string) => pg.psql(DB.name, query);
function schema(): string {
  const res = spawnSync(requireTool("pg_dump"), ["--schema-only", "--no-owner", DB.name], { encoding: "utf8", env: pg.env });
  if (res.status !== 0) throw new Error(`pg_dump: ${res.stderr}`);
  // pg_dump 15.14+ wraps the dump in \restrict/\unrestrict with a random key on each run.
  return res.stdout.replace(/^--.*$/gm, "").replace(/^\\(un)?restrict .*$/gm, "").replace(/\n{2,}/g, "\n");
}
/** Each of release 2's tables: its row count and an md5 of its rows in id order. */
const rows = () => OLD_TABLES.map((t) => `${t} ${sql(`SELECT count(*) || ' ' || md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM ${t} t`).trim()}`);
const rowCount = () => OLD_TABLES.reduce((n, t) => n + Number(sql(`SELECT count(*) FROM ${t}`)), 0);
const applied = () => sql("SELECT app || ':' || name FROM django_migrations ORDER BY 1");
const contentTypes = () => sql("SELECT app_label || '.' || model FROM django_content_type ORDER BY 1").trim().split("\n");
const revision = (image: string) => parseSchemaRevision(kind, django.run(image, readBack).stdout);

/** Releases 1 and 2 migrate and write 660 rows; release 3 migrates and writes to what it added. */
function deployThreeReleases() {
  pg.psql("postgres", `CREATE DATABASE ${DB.name} OWNER ${DB.user}`);
  const [v1, v2, v3] = [django.image(1), django.image(2), django.image(3)];
  django.run(v1, migrate);
  sql(`INSERT INTO courses_course (slug, title) SELECT 'course-' || g, 'Fractions ' || g FROM generate_series(1, 40) g;
       INSERT INTO enrollments_enrollment (course_id, student_email, created)
         SELECT g % 40 + 1, 'student' || g || '@example.org', timestamptz '2026-01-01 00:00:00+00' + g * interval '1 hour' FROM generate_series(1, 300) g;`);
  django.run(v2, migrate);
  sql(`UPDATE courses_course SET level = 1 + id % 4;
       INSERT INTO courses_course (slug, title, level) SELECT 'course-' || g, 'Decimals ' || g, 2 FROM generate_series(41, 60) g;
       INSERT INTO enrollments_enrollment (course_id, student_email, created, status)
         SELECT g % 60 + 1, 'student' || g || '@example.org', timestamptz '2026-02-01 00:00:00+00' + g * interval '1 minute',
                CASE WHEN g % 5 = 0 THEN 'completed' ELSE 'active' END FROM generate_series(301, 600) g;`);
  const rev2 = revision(v2);
  const before = { schema: schema(), rows: rows(), applied: applied(), contentTypes: contentTypes() };
  const up = django.run(v3, migrate);
  const rev3 = revision(v3);
  sql(`INSERT INTO courses_lesson (course_id, position, title) SELECT c.id, p, c.title || ': part ' || p FROM courses_course c, generate_series(2, 3) p;
       UPDATE enrollments_enrollment e SET last_lesson_id = l.id FROM courses_lesson l WHERE l.course_id = e.course_id AND l.position = 1;
       INSERT INTO certificates_certificate (enrollment_id, code, issued_at)
         SELECT id, 'FB-' || lpad(id::text, 6, '0'), created + interval '30 days' FROM enrollments_enrollment WHERE status = 'completed';`);
  return { v2, v3, rev2, rev3, before, upMs: up.ms };
}

let deployed: ReturnType<typeof deployThreeReleases>;
/** Each test starts from the database as release 3 left it (a copy of the snapshot taken once). */
function underRelease3() {
  pg.psql("postgres", `DROP DATABASE IF EXISTS ${DB.name};\nCREATE DATABASE ${DB.name} TEMPLATE release3 OWNER ${DB.user};`);
  return deployed;
}

/** What `npm run rollback` sets as the down-migration, planned from the two recorded releases. */
function plannedDowngrade(rev3: string | null, rev2: string | null): string {
  const record = (id: number, rev: string | null): Release => ({
    id,
    time: `2026-11-2${id}T10:00:00.000Z`,
    images: { backend: `${catalog[APP]!.backend.image}:${id}.0.0`, proxy: "nginx:1.27.3-alpine" },
    digests: {},
    configHash: `h${id}`,
    schemaRevision: rev,
    backupKey: null,
  });
  const decision = planRollback("runbook", { [APP]: { releases: [record(3, rev3), record(2, rev2)] } }, { app: APP });
  if (!decision.ok) throw new Error(decision.message);
  return decision.plan.config.find((c) => c.key.endsWith(".rollback.downgradeTo"))!.value;
}

describe("the LMS's Django down-migration on a real Django and PostgreSQL", () => {
  it("runs the planned per-app migrate commands with the newer code, then the older code's migrate: schema, rows and revision as before the upgrade", () => {
    expect(kind.kind).toBe("django");
    const { v2, v3, rev2, rev3, before, upMs } = underRelease3();
    // The revisions as the release step records them: every migrated app, Django's own included.
    expect(rev2).toBe(REV2);
    expect(rev3).toBe(REV3);
    expect(rowCount()).toBe(660);
    expect(sql("SELECT (SELECT count(*) FROM courses_lesson) || ' ' || (SELECT count(*) FROM certificates_certificate)")).toBe("180 60\n");
    expect(schema()).not.toBe(before.schema);

    const downgradeTo = plannedDowngrade(rev3, rev2);
    expect(downgradeTo).toBe(downgradeTarget(kind, rev3, rev2));
    expect(downgradeTo).toBe("certificates:zero,courses:0002_course_level,enrollments:0002_enrollment_status");
    const commands = downMigrationCommands(kind, downgradeTo);
    const runs = commands.map((argv) => django.run(v3, argv));
    const times = runs.map((r) => r.ms);
    const older = django.run(v2, migrate);
    // What Django did: the new app's tables first, then courses, taking enrollments 0003 (which
    // depends on courses 0004) down with it, so the enrollments command had nothing left to do.
    expect(runs.map((r) => r.stdout.match(/Unapplying [\w.]+(?=\.\.\.)/g) ?? [])).toEqual([
      ["Unapplying certificates.0001_initial"],
      ["Unapplying enrollments.0003_enrollment_last_lesson", "Unapplying courses.0004_first_lessons", "Unapplying courses.0003_lesson"],
      [],
    ]);
    expect(runs[2]!.stdout).toMatch(/No migrations to apply\./);
    console.log(
      `[django down-migration] ${APP}: release 3's migrate in ${upMs} ms; down to ${downgradeTo} in ${times.join(" + ")} ms ` +
        `(${commands.map((c) => c.slice(3, 5).join(" ")).join("; ")}), release 2's migrate after it in ${older.ms} ms, ${rowCount()} rows kept`,
    );

    expect(older.stdout).toMatch(/No migrations to apply\./);
    expect(revision(v2)).toBe(rev2);
    expect(applied()).toBe(before.applied);
    expect(schema()).toBe(before.schema);
    expect(rows()).toEqual(before.rows);
    expect(sql("SELECT to_regclass('courses_lesson') IS NULL AND to_regclass('certificates_certificate') IS NULL")).toBe("t\n");
    // Django never deletes content types (nor their permissions) when it unapplies a migration: the
    // models release 3 added keep theirs until `remove_stale_contenttypes` is run by hand.
    expect(contentTypes().filter((ct) => !before.contentTypes.includes(ct))).toEqual(["certificates.certificate", "courses.lesson"]);
    expect(Number(sql("SELECT count(*) FROM auth_permission p JOIN django_content_type c ON c.id = p.content_type_id WHERE c.model IN ('lesson', 'certificate')"))).toBe(8);
  });

  // The control: each generated command left out in turn. Unapplying a migration unapplies every
  // migration that depends on it, in any app: going down to courses 0002 takes enrollments 0003 (it
  // depends on courses 0004) with it, so the enrollments command finds nothing left to do; the new
  // app depends only on enrollments 0002, and only its own `zero` removes it.
  it.each([
    ["courses", "leaves release 3's lessons table behind", false],
    ["certificates", "leaves the new app's table behind", false],
    ["enrollments", "changes nothing: going down to courses 0002 already unapplied enrollments 0003", true],
  ] as const)("leaving out the %s command %s", (skipped, _why, same) => {
    const { v2, v3, rev2, rev3, before } = underRelease3();
    const commands = downMigrationCommands(kind, plannedDowngrade(rev3, rev2));
    expect(commands.map((c) => c[3])).toContain(skipped);
    for (const argv of commands.filter((c) => c[3] !== skipped)) django.run(v3, argv);
    django.run(v2, migrate);
    expect(schema() === before.schema).toBe(same);
    expect(applied() === before.applied).toBe(same);
    expect(rows()).toEqual(before.rows);
    // The older code cannot see migrations it does not have: its read-back is release 2's either way,
    // and only django_migrations (or the schema) shows what is still applied.
    expect(revision(v2)).toBe(rev2);
  });

  it("reaches the same schema with the commands in reverse order: each only goes down", () => {
    const { v2, v3, rev2, rev3, before } = underRelease3();
    for (const argv of downMigrationCommands(kind, plannedDowngrade(rev3, rev2)).reverse()) django.run(v3, argv);
    django.run(v2, migrate);
    expect(schema()).toBe(before.schema);
    expect(applied()).toBe(before.applied);
    expect(rows()).toEqual(before.rows);
  });

  // A newer release that squashed courses 0001-0004 (the replaced files still beside the squash, as
  // Django asks): with all of them applied, Django leaves them out of its graph.
  it("refuses to plan a down-migration into a squash the newer release made, which Django itself cannot run", () => {
    const { rev2, before } = underRelease3();
    const squashed = django.image(3, "squashed");
    expect(django.run(squashed, migrate).stdout).toMatch(/No migrations to apply\./);
    const rev3 = revision(squashed);
    expect(rev3).toContain("courses:0001_squashed_0004_first_lessons");
    const record = (id: number, rev: string | null): Release => ({ id, time: `2026-11-2${id}T10:00:00.000Z`, images: { backend: `web:${id}` }, digests: {}, configHash: "h", schemaRevision: rev, backupKey: null });
    const decision = planRollback("runbook", { [APP]: { releases: [record(3, rev3), record(2, rev2)] } }, { app: APP });
    expect(!decision.ok && decision.message).toMatch(/courses 0002_course_level is one of the migrations the squashed 0001_squashed_0004_first_lessons replaces/);

    // Running it anyway: the courses command fails before it changes anything, but in the planned order
    // `certificates zero` would have run first, leaving a partial down-migration under the newer backends.
    const now = { schema: schema(), applied: applied() };
    const res = django.attempt(squashed, downMigrationCommands(kind, downgradeTarget(kind, rev3, rev2)!).find((c) => c[3] === "courses")!);
    expect(res.status).not.toBe(0);
    expect(res.stderr).toMatch(/KeyError: \('courses', '0002_course_level'\)/);
    expect({ schema: schema(), applied: applied() }).toEqual(now);
    expect(now.schema).not.toBe(before.schema);
  });

  it("refuses a down-migration to a migration the newer code does not have, changing nothing", () => {
    const { v3 } = underRelease3();
    const now = { schema: schema(), applied: applied() };
    const res = django.attempt(v3, downMigrationCommands(kind, "courses:0009_unknown")[0]!);
    expect(res.status).not.toBe(0);
    expect(res.stderr).toMatch(/Cannot find a migration matching '0009_unknown' from app 'courses'/);
    expect(schema()).toBe(now.schema);
    expect(applied()).toBe(now.applied);
  });
});
