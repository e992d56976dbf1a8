/**
 * The down-migration path for real: a PostgreSQL server on 127.0.0.1 and an alembic stand-in with
 * the same contract (test/fixtures/alembic-stand-in: upgrade head, downgrade <rev>, current, the
 * alembic_version table). Release 1 migrates up and writes rows; release 2 migrates further and
 * writes to what it added; the rollback, planned from the two recorded releases, runs the
 * down-migration with release 2's revisions (the newer image), then release 1's own migration
 * command. The schema and the rows are what they were under release 1.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { downMigrationCommands, parseSchemaRevision, schemaRevisionCommand } from "../../components/releases/migrations";
import type { Release } from "../../components/releases/record";
import { planRollback } from "../../components/releases/rollbackPlan";
import { catalog, catalogIds } from "../../apps";
import { migrationKind } from "../../config/releases";
import { ROOT } from "../helpers";
import { freePort, requireTool, tempDir } from "./realTools";

const REVISIONS = {
  "1a2b3c4d5e6f": {
    up: "CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL);\nCREATE INDEX items_name ON items (name);",
    down: "DROP TABLE items;",
  },
  "7f8e9d0c1b2a": {
    up: "ALTER TABLE items ADD COLUMN price_cents integer NOT NULL DEFAULT 0;\nCREATE TABLE tags (item_id integer NOT NULL REFERENCES items (id), tag text NOT NULL, PRIMARY KEY (item_id, tag));",
    down: "DROP TABLE tags;\nALTER TABLE items DROP COLUMN price_cents;",
  },
} as const;
type Rev = keyof typeof REVISIONS;

/** An "image": the stand-in with the revisions that release knows. */
function image(dir: string, revs: readonly Rev[]): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(ROOT, "test/fixtures/alembic-stand-in/alembic"), path.join(dir, "alembic"));
  fs.chmodSync(path.join(dir, "alembic"), 0o755);
  fs.writeFileSync(path.join(dir, "revisions"), `${revs.join("\n")}\n`);
  for (const r of revs) {
    fs.writeFileSync(path.join(dir, `${r}.up.sql`), `${REVISIONS[r].up}\n`);
    fs.writeFileSync(path.join(dir, `${r}.down.sql`), `${REVISIONS[r].down}\n`);
  }
  return dir;
}

function postgresBin(): string {
  const root = "/usr/lib/postgresql";
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, "bin", "initdb"))).sort((a, b) => Number(b) - Number(a)) : [];
  if (versions.length === 0) throw new Error("PostgreSQL is not installed: run `bash .ci/run` or `apt-get install postgresql`");
  return path.join(root, versions[0]!, "bin");
}

let dir = "";
let bin = "";
let port = 0;
const asPostgres = (cmd: string, args: string[]) => spawnSync("runuser", ["-u", "postgres", "--", path.join(bin, cmd), ...args], { encoding: "utf8", timeout: 60_000 });
const pgEnv = () => ({ ...process.env, PGHOST: dir, PGPORT: String(port), PGUSER: "postgres", PGDATABASE: "app" });

/** Runs a command of the catalog's shape in an "image" (the stand-in replaces `alembic`); fails loudly. */
function inImage(img: string, argv: readonly string[]): string {
  expect(argv[0]).toBe("alembic");
  const res = spawnSync(path.join(img, "alembic"), argv.slice(1), { encoding: "utf8", env: pgEnv(), timeout: 60_000 });
  if (res.status !== 0) throw new Error(`${argv.join(" ")} failed: ${res.stderr}`);
  return res.stdout;
}
const sql = (query: string) => {
  const res = spawnSync(requireTool("psql"), ["-X", "-tA", "-v", "ON_ERROR_STOP=1", "-c", query], { encoding: "utf8", env: pgEnv() });
  if (res.status !== 0) throw new Error(`${query}: ${res.stderr}`);
  return res.stdout;
};
const schema = () => {
  const res = spawnSync(requireTool("pg_dump"), ["--schema-only", "--no-owner", "app"], { encoding: "utf8", env: pgEnv() });
  if (res.status !== 0) throw new Error(`pg_dump: ${res.stderr}`);
  // pg_dump 15.14+ wraps the dump in \restrict/\unrestrict with a random key on each run.
  return res.stdout.replace(/^--.*$/gm, "").replace(/^\\(un)?restrict .*$/gm, "").replace(/\n{2,}/g, "\n");
};
const rows = () => sql("SELECT id, name FROM items ORDER BY id");

beforeAll(async () => {
  bin = postgresBin();
  dir = tempDir("pg-down-migration");
  fs.chmodSync(dir, 0o755);
  spawnSync("chown", ["postgres:postgres", dir]);
  port = await freePort();
  const init = asPostgres("initdb", ["-D", path.join(dir, "data"), "-U", "postgres", "--auth-local=trust"]);
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const start = asPostgres("pg_ctl", ["-D", path.join(dir, "data"), "-l", path.join(dir, "server.log"), "-o", `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir}`, "-w", "-t", "30", "start"]);
  if (start.status !== 0) throw new Error(`PostgreSQL did not start: ${start.stderr}`);
}, 120_000);

afterAll(() => {
  if (bin && dir) asPostgres("pg_ctl", ["-D", path.join(dir, "data"), "-m", "immediate", "-w", "-t", "30", "stop"]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const alembicApps = catalogIds.filter((id) => migrationKind(catalog[id]!).kind === "alembic");

describe.each(alembicApps)("a rollback of %s across a schema change, on a real PostgreSQL", (app) => {
  it("runs the down-migration with the newer image, then the older image's migration: schema and rows as before", () => {
    const kind = migrationKind(catalog[app]!);
    const migrate = catalog[app]!.backend.migrationCommand!;
    const readBack = schemaRevisionCommand(kind)!;
    spawnSync(requireTool("psql"), ["-X", "-q", "-c", "DROP DATABASE IF EXISTS app", "-c", "CREATE DATABASE app"], { env: { ...pgEnv(), PGDATABASE: "postgres" } });
    const v1 = image(path.join(dir, `${app}-v1`), ["1a2b3c4d5e6f"]);
    const v2 = image(path.join(dir, `${app}-v2`), ["1a2b3c4d5e6f", "7f8e9d0c1b2a"]);

    // Release 1: migrate, read the revision back as the release step does, write rows.
    inImage(v1, migrate);
    const rev1 = parseSchemaRevision(kind, inImage(v1, readBack));
    expect(rev1).toBe("1a2b3c4d5e6f");
    sql("INSERT INTO items (name) SELECT 'item-' || g FROM generate_series(1, 500) g");
    const before = { schema: schema(), rows: rows() };

    // Release 2: migrate further, write to what it added.
    inImage(v2, migrate);
    const rev2 = parseSchemaRevision(kind, inImage(v2, readBack));
    expect(rev2).toBe("7f8e9d0c1b2a");
    sql("UPDATE items SET price_cents = id * 10; INSERT INTO tags SELECT id, 'sale' FROM items WHERE id % 3 = 0");
    expect(schema()).not.toBe(before.schema);

    // The rollback, planned from the two recorded releases.
    const record = (id: number, rev: string | null): Release => ({
      id,
      time: `2026-11-2${id}T10:00:00.000Z`,
      images: { backend: `${catalog[app]!.backend.image}:${id}.0.0`, proxy: "nginx:1.27.3-alpine" },
      digests: {},
      configHash: `h${id}`,
      schemaRevision: rev,
      backupKey: null,
    });
    const decision = planRollback("runbook", { [app]: { releases: [record(2, rev2), record(1, rev1)] } }, { app });
    if (!decision.ok) throw new Error(decision.message);
    const downgradeTo = decision.plan.config.find((c) => c.key.endsWith(".rollback.downgradeTo"))!.value;
    const started = Date.now();
    for (const argv of downMigrationCommands(kind, downgradeTo)) inImage(v2, argv);
    inImage(v1, migrate);
    console.log(`[down-migration] ${app}: ${rev2} -> ${downgradeTo} and release 1's migration in ${Date.now() - started} ms, 500 rows kept`);

    expect(parseSchemaRevision(kind, inImage(v1, readBack))).toBe(rev1);
    expect(schema()).toBe(before.schema);
    expect(rows()).toBe(before.rows);
    expect(sql("SELECT to_regclass('tags') IS NULL")).toBe("t\n");
  });

  it("fails the down-migration to a revision the newer image does not know, changing nothing", () => {
    const v2 = path.join(dir, `${app}-v2`);
    const kind = migrationKind(catalog[app]!);
    const before = schema();
    expect(() => inImage(v2, downMigrationCommands(kind, "ffffffffffff")[0]!)).toThrow(/Can't locate revision identified by 'ffffffffffff'/);
    expect(schema()).toBe(before);
  });
});
