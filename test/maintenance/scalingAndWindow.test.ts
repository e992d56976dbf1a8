/**
 * Maintenance, scaling and diagnostics under mocks, for every app of the committed prod and staging
 * stacks: the `capacity` output says what the planned containers are; the runbooks' limits are what an
 * app gets when the stack sets none; the scheduled jobs are installed after the health gate; a
 * maintenance window takes its backup before the proxy turns the maintenance page on.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { catalog } from "../../apps";
import { maintenanceJobs } from "../../components/maintenance";
import { renderUninstallScript } from "../../components/maintenance/units";
import { DEPLOY_LOCK_WAIT_SECONDS } from "../../components/shared/databaseLock";
import { PROJECT } from "../../config/defaults";
import { parseStackConfig, type RawConfig } from "../../config/resolve";
import type { StackSpec } from "../../config/spec";
import { runUnderMocks, type PlannedResource } from "../../plan/mockRuntime";
import type { StackOutputs } from "../../program";
import { CONTAINER, inputs, problemsOf, rawStackConfig } from "../helpers";

type Run = { spec: StackSpec; resources: readonly PlannedResource[]; outputs: StackOutputs };
const runs: Record<string, Run> = {};

/** The stack's config with every app's maintenance window open. */
function withWindow(stack: string): RawConfig {
  const raw = structuredClone(rawStackConfig(stack)) as { apps: Record<string, Record<string, unknown>> };
  for (const app of Object.values(raw.apps)) app["maintenance"] = { window: true };
  return raw as unknown as RawConfig;
}

beforeAll(async () => {
  for (const [key, stack, raw] of [["prod", "prod", rawStackConfig("prod")], ["staging", "staging", rawStackConfig("staging")], ["prod-window", "prod", withWindow("prod")]] as const) {
    const spec = parseStackConfig(raw, PROJECT);
    const run = await runUnderMocks(spec, stack);
    runs[key] = { spec, resources: run.resources, outputs: run.outputs as StackOutputs };
  }
}, 120_000);

const cases = ["prod", "staging"].flatMap((stack) => parseStackConfig(rawStackConfig(stack), PROJECT).apps.map((a) => [`${stack}/${a.id}`, stack, a.id] as const));
const labelOf = (r: PlannedResource, label: string) => (inputs(r)["labels"] as { label: string; value: string }[] | undefined)?.find((l) => l.label === label)?.value;

/** Every URN `urn` waits for, directly or through others. */
function ancestry(resources: readonly PlannedResource[], urn: string): Set<string> {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const seen = new Set<string>();
  const stack = [urn];
  while (stack.length) {
    for (const d of byUrn.get(stack.pop()!)?.dependencies ?? []) {
      if (!seen.has(d)) {
        seen.add(d);
        stack.push(d);
      }
    }
  }
  return seen;
}
const named = (run: Run, name: string) => run.resources.find((r) => r.name === name);

describe("scaling outputs", () => {
  it.each(cases)("%s: capacity counts the containers, CPUs and memory the stack runs", (_, stack, id) => {
    const run = runs[stack]!;
    const containers = run.resources.filter((r) => r.type === CONTAINER && labelOf(r, "runbook.app") === id);
    const capacity = run.outputs.apps[id]!.capacity!;
    expect(capacity.totals.containers).toBe(containers.length);
    expect(capacity.totals.memoryMb).toBe(containers.reduce((s, c) => s + Number(inputs(c)["memory"]), 0));
    expect(capacity.totals.cpus).toBeCloseTo(containers.reduce((s, c) => s + Number(inputs(c)["cpus"]), 0), 2);
    for (const [service, s] of Object.entries(capacity.services)) {
      const of = containers.filter((c) => labelOf(c, "runbook.service") === service);
      expect(of.length, service).toBe(s.replicas);
      for (const c of of) expect(Number(inputs(c)["memory"]), service).toBe(s.memoryMb);
    }
    expect(capacity.host).toBe(run.spec.apps.find((a) => a.id === id)!.hostCapacity.hostKey);
    expect(capacity.hostMemoryMb, "the committed stacks state each host's memory").toBeGreaterThan(0);
  });

  it.each(cases)("%s: where the stack sets no limits, a service gets at least the runbook's", (_, stack, id) => {
    const raw = rawStackConfig(stack) as { apps: Record<string, Record<string, { limits?: unknown }>> };
    const capacity = runs[stack]!.outputs.apps[id]!.capacity!;
    const limits = (catalog[id]!.requirements as { limits?: Record<string, { value: { cpus?: number; memoryMb?: number } }> }).limits ?? {};
    for (const [service, rule] of Object.entries(limits)) {
      if (raw.apps[id]?.[service]?.limits !== undefined) continue;
      const s = capacity.services[service]!;
      expect(s.memoryMb, `${service} memory`).toBeGreaterThanOrEqual(rule.value.memoryMb ?? 0);
      expect(s.cpus, `${service} cpus`).toBeGreaterThanOrEqual(rule.value.cpus ?? 0);
    }
  });

  it("one HostCapacity per host, naming every app on it (staging's five apps share one)", () => {
    for (const stack of ["prod", "staging"]) {
      const run = runs[stack]!;
      const hosts = run.resources.filter((r) => r.type === "runbook:maintenance:HostCapacity");
      const byHost = new Map<string, string[]>();
      for (const a of run.spec.apps) byHost.set(a.hostCapacity.hostKey, [...(byHost.get(a.hostCapacity.hostKey) ?? []), a.id]);
      expect(hosts.map((h) => [inputs(h)["host"], inputs(h)["apps"]])).toEqual([...byHost.entries()]);
    }
  });
});

describe("scheduled maintenance", () => {
  it.each(cases)("%s: the timers are installed by a deploy step after the health gate, one per job", (_, stack, id) => {
    const run = runs[stack]!;
    const app = run.spec.apps.find((a) => a.id === id)!;
    const install = named(run, `${id}-maintenance-install`)!;
    expect(ancestry(run.resources, install.urn)).toContain(named(run, `${id}-health-gate`)!.urn);
    const schedule = run.outputs.apps[id]!.maintenance!.schedule;
    const jobs = Object.keys(schedule).map((t) => t.replace(`runbook-${id}-`, "").replace(/\.timer$/, ""));
    const expected = [...(app.database.engine === "postgres" ? ["db-vacuum-analyze", "db-reindex"] : ["db-sqlite", "db-sqlite-reindex"]), "prune", "image-scan", "logs", ...(app.proxy.tls ? ["certificates"] : [])];
    expect(jobs).toEqual(expected);
    const script = String(inputs(install)["create"]);
    expect(script).toContain('"$SYSTEMCTL" enable --now');
    for (const job of expected) expect(script).toContain(`runbook-${id}-${job}.timer`);
  });

  it.each(cases)("%s: deleting the install step removes exactly its timers, and the old step goes before its replacement installs", (_, stack, id) => {
    const run = runs[stack]!;
    const app = run.spec.apps.find((a) => a.id === id)!;
    const install = named(run, `${id}-maintenance-install`)!;
    const del = String(inputs(install)["delete"]);
    expect(del).toBe(renderUninstallScript(id, maintenanceJobs(app)));
    for (const timer of Object.keys(run.outputs.apps[id]!.maintenance!.schedule)) expect(del).toContain(timer.replace(/\.timer$/, ""));
    expect(del).not.toContain("*");
    expect(install.options.deleteBeforeReplace).toBe(true);
    // A changed script is an update in place: no trigger would turn it into a replacement.
    expect(inputs(install)["triggers"]).toEqual([]);
  });

  it("maintenance.enabled: false installs no timers", async () => {
    const raw = structuredClone(rawStackConfig("prod")) as { apps: Record<string, Record<string, unknown>> };
    for (const app of Object.values(raw.apps)) app["maintenance"] = { enabled: false };
    const run = await runUnderMocks(parseStackConfig(raw as unknown as RawConfig, PROJECT), "prod");
    expect(run.resources.filter((r) => r.name.endsWith("-maintenance-install"))).toEqual([]);
  });
});

describe("maintenance window", () => {
  const ids = parseStackConfig(rawStackConfig("prod"), PROJECT).apps.map((a) => a.id);
  it.each(ids)("%s: the backup runs before the proxy turns the maintenance page on, and before any backend", (id) => {
    const run = runs["prod-window"]!;
    const backup = named(run, `${id}-maintenance-window-backup`)!;
    expect(backup, "the window's backup step").toBeDefined();
    const proxyConfig = named(run, `${id}-proxy-config`)!;
    expect(ancestry(run.resources, proxyConfig.urn), "the proxy config waits for the backup").toContain(backup.urn);
    for (const b of run.resources.filter((r) => r.type === CONTAINER && r.name.startsWith(`${id}-backend-`))) expect(ancestry(run.resources, b.urn)).toContain(backup.urn);
    expect(ancestry(run.resources, backup.urn), "the backup does not wait for the release").not.toContain(proxyConfig.urn);
    expect(run.spec.apps.find((a) => a.id === id)!.proxy.maintenance).toBe(true);
    expect(String(inputs(backup)["create"])).toContain("pre-maintenance");
  });

  it.each(ids)("%s: the backup runs as root through sudo -n (the database lock is root's), into the deploy user's directory, waiting a bounded time for the lock", (id) => {
    const create = String(inputs(named(runs["prod-window"]!, `${id}-maintenance-window-backup`)!)["create"]);
    expect(create).toContain('as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }');
    expect(create).toMatch(new RegExp(`^as_root /bin/sh -c '[^]*' window-backup --dir "\\$HOME/runbook-backups" --lock-wait ${DEPLOY_LOCK_WAIT_SECONDS}$`, "m"));
    expect(create).toContain("\ndb_lock\n");
  });

  it.each(ids)("%s: without a window there is no backup step and no maintenance page", (id) => {
    expect(named(runs["prod"]!, `${id}-maintenance-window-backup`)).toBeUndefined();
    expect(runs["prod"]!.spec.apps.find((a) => a.id === id)!.proxy.maintenance).toBe(false);
  });
});

describe("config", () => {
  it("refuses apps on one host that disagree on its memory, and a size that contradicts the instance type", () => {
    const raw = structuredClone(rawStackConfig("staging")) as { apps: Record<string, Record<string, unknown>> };
    raw.apps["fdts"]!["hostMemoryMb"] = 16384;
    expect(problemsOf(raw)).toContain("runbook:apps.fdts.hostMemoryMb: is 16384 but fairlens on the same host (ssh://deploy@staging.example.com) says 32768; apps on one host must agree on its size");
    raw.apps["fdts"]!["hostMemoryMb"] = 100;
    expect(problemsOf(raw)).toContain("runbook:apps.fdts.hostMemoryMb: must be at least 256 (MiB)");
  });
});
