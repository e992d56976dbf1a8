/**
 * AppStack under mocks, for every app of the committed prod and staging stacks. Expectations come
 * from each app's resolved spec (catalog plus stack), so a sixth app in the catalog gets every check
 * without a test edit.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { tlsMounts } from "../../components/app/tlsMounts";
import { secretKeepers } from "../../components/secrets/appSecrets";
import { nanoCpus, readBackCpus } from "../../config/dockerCpus";
import type { AppSpec, StackSpec } from "../../config/spec";
import { runUnderMocks, type PlannedResource } from "../../plan/mockRuntime";
import { CONTAINER, byType, inputs, isSecretWire, stackSpec } from "../helpers";

const VOLUME = "docker:index/volume:Volume";
const NETWORK = "docker:index/network:Network";
const COMMANDS = ["command:remote:Command", "command:local:Command"];
type Port = { internal: number; external: number; ip?: string };
type Labels = { label: string; value: string }[];

const runs: Record<string, { spec: StackSpec; resources: readonly PlannedResource[] }> = {};
beforeAll(async () => {
  for (const stack of ["prod", "staging"]) {
    const spec = stackSpec(stack);
    runs[stack] = { spec, resources: (await runUnderMocks(spec, stack)).resources };
  }
});

/** Every (stack, app) pair of the committed stacks. */
const cases = ["prod", "staging"].flatMap((stack) => stackSpec(stack).apps.map((app) => [`${stack}/${app.id}`, stack, app.id] as const));

/** One app's resources in a run, by what they are. */
function view(stack: string, id: string) {
  const { spec, resources } = runs[stack]!;
  const app = spec.apps.find((a) => a.id === id)!;
  const component = resources.find((r) => r.type === "runbook:app:AppStack" && r.name === id)!;
  const children = resources.filter((r) => r.parent === component.urn);
  const containers = byType(children, CONTAINER);
  const label = (c: PlannedResource, name: string) => (inputs(c)["labels"] as Labels).find((l) => l.label === name)?.value;
  const service = (s: string) => containers.filter((c) => label(c, "runbook.service") === s);
  const step = (suffix: string) => children.find((r) => COMMANDS.includes(r.type) && r.name === `${id}-${suffix}`);
  const secrets = resources.filter((r) => r.parent === resources.find((x) => x.name === `${id}-secrets`)?.urn);
  return { app, component, children, containers, label, service, step, secrets, resources };
}

const frontendCount = (app: AppSpec) => (app.frontend ? (app.frontend.adminPort !== undefined ? 1 : app.frontend.replicas) : 0);

describe.each(cases)("AppStack %s", (_name, stack, id) => {
  it("runs each service with the replicas the stack asks for, each container labelled with its app, environment and service", () => {
    const v = view(stack, id);
    expect(v.service("backend")).toHaveLength(v.app.backend.replicas);
    expect(v.service("frontend")).toHaveLength(frontendCount(v.app));
    for (const w of v.app.workers) expect(v.service(`worker:${w.name}`)).toHaveLength(w.replicas);
    expect(v.service("database")).toHaveLength(v.app.database.engine === "postgres" ? 1 : 0);
    expect(v.service("cache")).toHaveLength(v.app.cache ? 1 : 0);
    expect(v.service("proxy")).toHaveLength(1);
    for (const c of v.containers) {
      expect(v.label(c, "runbook.app"), c.name).toBe(id);
      expect(v.label(c, "runbook.environment"), c.name).toBe(v.app.environment);
    }
  });

  it("gives every container a health check, restart policy, limits from the spec spelled as Docker reads them back, log rotation and a health wait", () => {
    const v = view(stack, id);
    const limitsOf: Record<string, AppSpec["backend"]["limits"] | undefined> = {
      backend: v.app.backend.limits,
      frontend: v.app.frontend?.limits,
      database: v.app.database.engine === "postgres" ? v.app.database.limits : undefined,
      cache: v.app.cache?.limits,
      proxy: v.app.proxy.limits,
      ...Object.fromEntries(v.app.workers.map((w) => [`worker:${w.name}`, w.limits])),
    };
    for (const c of v.containers) {
      const i = inputs(c);
      const health = i["healthcheck"] as { tests: string[]; retries: number };
      expect(["CMD", "CMD-SHELL"], c.name).toContain(health.tests[0]);
      expect(health.tests.slice(1).join(" ").trim(), c.name).not.toBe("");
      expect(i["restart"], c.name).toBe("unless-stopped");
      const limits = limitsOf[v.label(c, "runbook.service")!]!;
      expect(i["memory"], c.name).toBe(limits.memoryMb);
      expect(i["memoryReservation"], c.name).toBe(limits.memoryReservationMb);
      expect(Number(i["cpus"]), c.name).toBe(limits.cpus);
      expect(readBackCpus(nanoCpus(Number(i["cpus"]))!), c.name).toBe(i["cpus"]);
      expect(i["logDriver"], c.name).toBe("json-file");
      expect(i["logOpts"], c.name).toEqual({ "max-size": v.app.logRotation.maxSize, "max-file": String(v.app.logRotation.maxFile) });
      expect(i["wait"], c.name).toBe(true);
    }
  });

  it("publishes host ports only from the proxy (http, and https with TLS), and an admin UI on 127.0.0.1 only", () => {
    const v = view(stack, id);
    for (const c of v.containers) {
      const ports = (inputs(c)["ports"] ?? []) as Port[];
      const role = v.label(c, "runbook.role");
      if (role === "proxy") {
        expect(ports.map((p) => p.external).sort(), c.name).toEqual([v.app.proxy.httpPort, ...(v.app.proxy.tls ? [v.app.proxy.httpsPort] : [])].sort());
      } else if (role === "admin") {
        expect(ports).toEqual([{ internal: v.app.frontend!.port, external: v.app.frontend!.adminPort, ip: "127.0.0.1" }]);
      } else {
        expect(ports, c.name).toEqual([]);
      }
    }
  });

  it("keeps everything on the internal network; only the proxy on the public one, an admin UI alone on its own, egress where the app calls out", () => {
    const v = view(stack, id);
    const net = (suffix: string) => v.children.find((r) => r.type === NETWORK && r.name === `${id}-${suffix}`);
    expect(inputs(net("internal")!)["internal"]).toBe(true);
    expect(inputs(net("public")!)["internal"]).toBe(false);
    const on = (n: PlannedResource | undefined) => (n ? v.containers.filter((c) => c.dependencies.includes(n.urn)).map((c) => v.label(c, "runbook.role")) : []);
    expect(on(net("public"))).toEqual(["proxy"]);
    expect(on(net("internal"))).toHaveLength(v.containers.length);
    expect(Boolean(net("egress")), "egress").toBe(v.app.backend.needsEgress);
    expect(Boolean(net("admin")), "admin").toBe(v.app.frontend?.adminPort !== undefined);
    expect(on(net("admin"))).toEqual(v.app.frontend?.adminPort !== undefined ? ["admin"] : []);
    for (const c of [...v.service("database"), ...v.service("cache")]) {
      expect((inputs(c)["networksAdvanced"] as unknown[]).length, c.name).toBe(1);
    }
  });

  it("replaces replicas, workers and public frontends create-before-delete; port holders and databases delete first, both declared", () => {
    const v = view(stack, id);
    for (const c of v.containers) {
      const deleteFirst = ["proxy", "admin", "database", "cache"].includes(v.label(c, "runbook.role")!);
      expect(c.options.deleteBeforeReplace, c.name).toBe(deleteFirst);
    }
  });

  it("keeps state in volumes, protected and retained on delete in prod; a cache-only Redis has none", () => {
    const v = view(stack, id);
    const expected = [
      ...v.app.backend.volumes.map((x) => `${id}-${x.name}`),
      ...(v.app.database.engine === "postgres" ? [`${id}-pgdata`] : []),
      ...(v.app.cache?.persistent ? [`${id}-redis-data`] : []),
    ].sort();
    const volumes = byType(v.children, VOLUME);
    expect(volumes.map((x) => x.name).sort()).toEqual(expected);
    for (const x of volumes) expect(x.options, x.name).toMatchObject({ protect: v.app.protectState, retainOnDelete: v.app.protectState });
    for (const c of v.service("cache")) {
      const command = (inputs(c)["command"] as string[]).join(" ");
      if (v.app.cache!.persistent) expect(command).toContain("--appendonly yes");
      else {
        expect(command).toContain("--appendonly no");
        expect(inputs(c)["volumes"], c.name).toBeUndefined();
      }
    }
  });

  it("pulls every image by a pinned tag and keeps it on the host for rollbacks", () => {
    const v = view(stack, id);
    for (const img of byType(v.children, "docker:index/remoteImage:RemoteImage")) {
      expect(String(inputs(img)["name"]), img.name).toMatch(/:[A-Za-z0-9_][A-Za-z0-9_.-]*$/);
      expect(String(inputs(img)["name"]).endsWith(":latest")).toBe(false);
      expect(inputs(img)["keepLocally"]).toBe(true);
    }
  });

  it("runs the migration, then the release task, in one-off containers after the database and before every replica and worker", () => {
    const v = view(stack, id);
    const migrate = v.step("migrate");
    const task = v.step("release-task");
    expect(Boolean(migrate)).toBe(v.app.backend.migrationCommand !== undefined);
    expect(Boolean(task)).toBe(v.app.backend.releaseTask !== undefined);
    const image = v.children.find((r) => r.name === `${id}-backend-image`)!;
    for (const [step, argv] of [[migrate, v.app.backend.migrationCommand], [task, v.app.backend.releaseTask]] as const) {
      if (!step) continue;
      const i = inputs(step);
      expect(String(i["create"])).toMatch(new RegExp(`^docker run --rm --network ${id}-internal-\\w+ --env-file /dev/stdin .*${argv!.join(" ")}$`));
      expect(i["stdin"]).toBe("[secret]");
      expect(i["triggers"]).toEqual([expect.stringMatching(/^sha256:/)]);
      expect(step.dependencies).toContain(image.urn);
      for (const db of v.service("database")) expect(step.dependencies).toContain(db.urn);
      for (const r of [...v.service("backend"), ...v.app.workers.flatMap((w) => v.service(`worker:${w.name}`))]) {
        expect(r.dependencies, `${r.name} after ${step.name}`).toContain(step.urn);
      }
    }
    if (migrate && task) expect(task.dependencies).toContain(migrate.urn);
  });

  it("delivers the proxy's config by a deploy step naming every replica and frontend by container name, never a shared alias", () => {
    const v = view(stack, id);
    const config = v.step("proxy-config")!;
    const conf = String(inputs(config)["stdin"]);
    const servers = [...conf.matchAll(/server (\S+):(\d+) max_fails/g)].map((m) => m[1]!);
    const upstreams = [...v.service("backend"), ...(v.app.frontend?.adminPort === undefined ? v.service("frontend") : [])];
    // The mock names a container `<resource name>-<7 hex>`, as Docker autonaming does.
    expect(servers.map((s) => s.replace(/-[0-9a-f]{7}$/, "")).sort()).toEqual(upstreams.map((c) => c.name).sort());
    for (const c of upstreams) expect(config.dependencies, `${config.name} waits for ${c.name}`).toContain(c.urn);
    expect(String(inputs(config)["create"])).toContain(`docker exec -i ${id}-proxy-`);
    expect(inputs(config)["triggers"]).toEqual([`${id}-proxy-id`, expect.stringMatching(/^[0-9a-f]{64}$/)]);
    for (const c of v.service("backend")) expect((inputs(c)["networksAdvanced"] as { aliases?: string[] }[])[0]!.aliases).toEqual(["backend"]);
    if (v.app.backend.metricsPath) expect(conf).toContain(`location ^~ ${v.app.backend.metricsPath} {`);
  });

  it("mounts the certificate directory read-only at its own path where the proxy terminates TLS", () => {
    const v = view(stack, id);
    const proxy = v.service("proxy")[0]!;
    const tls = v.app.proxy.tls;
    expect(inputs(proxy)["volumes"]).toEqual(tls ? tlsMounts(tls).map((d) => ({ hostPath: d, containerPath: d, readOnly: true })) : undefined);
  });

  it("probes every HTTP service with the app's public host name, and https where the proxy terminates TLS", () => {
    const v = view(stack, id);
    for (const c of [...v.service("backend"), ...v.service("frontend")]) {
      const test = (inputs(c)["healthcheck"] as { tests: string[] }).tests.join(" ");
      expect(test, c.name).toContain(v.app.publicHost);
      expect(test, c.name).toContain(v.app.proxy.tls ? "https" : "http");
    }
  });

  it("runs the health gate after the proxy config and every container, checking each container's health and each endpoint", () => {
    const v = view(stack, id);
    const gate = v.step("health-gate")!;
    expect(gate.dependencies).toContain(v.step("proxy-config")!.urn);
    const script = String(inputs(gate)["create"]);
    const triggers = inputs(gate)["triggers"] as string[];
    for (const c of v.containers) {
      expect(gate.dependencies, `gate after ${c.name}`).toContain(c.urn);
      expect(triggers, `gate re-runs when ${c.name} is replaced`).toContain(`${c.name}-id`);
      expect(script).toMatch(new RegExp(`check_container ${c.name}-[0-9a-f]{7} \\|\\| failed=1`));
    }
    for (const endpoint of v.app.proxy.healthEndpoints) expect(script).toContain(`check_endpoint ${endpoint} || failed=1`);
    const base = v.app.proxy.tls ? `https://${v.app.publicHost}:${v.app.proxy.httpsPort}` : `http://${v.app.publicHost}:${v.app.proxy.httpPort}`;
    expect(script).toContain(`base_url=${base}`);
  });

  it("passes secrets to containers only as Pulumi secrets, each generated as its catalog format says, in two slots where the app keeps the previous one", () => {
    const v = view(stack, id);
    const generated = v.app.backend.secretEnv.filter((s) => s.source === "generated");
    const external = v.app.backend.secretEnv.filter((s) => s.source === "external" && v.app.externalSecrets[s.name] !== undefined);
    const slots = generated.filter((s) => s.previousSlot).length;
    for (const c of [...v.service("backend"), ...v.app.workers.flatMap((w) => v.service(`worker:${w.name}`))]) {
      const envs = c.wireInputs["envs"] as unknown[];
      const plain = envs.filter((e): e is string => typeof e === "string");
      expect(plain.sort()).toEqual(Object.entries(v.app.backend.env).map(([k, val]) => `${k}=${val}`).concat(v.app.cache ? [`REDIS_URL=redis://redis:${v.app.cache.port}/0`] : []).sort());
      expect(envs.filter(isSecretWire), c.name).toHaveLength(generated.length + slots + external.length + (v.app.database.engine === "postgres" ? 1 : 0));
      expect(c.options.additionalSecretOutputs).toContain("envs");
    }
    for (const s of generated) {
      const base = `${id}-secrets-${s.name.toLowerCase().replace(/_/g, "-")}`;
      const names = s.previousSlot ? [`${base}-a`, `${base}-b`] : [base];
      for (const [i, name] of names.entries()) {
        const r = v.secrets.find((x) => x.name === name)!;
        expect(r.type, name).toBe(s.format.encoding === "alphanumeric" ? "random:index/randomPassword:RandomPassword" : "random:index/randomBytes:RandomBytes");
        expect(inputs(r)["length"]).toBe(s.format.encoding === "alphanumeric" ? s.format.length : s.format.bytes);
        const keepers = inputs(r)["keepers"] as Record<string, string>;
        expect(keepers).toMatchObject({
          ...secretKeepers(id, s.name),
          "runbook.rotationDays": String(v.app.rotation.periods[s.name] ?? v.app.rotation.periodDays),
          "runbook.generation": String(v.app.rotation.generation),
          ...(s.previousSlot && { "runbook.slot": ["a", "b"][i] }),
        });
        expect(keepers["runbook.window"]).toMatch(/^-?\d+$/);
      }
    }
  });

  it("runs deploy steps over ssh with the pinned host key on an ssh:// host, and the provider with strict host key checking", () => {
    const v = view(stack, id);
    const provider = v.children.find((r) => r.name === `${id}-docker`)!;
    expect(inputs(provider)["host"]).toBe(v.app.host.kind === "created" ? undefined : v.app.host.dockerHost);
    for (const step of v.children.filter((r) => COMMANDS.includes(r.type))) {
      if (v.app.host.kind !== "ssh") continue;
      expect(step.type).toBe("command:remote:Command");
      const connection = step.wireInputs["connection"] as { value: Record<string, unknown> };
      expect(isSecretWire(connection)).toBe(true);
      expect(connection.value).toMatchObject({ host: v.app.host.host, user: v.app.host.user, port: v.app.host.port });
      expect(connection.value["hostKey"]).toBe(v.app.host.hostKey);
    }
    if (v.app.host.kind === "ssh") expect(JSON.parse(String(inputs(provider)["sshOpts"]))).toEqual(["-o", "StrictHostKeyChecking=yes"]);
  });

  it("parents every child on its component and derives its name from the component's", () => {
    const v = view(stack, id);
    expect(v.children.length).toBeGreaterThan(10);
    for (const r of v.children) expect(r.name.startsWith(`${id}-`), r.name).toBe(true);
  });
});

describe("AppStack across stacks", () => {
  it("pins the host key on every prod deploy step (remote.Command checks none without it)", () => {
    const steps = runs["prod"]!.resources.filter((r) => r.type === "command:remote:Command");
    expect(steps.length).toBeGreaterThan(10);
    for (const s of steps) expect((s.wireInputs["connection"] as { value: Record<string, unknown> }).value["hostKey"], s.name).toMatch(/^ssh-ed25519 AAAA/);
  });

  it("never recreates a proxy for a config change: its container holds only the fixed bootstrap config", async () => {
    const base = runs["prod"]!;
    const change = (f: (a: AppSpec) => AppSpec) => ({ ...base.spec, apps: base.spec.apps.map(f) });
    const maintenance = await runUnderMocks(change((a) => ({ ...a, proxy: { ...a.proxy, maintenance: true, rateLimit: { requestsPerSecond: 3, burst: 1 } } })), "maint");
    const fewer = await runUnderMocks(change((a) => ({ ...a, backend: { ...a.backend, replicas: 1 } })), "fewer");
    for (const app of base.spec.apps) {
      const proxy = (r: readonly PlannedResource[]) => inputs(r.find((x) => x.name === `${app.id}-proxy`)!);
      const config = (r: readonly PlannedResource[]) => inputs(r.find((x) => x.name === `${app.id}-proxy-config`)!)["stdin"];
      for (const run of [maintenance, fewer]) {
        expect(proxy(run.resources), app.id).toEqual(proxy(base.resources));
        if (run === maintenance || app.backend.replicas > 1) expect(config(run.resources), app.id).not.toEqual(config(base.resources));
      }
      const uploads = proxy(base.resources)["uploads"] as { file: string; content: string }[];
      expect(uploads.map((u) => u.file)).toEqual(["/etc/nginx/nginx.conf", "/usr/share/nginx/maintenance/maintenance.html"]);
      expect(uploads[0]!.content).not.toContain("upstream");
    }
  });

  it("generates no URN twice in a stack", () => {
    for (const { resources } of Object.values(runs)) expect(new Set(resources.map((r) => r.urn)).size).toBe(resources.length);
  });
});
