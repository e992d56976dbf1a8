/**
 * The release record under Pulumi's mock runtime, for every app of the committed stacks: the shape
 * of the `releases` output, the last 5 kept from the stack's own earlier outputs (read through a
 * StackReference to the stack itself), the schema read-back after migrations, the host file after
 * the health gate, and a rollback's down-migration before the older image's migrations and backends.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import type { Release } from "../../components/releases/record";
import { ReleaseRecord, type ReleaseRecordArgs } from "../../components/releases/releaseRecord";
import type { StackSpec } from "../../config/spec";
import { mocks, runUnderMocks, type PlanRun, type PlannedResource } from "../../plan/mockRuntime";
import type { StackOutputs } from "../../program";
import { CONTAINER, byType, inputs, named, stackSpec } from "../helpers";

const valueOf = <T>(o: pulumi.Output<T> | undefined): Promise<T> =>
  new Promise((resolve, reject) => (o ? o.apply((v) => resolve(v)) : reject(new Error("no output"))));

async function releasesOf(run: PlanRun, app: string): Promise<Release[]> {
  return valueOf((run.outputs as StackOutputs).apps[app]!.releases);
}

/** Mocks whose StackReference returns the given `apps` output as the last update's. */
function withPrevious(apps: Record<string, unknown>, seen: string[] = []): pulumi.runtime.Mocks {
  return {
    ...mocks,
    newResource: (args) => {
      if (args.type !== "pulumi:pulumi:StackReference") return mocks.newResource(args);
      seen.push(String(args.inputs["name"]));
      return { id: String(args.inputs["name"]), state: { ...args.inputs, outputs: { apps }, secretOutputNames: [] } };
    },
  };
}

const earlier = (app: string, n: number): Release[] =>
  Array.from({ length: n }, (_, i) => ({
    id: n - i,
    time: new Date(Date.UTC(2026, 0, n - i)).toISOString(),
    images: { backend: `ghcr.io/${app}/backend:0.${n - i}.0`, proxy: "nginx:1.27.3-alpine" },
    digests: {},
    configHash: `hash-${n - i}`,
    schemaRevision: `rev${n - i}`,
    backupKey: null,
  }));

const dependsOnTransitively = (resources: readonly PlannedResource[], from: PlannedResource, urn: string): boolean => {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const seen = new Set<string>();
  const stack = [...from.dependencies];
  while (stack.length) {
    const u = stack.pop()!;
    if (u === urn) return true;
    if (seen.has(u)) continue;
    seen.add(u);
    stack.push(...(byUrn.get(u)?.dependencies ?? []));
  }
  return false;
};

describe.each(["prod", "staging"])("the release record of every app of %s", (stack) => {
  it("records one release on the first update: images and digests per service, time, config hash, schema revision, no backup", async () => {
    const spec = stackSpec(stack);
    const seen: string[] = [];
    const run = await runUnderMocks(spec, stack, undefined, { mocks: withPrevious({}, seen) });
    expect(seen).toEqual(spec.apps.map(() => `organization/${spec.project}/${stack}`));
    for (const app of spec.apps) {
      const releases = await releasesOf(run, app.id);
      expect(releases).toHaveLength(1);
      const [r] = releases;
      const images = { backend: app.backend.image, ...(app.frontend && { frontend: app.frontend.image }), proxy: app.proxy.image };
      expect(r).toMatchObject({ id: 1, images, backupKey: null });
      expect(Object.keys(r!.digests).sort()).toEqual(Object.keys(images).sort());
      for (const [service, digest] of Object.entries(r!.digests)) expect(digest).toMatch(new RegExp(`^${images[service as keyof typeof images]!.split(":")[0]}@sha256:[0-9a-f]{64}$`));
      expect(new Date(r!.time).toISOString()).toBe(r!.time);
      expect(r!.configHash).toMatch(/^[0-9a-f]{64}$/);
      const kind = app.releases.migrations.kind;
      if (kind === "alembic") expect(r!.schemaRevision).toMatch(/^[0-9a-f]{12}$/);
      else if (kind === "django") expect(r!.schemaRevision).toMatch(/^auth:0012_\w+,core:0002_[0-9a-f]{12}$/);
      else expect(r!.schemaRevision).toBeNull();
    }
  });

  it("records the key of the pre-deploy backup taken before the release, as the backup step printed it", async () => {
    const spec = stackSpec(stack);
    const keyOf = (id: string) => `${id}/20261125T020000Z-pre-deploy/`;
    const base = withPrevious({});
    const run = await runUnderMocks(spec, stack, undefined, {
      mocks: {
        ...base,
        newResource: (args) => {
          const made = base.newResource(args) as { id: string; state: Record<string, unknown> };
          const app = spec.apps.find((a) => args.name === `${a.id}-backups-pre-deploy`);
          return app ? { ...made, state: { ...made.state, stdout: `uploaded\nbackup-key: ${keyOf(app.id)}\n` } } : made;
        },
      },
    });
    for (const app of spec.apps) {
      const [r] = await releasesOf(run, app.id);
      expect(r!.backupKey, app.id).toBe(keyOf(app.id));
    }
  });

  it("keeps the last 5 releases, read from the stack's own outputs, the new one first", async () => {
    const spec = stackSpec(stack);
    const previous = Object.fromEntries(spec.apps.map((a) => [a.id, { releases: earlier(a.id, 5) }]));
    const run = await runUnderMocks(spec, stack, undefined, { mocks: withPrevious(previous) });
    for (const app of spec.apps) {
      const releases = await releasesOf(run, app.id);
      expect(releases.map((r) => r.id)).toEqual([6, 5, 4, 3, 2]);
      expect(releases.slice(1)).toEqual(earlier(app.id, 5).slice(0, 4));
    }
  });
});

describe("the release steps of every app of prod", () => {
  it("read the schema back after migrations and the release task, and write releases.json once the health gate passed", async () => {
    const spec = stackSpec("prod");
    const run = await runUnderMocks(spec, "prod");
    for (const app of spec.apps) {
      const file = named(run.resources, `${app.id}-releases-host-file`);
      expect(dependsOnTransitively(run.resources, file, named(run.resources, `${app.id}-health-gate`).urn)).toBe(true);
      const stdin = String(inputs(file)["stdin"]);
      expect(stdin).toContain(`/var/lib/runbook/${app.id}`);
      expect(stdin).toContain(app.backend.image);
      const readBack = run.resources.find((r) => r.name === `${app.id}-releases-schema-revision`);
      if (app.releases.migrations.kind === "alembic" || app.releases.migrations.kind === "django") {
        expect(readBack, app.id).toBeDefined();
        expect(String(inputs(readBack!)["create"])).toMatch(app.releases.migrations.kind === "alembic" ? / alembic current$/ : / showmigrations --list$/);
        expect(dependsOnTransitively(run.resources, readBack!, named(run.resources, `${app.id}-migrate`).urn)).toBe(true);
      } else {
        expect(readBack, app.id).toBeUndefined();
      }
    }
  });
});

/** The prod spec with a rollback's down-migration set for every app that has one. */
function withRollback(spec: StackSpec): StackSpec {
  return {
    ...spec,
    apps: spec.apps.map((a) =>
      a.releases.migrations.kind === "alembic" || a.releases.migrations.kind === "django"
        ? { ...a, releases: { ...a.releases, rollback: { undoes: 7, downgrade: { to: a.releases.migrations.kind === "alembic" ? "ae1027a6acf" : "core:0001_initial,shop:zero", image: `${a.backend.image}-newer` } } } }
        : a,
    ),
  };
}

describe("a rollback's down-migration", () => {
  it("runs with the newer image before the older image's migrations, every backend replica and worker", async () => {
    const spec = withRollback(stackSpec("prod"));
    const run = await runUnderMocks(spec, "prod");
    const apps = spec.apps.filter((a) => a.releases.rollback);
    expect(apps.length).toBeGreaterThan(0);
    for (const app of apps) {
      // The release this update records says which release it undid: never a default target again.
      expect((await releasesOf(run, app.id))[0]).toMatchObject({ id: 1, rollbackOf: 7 });
      const downs = run.resources.filter((r) => r.name.startsWith(`${app.id}-rollback-down-migration-`));
      const expected = app.releases.migrations.kind === "alembic" ? [["alembic", "downgrade", "ae1027a6acf"]] : [["core", "0001_initial"], ["shop", "zero"]];
      expect(downs).toHaveLength(expected.length);
      downs.forEach((down, i) => {
        const create = String(inputs(down)["create"]);
        expect(create).toContain(`${app.backend.image}-newer `);
        expect(create).toMatch(app.releases.migrations.kind === "alembic" ? / alembic downgrade ae1027a6acf$/ : new RegExp(` manage.py migrate ${expected[i]!.join(" ")} --noinput$`));
        if (i > 0) expect(dependsOnTransitively(run.resources, down, downs[i - 1]!.urn)).toBe(true);
      });
      const last = downs[downs.length - 1]!;
      const backends = byType(run.resources, CONTAINER).filter((c) => c.name.startsWith(`${app.id}-backend-`) || c.name.startsWith(`${app.id}-worker-`));
      for (const dependent of [named(run.resources, `${app.id}-migrate`), ...backends]) {
        expect(dependsOnTransitively(run.resources, dependent, last.urn), dependent.name).toBe(true);
      }
    }
  });
});

describe("a rollback with --restore-data", () => {
  const restoring = (spec: StackSpec, preDeploy = true): StackSpec => ({
    ...spec,
    apps: spec.apps.map((a) => ({
      ...a,
      backups: { ...a.backups, preDeploy },
      releases: { ...a.releases, rollback: { undoes: 4, from: 5, restoreBackup: `${a.id}/20261124T100000Z-pre-deploy/` } },
    })),
  });

  it("restores the undone release's pre-deploy backup after a backup of the data as it is, and before the migrations, every backend replica and worker", async () => {
    const spec = restoring(stackSpec("prod"));
    const run = await runUnderMocks(spec, "prod");
    for (const app of spec.apps) {
      const restore = named(run.resources, `${app.id}-backups-rollback-restore`);
      const create = String(inputs(restore)["create"]);
      expect(create).toBe(`sudo -n /usr/local/lib/runbook-backup/${app.id}/restore.sh --id 20261124T100000Z-pre-deploy --force --keep-stopped --once rollback-5-4-20261124T100000Z-pre-deploy --lock-wait 600`);
      expect(inputs(restore)["triggers"]).toEqual([`${app.id}/20261124T100000Z-pre-deploy/`, 4, 5]);
      // The rows written since the undone release go into this update's pre-deploy backup first.
      expect(dependsOnTransitively(run.resources, restore, named(run.resources, `${app.id}-backups-pre-deploy`).urn), app.id).toBe(true);
      const backends = byType(run.resources, CONTAINER).filter((c) => c.name.startsWith(`${app.id}-backend-`) || c.name.startsWith(`${app.id}-worker-`));
      expect(backends.length).toBeGreaterThan(0);
      for (const dependent of [...run.resources.filter((r) => r.name === `${app.id}-migrate`), ...backends]) {
        expect(dependsOnTransitively(run.resources, dependent, restore.urn), dependent.name).toBe(true);
      }
      expect(run.resources.filter((r) => r.name.startsWith(`${app.id}-rollback-down-migration-`))).toEqual([]);
      expect((await releasesOf(run, app.id))[0]).toMatchObject({ rollbackOf: 4 });
    }
  });

  it("takes its own pre-restore backup first when the stack takes no pre-deploy backups", async () => {
    const spec = restoring(stackSpec("prod"), false);
    const run = await runUnderMocks(spec, "prod");
    for (const app of spec.apps) {
      expect(run.resources.filter((r) => r.name === `${app.id}-backups-pre-deploy`)).toEqual([]);
      const create = String(inputs(named(run.resources, `${app.id}-backups-rollback-restore`))["create"]);
      expect(create).toBe(
        `sudo -n /usr/local/lib/runbook-backup/${app.id}/backup.sh --reason pre-restore --lock-wait 600 && sudo -n /usr/local/lib/runbook-backup/${app.id}/restore.sh --id 20261124T100000Z-pre-deploy --force --keep-stopped --once rollback-5-4-20261124T100000Z-pre-deploy --lock-wait 600`,
      );
    }
  });
});

describe("ReleaseRecord", () => {
  const app = stackSpec("prod").apps[0]!;
  const stack = { release: { backend: app.backend.image }, images: {} } as unknown as ReleaseRecordArgs["stack"];
  it.each([
    [{ app: { ...app, releases: { ...app.releases, keep: 1 } }, stack }, "`app.releases.keep` must be a whole number of at least 2 (got 1): a rollback needs the release before the current one"],
    [{ app, stack }, "`stack.images.backend` must be given: the release names that service's image"],
  ] as [ReleaseRecordArgs, string][])("refuses bad arguments with an exact message, before declaring any child", async (args, message) => {
    await expect(runUnderMocks(stackSpec("prod"), "prod", () => new ReleaseRecord("bad", args, {}))).rejects.toThrow(message);
  });
});
