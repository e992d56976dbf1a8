/**
 * Adopting a running docker-compose deployment, under mocks, for every app of prod: the existing
 * volumes are imported by name and can never be replaced or deleted, and the cut-over runs in the
 * one safe order (new containers healthy, compose stopped, then the proxy takes 80/443).
 */
import { beforeAll, describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { runUnderMocks, type PlannedResource } from "../../plan/mockRuntime";
import { CONTAINER, ROOT, byType, inputs, named, stackSpec } from "../helpers";
import { adoptedStack, composeProject, composeReadBack, composeVolume, volumeDiff, type VolumeState } from "./fixtures";

const VOLUME = "docker:index/volume:Volume";
const spec = adoptedStack("prod");
let resources: readonly PlannedResource[] = [];
let outputs: Record<string, unknown> = {};

beforeAll(async () => {
  const run = await runUnderMocks(spec, "prod-adopted");
  resources = run.resources;
  outputs = (run.outputs as { apps: Record<string, unknown> }).apps;
});

const dependsOn = (r: PlannedResource, on: PlannedResource) => r.dependencies.includes(on.urn);

describe.each(spec.apps.map((a) => [a.id, a] as const))("adopting %s's compose deployment", (id, app) => {
  const adopted = () => Object.entries(app.adoption!.volumes).map(([key, existing]) => ({ key, existing, volume: named(resources, `${id}-${key}`) }));

  it("imports every state volume by its exact name, protected and retained, and declares nothing the provider reads back differently", () => {
    expect(adopted().length).toBeGreaterThan(0);
    for (const { key, existing, volume } of adopted()) {
      expect(volume.type).toBe(VOLUME);
      expect(volume.options.importId, key).toBe(existing);
      expect(inputs(volume), key).toEqual({ name: existing });
      expect(volume.options.protect, key).toBe(true);
      expect(volume.options.retainOnDelete, key).toBe(true);
      expect(volume.options.ignoreChanges, key).toEqual(expect.arrayContaining(["labels", "driver", "driverOpts"]));
      // The engine's import check (and every later diff) against what the provider reads back: no field differs.
      expect(volumeDiff(inputs(volume) as VolumeState, composeReadBack(id, key), volume.options.ignoreChanges), key).toEqual([]);
    }
  });

  it("would replace the volume (and delete the data) if it only named it without ignoring compose's labels: the check can fail", () => {
    for (const { key } of adopted()) {
      const ours: VolumeState = { name: composeVolume(id, key), labels: [{ label: "runbook.app", value: id }] };
      expect(volumeDiff(ours, composeReadBack(id, key), []), key).toEqual(["labels"]);
      expect(volumeDiff({ name: composeVolume(id, key) }, composeReadBack(id, key), []), key).toEqual(["labels"]);
    }
  });

  it("starts the new containers beside the compose ones: none but the host-port holders waits for the compose project to stop", () => {
    const stop = named(resources, `${id}-adoption-cutover-stop`);
    const holders = byType(resources, CONTAINER).filter((c) => c.parent?.endsWith(`::${id}`) && dependsOn(c, stop)).map((c) => c.name);
    expect(holders.sort()).toEqual([`${id}-proxy`, ...(app.frontend?.adminPort !== undefined ? [`${id}-frontend-0`] : [])].sort());
  });

  it("stops the compose project only after every new container is healthy, and the proxy takes 80/443 only after that", () => {
    const ready = named(resources, `${id}-adoption-cutover-ready`);
    const stop = named(resources, `${id}-adoption-cutover-stop`);
    const proxy = named(resources, `${id}-proxy`);
    const gate = named(resources, `${id}-health-gate`);
    const others = byType(resources, CONTAINER).filter((c) => c.parent?.endsWith(`::${id}`) && !dependsOn(c, stop));
    expect(others.length).toBeGreaterThanOrEqual(app.backend.replicas);
    for (const c of others) expect(dependsOn(ready, c), c.name).toBe(true);
    expect(dependsOn(stop, ready)).toBe(true);
    expect(dependsOn(proxy, stop)).toBe(true);
    expect(dependsOn(gate, proxy)).toBe(true);
    expect((inputs(proxy)["ports"] as { external: number }[]).map((p) => p.external)).toEqual(expect.arrayContaining([443]));
    const script = String(inputs(stop)["create"]);
    expect(script).toContain(`label=com.docker.compose.project=${composeProject(id)}`);
    expect(script).not.toContain("volume=");
    const check = String(inputs(ready)["create"]);
    const listed = (/^set -- (.*)$/m.exec(check)?.[1] ?? "").split(" ");
    expect(listed.length).toBe(others.length);
    for (const c of others) expect(listed.some((n) => n.startsWith(`${c.name}-`)), c.name).toBe(true);
  });

  it("never runs two database or cache servers on one data directory: the compose ones holding it stop before ours start", () => {
    const servers = ["pgdata", "redis-data"].filter((k) => app.adoption!.volumes[k] !== undefined);
    const handover = resources.find((r) => r.name === `${id}-adoption-servers-stop`);
    if (servers.length === 0) {
      expect(handover).toBeUndefined();
      return;
    }
    expect(handover).toBeDefined();
    const script = String(inputs(handover!)["create"]);
    for (const k of servers) {
      expect(script).toContain(`volume=${app.adoption!.volumes[k]}`);
      expect(dependsOn(handover!, named(resources, `${id}-${k}`)), k).toBe(true);
    }
    for (const server of [`${id}-db`, `${id}-redis`].filter((n) => resources.some((r) => r.name === n))) {
      expect(dependsOn(named(resources, server), handover!), server).toBe(true);
    }
  });

  it("shows each adopted volume as an import in the offline plan's tree", async () => {
    const { renderTree } = await import("../../plan/report");
    const tree = renderTree(resources);
    for (const { key, existing } of adopted()) expect(tree, key).toMatch(new RegExp(`${id}-${key}.*\\[import ${existing}, protect, retainOnDelete\\]`));
  });

  it("reports the adopted project and volumes as the stack output `adoption`", () => {
    expect((outputs[id] as { adoption?: unknown }).adoption).toEqual({ project: composeProject(id), volumes: app.adoption!.volumes });
  });
});

describe("a stack that adopts nothing", () => {
  it("imports no volume and has no cut-over step (the committed staging stack)", async () => {
    const run = await runUnderMocks(stackSpec("staging"), "staging-not-adopted");
    expect(run.resources.filter((r) => r.options.importId !== undefined)).toEqual([]);
    expect(run.resources.filter((r) => r.name.includes("-adoption-"))).toEqual([]);
  });

  it("finds no policy violation in the adopted prod stack, under prod's policy config", async () => {
    const { policies } = await import("../../policies/pack");
    const { resolvePolicyConfig, runPolicies } = await import("../../plan/policyRunner");
    const levels = resolvePolicyConfig(policies, "mandatory", JSON.parse(fs.readFileSync(path.join(ROOT, "policies/config/prod.json"), "utf8")) as Record<string, unknown>);
    const { violations } = await runPolicies(resources, policies, levels, false);
    expect(violations).toEqual([]);
  });
});
