/**
 * Disaster recovery end to end under Pulumi's mock runtime: a recovery stack made from prod's own
 * stack file, each app moved to a fresh host the stack creates and given the restore setting
 * (`backups.restoreFrom.stack`). For every app: the restore of the newest verified backup of prod's
 * bucket runs on the fresh host after its database is up and before migrations, every backend and
 * worker; the health gate follows; the recovery point, the backup's key and the recovery time are
 * stack outputs. The policy pack accepts the recovery stack under prod's policy config.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { recoveryOf, type Recovery } from "../../components/backups/recoveryReport";
import { parseStackConfig, type RawConfig } from "../../config/resolve";
import type { StackSpec } from "../../config/spec";
import { mocks, runUnderMocks, type PlanRun, type PlannedResource } from "../../plan/mockRuntime";
import type { StackOutputs } from "../../program";
import { inputs, named, rawStackConfig, ROOT, stackSpec } from "../helpers";
import { AWS_HOST } from "../hosts/fixtures";

const SOURCE = "acme/runbook/prod";

/** Prod's stack file, every app on a fresh AWS host, restoring from prod's backups. */
function recoveryConfig(): RawConfig {
  const raw = structuredClone(rawStackConfig("prod")) as { apps: Record<string, Record<string, unknown>> };
  for (const app of Object.values(raw.apps)) {
    delete app["host"];
    delete app["hostKey"];
    // A fresh machine at least as large as the old host (its memory then comes from the instance type,
    // and capacity-host-memory holds the containers to it).
    const memory = Number(app["hostMemoryMb"] ?? 0);
    delete app["hostMemoryMb"];
    const instanceType = ([["t3.large", 8192], ["m6i.xlarge", 16384], ["m6i.2xlarge", 32768], ["m6i.4xlarge", 65536]] as const).find(([, mb]) => mb >= memory)![0];
    app["aws"] = { ...AWS_HOST, instanceType };
    app["backups"] = { ...(app["backups"] as object | undefined), restoreFrom: { stack: SOURCE } };
  }
  return raw;
}

/** What the host prints: the restore's report lines, and the clock once the app is healthy. */
const RESTORE_STDOUT = ["restored-from: s3://%BUCKET%/%APP%/20261124T020000Z-scheduled/", "recovery-point: 1795485600", "restore-started: 1795530000", "restore-finished: 1795530042", "restored: %APP%/20261124T020000Z-scheduled/"].join("\n");
const HEALTHY_AT = 1795530131;

const hostMocks: pulumi.runtime.Mocks = {
  ...mocks,
  newResource: (args) => {
    const base = mocks.newResource(args) as { id: string; state: Record<string, unknown> };
    const app = args.name.split("-")[0]!;
    if (args.name.endsWith("-backups-restore")) return { ...base, state: { ...base.state, stdout: RESTORE_STDOUT.replaceAll("%APP%", app).replaceAll("%BUCKET%", `${app}-prod-backups`) } };
    if (args.name.endsWith("-recovery-healthy")) return { ...base, state: { ...base.state, stdout: `${HEALTHY_AT}\n` } };
    return base;
  },
};

const valueOf = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply((v) => resolve(v)));

let spec: StackSpec;
let run: PlanRun;
beforeAll(async () => {
  spec = parseStackConfig(recoveryConfig());
  run = await runUnderMocks(spec, "recovery", undefined, { mocks: hostMocks });
}, 120_000);

const r = (name: string): PlannedResource => named(run.resources, name);
/** Every app of prod. */
const APPS = stackSpec("prod").apps.map((a) => a.id);

describe("a recovery stack made from prod's config plus the restore setting", () => {
  it.each(APPS)("%s: restores the newest verified backup of prod's bucket on the fresh host, after its database is up and before migrations, every backend and worker", (id) => {
    const app = spec.apps.find((a) => a.id === id)!;
    expect(app.host.kind).toBe("created");
    const restore = r(`${id}-backups-restore`);
    expect(String(inputs(restore)["create"])).toContain(`restore.sh --latest-verified --from-bucket ${id}-acme-runbook-prod-backups --from-prefix ${id} --if-empty`);
    // On the fresh instance, once it is ready.
    expect(restore.dependencies).toContain(r(`${id}-host-ready`).urn);
    const connection = (restore.wireInputs["connection"] as { value: Record<string, unknown> }).value;
    expect(String(connection["host"])).toMatch(/^198\.51\.100\.\d+$/);
    // After the database (or the SQLite volume) exists and the scripts are installed.
    const state = run.resources.find((x) => x.name === `${id}-db`) ?? r(`${id}-data`);
    expect(restore.dependencies).toContain(state.urn);
    expect(restore.dependencies).toContain(r(`${id}-backups-install`).urn);
    // Before everything of the release: migrations, release task, backends, workers, the pre-deploy
    // backup and the database roles step.
    const gated = run.resources.filter((x) => x.name.startsWith(`${id}-`) && /-(migrate|release-task|backend-\d+|worker-.+-\d+|backups-pre-deploy|db-roles-rotate)$/.test(x.name));
    expect(gated.filter((g) => /-backend-\d+$/.test(g.name))).toHaveLength(app.backend.replicas);
    for (const g of gated) expect(g.dependencies, g.name).toContain(restore.urn);
    for (const w of app.workers) expect(gated.filter((g) => g.name.startsWith(`${id}-worker-${w.name}-`)), w.name).toHaveLength(w.replicas);
  });

  it.each(APPS.filter((id) => stackSpec("prod").apps.find((a) => a.id === id)!.proxy.tls))("%s (TLS): brings back certbot's directory with the data, before the proxy that mounts the certificate starts", (id) => {
    // The backup jobs keep /etc/letsencrypt (jobs.env), and the restore puts it back where the fresh host has none.
    const install = String(inputs(r(`${id}-backups-install`))["create"]);
    expect(install).toContain("TLS_PATHS=/etc/letsencrypt");
    // The proxy comes after the restore (through the backends it routes to), so nginx finds its files.
    const restore = r(`${id}-backups-restore`).urn;
    const proxy = run.resources.find((x) => x.type === "docker:index/container:Container" && x.name === `${id}-proxy`)!;
    const seen = new Set<string>();
    const after = (urn: string): boolean => {
      if (urn === restore) return true;
      if (seen.has(urn)) return false;
      seen.add(urn);
      return run.resources.find((x) => x.urn === urn)!.dependencies.some(after);
    };
    expect(after(proxy.urn)).toBe(true);
  });

  it.each(APPS.filter((id) => stackSpec("prod").apps.find((a) => a.id === id)!.monitoring))("%s (monitoring): puts the newest monitoring backup into Prometheus' and Grafana's new volumes before either container starts", (id) => {
    const step = r(`${id}-monitoring-restore-data`);
    const volume = (key: string) => r(`${id}-monitoring-${key}`);
    // The volumes' names are the provider's (auto-named: `<name>-<hex>` under the mocks).
    expect(String(inputs(step)["create"])).toMatch(
      new RegExp(`^sudo -n /usr/local/lib/runbook-backup/${id}/monitoring-restore\\.sh --prometheus-volume ${id}-monitoring-prometheus-data-[0-9a-f]+ --grafana-volume ${id}-monitoring-grafana-data-[0-9a-f]+ --from-bucket ${id}-acme-runbook-prod-backups --from-prefix ${id}$`),
    );
    for (const dep of [volume("prometheus-data"), volume("grafana-data"), r(`${id}-backups-install`)]) expect(step.dependencies, dep.name).toContain(dep.urn);
    for (const service of ["prometheus", "grafana"]) {
      const container = run.resources.find((x) => x.type === "docker:index/container:Container" && x.name === `${id}-monitoring-${service}`)!;
      expect(container.dependencies, service).toContain(step.urn);
    }
  });

  it.each(APPS)("%s: reports the recovery point, the backup's key and the recovery time once the health gate has passed", async (id) => {
    const healthy = r(`${id}-recovery-healthy`);
    expect(healthy.dependencies).toEqual(expect.arrayContaining([r(`${id}-health-gate`).urn, r(`${id}-backups-restore`).urn]));
    // It reads the host's clock, and runs again whenever the restore does.
    expect(inputs(healthy)["create"]).toBe("date -u +%s");
    const restoreStdout = RESTORE_STDOUT.replaceAll("%APP%", id).replaceAll("%BUCKET%", `${id}-prod-backups`);
    expect(inputs(healthy)["triggers"]).toEqual([restoreStdout]);
    const recovery = await valueOf((run.outputs as StackOutputs).apps[id]!.recovery!);
    expect(recovery).toEqual<Recovery>({
      status: "restored",
      point: "2026-11-24T02:00:00.000Z",
      backupKey: `s3://${id}-prod-backups/${id}/20261124T020000Z-scheduled/`,
      startedAt: "2026-11-24T14:20:00.000Z",
      restoredAt: "2026-11-24T14:20:42.000Z",
      healthyAt: "2026-11-24T14:22:11.000Z",
      seconds: 131,
    });
  });

  it("accepts the recovery stack under prod's policy config, with no mandatory violation", async () => {
    const { policies } = await import("../../policies/pack");
    const { resolvePolicyConfig, runPolicies } = await import("../../plan/policyRunner");
    const levels = resolvePolicyConfig(policies, "mandatory", JSON.parse(fs.readFileSync(path.join(ROOT, "policies/config/prod.json"), "utf8")) as Record<string, unknown>);
    const { violations } = await runPolicies(run.resources, policies, levels, false);
    expect(violations.filter((v) => v.enforcementLevel === "mandatory").map((v) => `${v.policy}: ${v.message}`)).toEqual([]);
  });

  it("a stack without the restore setting restores nothing and reports no recovery", async () => {
    const prod = await runUnderMocks(stackSpec("prod"), "prod-no-recovery");
    expect(prod.resources.filter((x) => /-(backups-restore|recovery-healthy|monitoring-restore-data)$/.test(x.name))).toEqual([]);
    for (const id of APPS) expect((prod.outputs as StackOutputs).apps[id]!.recovery, id).toBeUndefined();
  });
});

describe("the recovery report read from the host's output", () => {
  it("is 'skipped', with no point or time, when the database already held data (--if-empty on a later update)", () => {
    expect(recoveryOf("restored: none\n", "1795530131\n")).toEqual({ status: "skipped", point: "", backupKey: "", startedAt: "", restoredAt: "", healthyAt: "", seconds: -1 });
  });
  it("is 'unknown' before the steps have run (a preview)", () => {
    expect(recoveryOf("", "")).toMatchObject({ status: "unknown", point: "", seconds: -1 });
  });
  it("takes the last report when the restore printed several lines of each", () => {
    const out = "recovery-point: 100\nrestore-started: 200\nrecovery-point: 300\nrestore-started: 400\nrestored-from: s3://b/a/x/\nrestore-finished: 450\nrestored: a/x/\n";
    expect(recoveryOf(out, "500")).toMatchObject({ status: "restored", point: new Date(300_000).toISOString(), seconds: 100 });
  });
});
