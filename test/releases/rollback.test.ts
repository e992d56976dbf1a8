/**
 * `npm run rollback` against a stand-in for the Pulumi CLI that the Automation API drives: the
 * commands it sends and their order, the confirmation, `--to`, `--restore-data`, and the refusal
 * where an app has no down-migration. Every app of the catalog is rolled back by its own kind.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { catalog, catalogIds } from "../../apps";
import type { Release } from "../../components/releases/record";
import { migrationKind } from "../../config/releases";
import { runRollback } from "../../ops/rollback";
import { ROOT } from "../helpers";
import { installFakePulumi, type FakePulumi } from "./fakePulumi";

let fake: FakePulumi;
beforeAll(() => {
  fake = installFakePulumi();
});

const REVISIONS = { alembic: ["a1b2c3d4e5f6", "0badc0ffee00", "1234abcd5678"], django: ["core:0001_initial", "core:0002_tags,shop:0001_initial", "core:0003_slug,shop:0002_price"] } as const;

/** Releases #1..#n of an app, newest first, each with its own backend tag, schema revision and backup. */
function releases(app: string, n = 2): Release[] {
  const kind = migrationKind(catalog[app]!).kind;
  return Array.from({ length: n }, (_, i) => {
    const id = n - i;
    return {
      id,
      time: `2026-11-2${id}T10:00:00.000Z`,
      images: { backend: `${catalog[app]!.backend.image}:${id}.0.0`, proxy: "nginx:1.27.3-alpine" },
      digests: {},
      configHash: `h${id}`,
      schemaRevision: kind === "alembic" || kind === "django" ? REVISIONS[kind][id - 1]! : null,
      backupKey: `${app}/2026112${id}T095900Z-pre-deploy/`,
    };
  });
}

const outputsOf = (app: string, n = 2) => ({ environment: "prod", apps: { [app]: { endpoint: `https://${app}.example.com`, releases: releases(app, n) } } });

async function rollback(args: { app: string; to?: number; restoreData?: boolean; imagesOnly?: boolean; answer?: boolean; yes?: boolean }) {
  const log: string[] = [];
  const questions: string[] = [];
  const code = await runRollback({
    stack: "prod",
    workDir: ROOT,
    app: args.app,
    ...(args.to !== undefined && { to: args.to }),
    restoreData: args.restoreData ?? false,
    imagesOnly: args.imagesOnly ?? false,
    yes: args.yes ?? false,
    confirm: async (q) => {
      questions.push(q);
      return args.answer ?? true;
    },
    log: (t) => log.push(t),
  });
  return { code, text: log.join(""), questions, calls: fake.calls() };
}

/** A `config set --path <key> ... -- <value>` call as `key=value`. */
const configSets = (calls: string[][]) =>
  calls.filter((c) => c[0] === "config" && c[1] === "set").map((c) => `${c[c.indexOf("--path") + 1]}=${c[c.length - 1]}`);

const withDown = catalogIds.filter((id) => ["alembic", "django"].includes(migrationKind(catalog[id]!).kind));
const without = catalogIds.filter((id) => migrationKind(catalog[id]!).kind === "irreversible");
const noMigrations = catalogIds.filter((id) => migrationKind(catalog[id]!).kind === "none");

describe.each(withDown)("rolling %s back (it has down-migrations)", (app) => {
  it("sends version, stack select, stack output, config set of the tag and the down-migration, then up, in that order", async () => {
    fake.reset(outputsOf(app));
    const { code, calls, text } = await rollback({ app, yes: true });
    expect(code, text).toBe(0);
    const kind = migrationKind(catalog[app]!).kind as "alembic" | "django";
    const down = kind === "alembic" ? REVISIONS.alembic[0] : "core:0001_initial,shop:zero";
    expect(calls.map((c) => c.slice(0, 2).join(" "))).toEqual([
      "version",
      "stack select",
      "stack output",
      "stack output",
      "config rm",
      "config set",
      "config set",
      "config set",
      "config set",
      "up --yes",
      "stack output",
      "stack output",
      "stack history",
      "config rm",
    ]);
    expect(calls[1]).toEqual(["stack", "select", "--stack", "prod", "--non-interactive"]);
    expect(calls[2]).toEqual(["stack", "output", "--json", "--stack", "prod", "--non-interactive"]);
    expect(configSets(calls)).toEqual([
      `runbook:apps.${app}.backend.tag=1.0.0`,
      `runbook:apps.${app}.rollback.downgradeTo=${down}`,
      `runbook:apps.${app}.rollback.image=${catalog[app]!.backend.image}:2.0.0`,
      `runbook:apps.${app}.rollback.undoes=2`,
    ]);
    // An earlier rollback's settings are removed first, so they never mix with this one's; this one's
    // are removed once the update succeeded, so no later update runs its steps again.
    expect(calls.filter((c) => c[0] === "config" && c[1] === "rm").map((c) => c[2])).toEqual([`runbook:apps.${app}.rollback`, `runbook:apps.${app}.rollback`]);
    expect(text).toContain(`Pulumi.prod.yaml keeps #1's image tags and no longer the rollback's settings: commit it.`);
    expect(calls.find((c) => c[0] === "config" && c[1] === "rm")).toEqual(["config", "rm", `runbook:apps.${app}.rollback`, "--stack", "prod", "--path", "--non-interactive"]);
    for (const c of calls.filter((c) => c[0] === "config" && c[1] === "set")) expect(c).toEqual(expect.arrayContaining(["--path", "--stack", "prod", "--plaintext", "--"]));
    const up = calls.find((c) => c[0] === "up")!;
    expect(up).toEqual(expect.arrayContaining(["--skip-preview", "--exec-kind", "auto.local", "--stack", "prod"]));
    expect(text).toContain(`run the down-migration to ${down} with the newer image`);
  });

  it("asks for confirmation and, when the answer is no, changes no config and runs no update", async () => {
    fake.reset(outputsOf(app));
    const { code, questions, calls, text } = await rollback({ app, answer: false });
    expect(code).toBe(1);
    expect(questions).toEqual([`Roll ${app} back from #2 to #1? [y/N] `]);
    expect(calls.filter((c) => c[0] === "config" || c[0] === "up")).toEqual([]);
    expect(text).toContain("Nothing changed.");
  });

  it("--to goes back to an older release than the previous one, down to its schema revision", async () => {
    fake.reset(outputsOf(app, 3));
    const { code, calls, text } = await rollback({ app, to: 1, yes: true });
    expect(code, text).toBe(0);
    const kind = migrationKind(catalog[app]!).kind as "alembic" | "django";
    const down = kind === "alembic" ? REVISIONS.alembic[0] : "core:0001_initial,shop:zero";
    expect(configSets(calls)).toEqual([
      `runbook:apps.${app}.backend.tag=1.0.0`,
      `runbook:apps.${app}.rollback.downgradeTo=${down}`,
      `runbook:apps.${app}.rollback.image=${catalog[app]!.backend.image}:3.0.0`,
      `runbook:apps.${app}.rollback.undoes=3`,
    ]);
  });

  it("--restore-data restores the pre-deploy backup of the release being undone instead of a down-migration, naming what is lost", async () => {
    fake.reset(outputsOf(app));
    const { code, calls, text } = await rollback({ app, restoreData: true, yes: true });
    expect(code, text).toBe(0);
    expect(configSets(calls)).toEqual([
      `runbook:apps.${app}.backend.tag=1.0.0`,
      `runbook:apps.${app}.rollback.restoreBackup=${app}/20261122T095900Z-pre-deploy/`,
      `runbook:apps.${app}.rollback.undoes=2`,
      `runbook:apps.${app}.rollback.from=2`,
    ]);
    expect(text).toContain(`the data written since 2026-11-22T10:00:00.000Z (when #2 was deployed) would be lost`);
  });

  it("stops with the choices when the down-migration fails during the update", async () => {
    fake.reset(outputsOf(app), { exit: 1, error: `error: ${app}-rollback-down-migration-0: exit status 1` });
    const { code, text } = await rollback({ app, yes: true });
    expect(code).toBe(1);
    expect(text).toContain(`The rollback of ${app} to #1 did not complete (down-migration to`);
    expect(text).toMatch(/Choices:\n {2}--restore-data .*20261122T095900Z-pre-deploy\/\); the data written since 2026-11-22T10:00:00.000Z would be lost/);
  });
});

describe.each(without)("rolling %s back (it has no down-migration)", (app) => {
  it("refuses, naming the choices and the data --restore-data would lose, and changes nothing", async () => {
    fake.reset(outputsOf(app));
    const { code, calls, text } = await rollback({ app, yes: true });
    expect(code).toBe(1);
    expect(text).toContain(`${app}: cannot roll back from #2 to #1 by images alone: it has no down-migration`);
    expect(text).toContain(`--restore-data   restore the pre-deploy backup of #2 (${app}/20261122T095900Z-pre-deploy/); the data written since 2026-11-22T10:00:00.000Z (when #2 was deployed) would be lost`);
    expect(calls.map((c) => c[0])).toEqual(["version", "stack", "stack", "stack"]);
  });
});

describe.each(without)("rolling %s back with --restore-data", (app) => {
  it("removes the earlier rollback's settings, sets the tag, the backup and the release undone, then runs the update; the plan backs up first", async () => {
    fake.reset(outputsOf(app));
    const { code, calls, text } = await rollback({ app, restoreData: true, yes: true });
    expect(code, text).toBe(0);
    expect(calls.filter((c) => c[0] === "config" || c[0] === "up").map((c) => c.slice(0, 2).join(" "))).toEqual(["config rm", "config set", "config set", "config set", "config set", "up --yes", "config rm"]);
    expect(configSets(calls)).toEqual([
      `runbook:apps.${app}.backend.tag=1.0.0`,
      `runbook:apps.${app}.rollback.restoreBackup=${app}/20261122T095900Z-pre-deploy/`,
      `runbook:apps.${app}.rollback.undoes=2`,
      `runbook:apps.${app}.rollback.from=2`,
    ]);
    expect(text).toContain(`2. back up the data as it is, then stop the backends and restore the pre-deploy backup ${app}/20261122T095900Z-pre-deploy/ of #2`);
    expect(text).toContain("3. start release #1's backends in place of the stopped ones");
  });

  it("a later --to that undoes the same release again is a restore of its own: it names the release it starts from", async () => {
    // #3 rolled #2 back to #1 (a restore); #4 was deployed since; now back to #1 again.
    const [r2, r1] = releases(app);
    const r3 = { ...r1!, id: 3, time: "2026-11-23T10:00:00.000Z", backupKey: `${app}/20261123T095900Z-pre-deploy/`, rollbackOf: 2 };
    const r4 = { ...r2!, id: 4, time: "2026-11-24T10:00:00.000Z", images: { ...r2!.images, backend: `${catalog[app]!.backend.image}:4.0.0` }, backupKey: `${app}/20261124T095900Z-pre-deploy/` };
    fake.reset({ environment: "prod", apps: { [app]: { releases: [r4, r3, r2, r1] } } });
    const { code, calls, text } = await rollback({ app, to: 1, restoreData: true, yes: true });
    expect(code, text).toBe(0);
    expect(configSets(calls)).toEqual(expect.arrayContaining([`runbook:apps.${app}.rollback.undoes=2`, `runbook:apps.${app}.rollback.from=4`]));
  });

  it("names what happened and the choices when the update fails", async () => {
    fake.reset(outputsOf(app), { exit: 1, error: `error: ${app}-backups-rollback-restore: exit status 1` });
    const { code, text, calls } = await rollback({ app, restoreData: true, yes: true });
    expect(code).toBe(1);
    // The settings stay, so that `pulumi up` can finish the rollback.
    expect(calls.filter((c) => c[0] === "config" && c[1] === "rm")).toHaveLength(1);
    expect(text).toContain(`The rollback of ${app} to #1 did not complete (restore of ${app}/20261122T095900Z-pre-deploy/): error: ${app}-backups-rollback-restore: exit status 1`);
    expect(text).toContain(`finish it        pulumi up --stack prod`);
    expect(text).toContain(`/usr/local/lib/runbook-backup/${app}/restore.sh --id <id> --force`);
  });

  it("refuses when both releases run one backend image under two tags: neither the backup nor the backends would follow the tag", async () => {
    const digest = `${catalog[app]!.backend.image}@sha256:${"a".repeat(64)}`;
    const retagged = releases(app).map((r) => ({ ...r, digests: { backend: digest } }));
    fake.reset({ environment: "prod", apps: { [app]: { releases: retagged } } });
    const { code, calls, text } = await rollback({ app, restoreData: true, yes: true });
    expect(code).toBe(1);
    expect(text).toContain(
      `#2 and #1 run the same backend image under two tags (${catalog[app]!.backend.image}:2.0.0 and ${catalog[app]!.backend.image}:1.0.0 are both ${digest}), so no schema changed between them: roll back without --restore-data`,
    );
    expect(calls.filter((c) => c[0] === "config" || c[0] === "up")).toEqual([]);
  });

  it("refuses when both releases run the same backend image: nothing would replace the stopped backends", async () => {
    const same = releases(app).map((r, i) => ({ ...r, images: { backend: `${catalog[app]!.backend.image}:1.0.0`, proxy: i === 0 ? "nginx:1.27.4-alpine" : "nginx:1.27.3-alpine" } }));
    fake.reset({ environment: "prod", apps: { [app]: { releases: same } } });
    const { code, calls, text } = await rollback({ app, restoreData: true, yes: true });
    expect(code).toBe(1);
    expect(text).toContain(`#2 and #1 run the same backend image (${catalog[app]!.backend.image}:1.0.0), so no schema changed between them: roll back without --restore-data`);
    expect(calls.filter((c) => c[0] === "config" || c[0] === "up")).toEqual([]);
  });
});

describe.each(without)("rolling %s back with --images-only", (app) => {
  it("sets only the image tags and runs the update, with no down-migration and no restore", async () => {
    fake.reset(outputsOf(app));
    const { code, calls, text } = await rollback({ app, imagesOnly: true, yes: true });
    expect(code, text).toBe(0);
    expect(configSets(calls)).toEqual([`runbook:apps.${app}.backend.tag=1.0.0`]);
    expect(calls.filter((c) => c[0] === "up")).toHaveLength(1);
  });
});

describe.each(noMigrations)("rolling %s back (it has no migrations)", (app) => {
  it("sets the previous image tags and runs the update, after the confirmation", async () => {
    fake.reset(outputsOf(app));
    const { code, calls, questions, text } = await rollback({ app });
    expect(code, text).toBe(0);
    expect(questions).toEqual([`Roll ${app} back from #2 to #1? [y/N] `]);
    expect(configSets(calls)).toEqual([`runbook:apps.${app}.backend.tag=1.0.0`]);
    const verbs = calls.map((c) => c.slice(0, 2).join(" "));
    expect(verbs.indexOf("up --yes")).toBeGreaterThan(verbs.lastIndexOf("config set"));
  });
});

describe("npm run rollback", () => {
  it("lists the releases and waits for a yes on stdin before it changes anything", () => {
    const app = withDown[0]!;
    fake.reset(outputsOf(app));
    const res = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts/rollback.ts"), "--stack", "prod", "--app", app], {
      cwd: ROOT,
      encoding: "utf8",
      input: "no\n",
      env: process.env,
      timeout: 60_000,
    });
    expect(res.status, res.stderr).toBe(1);
    expect(res.stdout).toContain(`Releases of ${app} on stack prod (newest first):\n  #2 2026-11-22T10:00:00.000Z backend 2.0.0`);
    expect(res.stdout).toContain(`Roll ${app} back from #2 to #1? [y/N] `);
    expect(fake.calls().filter((c) => c[0] === "config" || c[0] === "up")).toEqual([]);
  });

  it("refuses bad arguments with exit 2 and the usage", () => {
    const res = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts/rollback.ts"), "--app", "lms"], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain("rollback: --stack is required\nUsage: npm run rollback");
  });
});

describe("rolling back an app on ECS Fargate", () => {
  it("refuses, changes nothing, and says how to go back a release there", async () => {
    fake.reset({ environment: "prod", apps: {}, fargate: { lms: { endpoint: "https://lms.example.com" } } });
    const r = await rollback({ app: "lms", yes: true });
    expect(r.code).toBe(1);
    expect(r.text).toContain("lms runs on ECS Fargate in stack prod: npm run rollback rolls back apps on Docker hosts.");
    expect(r.text).toContain("pulumi config set --path 'apps.lms.backend.tag' <tag>");
    expect(r.calls.filter((c) => ["up", "config"].includes(c[0]!))).toEqual([]);
  });
});
