import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { AppSecrets, AppStack } from "../../components";
import type { StackSpec } from "../../config/spec";
import { runUnderMocks, type PlannedResource } from "../../plan/mockRuntime";
import { CONTAINER, byType, inputs, isSecretWire, named, stackSpec } from "../helpers";

const VOLUME = "docker:index/volume:Volume";
const NETWORK = "docker:index/network:Network";
const COMMANDS = ["command:remote:Command", "command:local:Command"];

type Port = { internal: number; external: number; ip?: string };

let prod: readonly PlannedResource[];
let staging: readonly PlannedResource[];
let prodSpec: StackSpec;
let stagingSpec: StackSpec;

beforeAll(async () => {
  prodSpec = stackSpec("prod");
  stagingSpec = stackSpec("staging");
  prod = (await runUnderMocks(prodSpec, "prod")).resources;
  staging = (await runUnderMocks(stagingSpec, "staging")).resources;
});

const containersOf = (resources: readonly PlannedResource[], app: string) =>
  byType(resources, CONTAINER).filter((c) => c.name.startsWith(`${app}-`));

describe("AppStack under mocks", () => {
  it("deploys all five apps of the catalog in prod and staging", () => {
    for (const resources of [prod, staging]) {
      const stacks = resources.filter((r) => r.type === "runbook:app:AppStack").map((r) => r.name);
      expect(stacks.sort()).toEqual(["fairlens", "fdts", "handwork", "lms", "reference"]);
    }
  });

  it("gives every long-running container a healthcheck, restart policy, memory and CPU limits and log rotation", () => {
    const containers = byType(prod, CONTAINER);
    expect(containers.length).toBeGreaterThanOrEqual(20);
    for (const c of containers) {
      const i = inputs(c);
      const health = i["healthcheck"] as { tests: string[]; interval: string; retries: number };
      expect(health.tests.length, c.name).toBeGreaterThan(1);
      expect(["CMD", "CMD-SHELL"]).toContain(health.tests[0]);
      expect(health.retries).toBe(5);
      expect(i["restart"], c.name).toBe("unless-stopped");
      expect(i["memory"], c.name).toBeGreaterThanOrEqual(128);
      expect(Number(i["cpus"]), c.name).toBeGreaterThan(0);
      expect(i["logDriver"], c.name).toBe("json-file");
      expect(i["logOpts"], c.name).toEqual({ "max-size": "10m", "max-file": "3" });
      expect(i["wait"], c.name).toBe(true);
    }
  });

  it("takes resource limits from the runbook: LMS web 2 CPUs / 4 GiB (2 GiB reserved), db 8 GiB (4 GiB reserved)", () => {
    for (const web of containersOf(prod, "lms").filter((c) => c.name.startsWith("lms-backend-"))) {
      expect(inputs(web)).toMatchObject({ cpus: "2", memory: 4096, memoryReservation: 2048 });
    }
    expect(inputs(named(prod, "lms-db"))).toMatchObject({ memory: 8192, memoryReservation: 4096 });
    // staging overrides them
    expect(inputs(named(staging, "lms-backend-0"))).toMatchObject({ cpus: "1", memory: 1024, memoryReservation: 512 });
  });

  it("never publishes a database, cache, backend or worker port on the host", () => {
    for (const resources of [prod, staging]) {
      for (const c of byType(resources, CONTAINER)) {
        if (/-(db|redis|backend-\d+|worker-.+)$/.test(c.name)) {
          expect(inputs(c)["ports"], c.name).toBeUndefined();
        }
      }
    }
  });

  it("publishes host ports only from the proxy (80/443), and binds an admin UI to 127.0.0.1", () => {
    for (const c of byType(prod, CONTAINER)) {
      const ports = (inputs(c)["ports"] ?? []) as Port[];
      if (c.name.endsWith("-proxy")) {
        expect(ports.map((p) => p.external).sort()).toEqual([443, 80]);
      } else if (ports.length > 0) {
        expect(c.name).toBe("handwork-frontend");
        expect(ports).toEqual([{ internal: 80, external: 8081, ip: "127.0.0.1" }]);
      }
    }
    // staging: one shared host, one port per app, no TLS
    const stagingPorts = byType(staging, CONTAINER)
      .filter((c) => c.name.endsWith("-proxy"))
      .map((c) => (inputs(c)["ports"] as Port[]).map((p) => p.external))
      .flat()
      .sort();
    expect(stagingPorts).toEqual([8001, 8002, 8003, 8004, 8005]);
  });

  it("declares delete-before-replace on the port-bound proxy; other containers declare nothing, so the provider's default applies", () => {
    // undefined is "not declared": pulumi-docker then deletes first (plan/providerDefaults.ts).
    for (const c of byType(prod, CONTAINER)) {
      expect(c.options.deleteBeforeReplace, c.name).toBe(c.name.endsWith("-proxy") ? true : undefined);
    }
  });

  it("orders migrations after the steps given to the pre-deploy seam (beforeMigrations)", async () => {
    const app = stagingSpec.apps.find((a) => a.id === "lms")!;
    const run = await runUnderMocks(stagingSpec, "seam", () => {
      // A component stands for its children: the backup step is one of them.
      const backup = new pulumi.ComponentResource("runbook:test:PreDeployBackup", "lms-pre-deploy-backup");
      new command.local.Command("lms-pre-deploy-backup-dump", { create: "true" }, { parent: backup });
      const secrets = new AppSecrets("lms-secrets", { app });
      new AppStack("lms", { app, secrets, beforeMigrations: [backup] });
    });
    const dump = named(run.resources, "lms-pre-deploy-backup-dump");
    expect(named(run.resources, "lms-migrate").dependencies).toContain(dump.urn);
  });

  it("runs as many backend replicas as the stack asks", () => {
    const replicas = (resources: readonly PlannedResource[], app: string) =>
      containersOf(resources, app).filter((c) => /-backend-\d+$/.test(c.name)).length;
    for (const spec of [prodSpec, stagingSpec]) {
      const resources = spec === prodSpec ? prod : staging;
      for (const app of spec.apps) expect(replicas(resources, app.id), app.id).toBe(app.backend.replicas);
    }
    expect(replicas(prod, "fairlens")).toBe(3);
    expect(replicas(staging, "fairlens")).toBe(1);
    expect(containersOf(prod, "lms").filter((c) => c.name.startsWith("lms-worker-rq-")).length).toBe(2);
  });

  it("upstreams the proxy to every replica by network alias", () => {
    const upload = (inputs(named(prod, "lms-proxy"))["uploads"] as { file: string; content: string }[]).find((u) => u.file === "/etc/nginx/nginx.conf")!;
    expect(upload.content.match(/server backend-\d:8000 /g)).toEqual(["server backend-0:8000 ", "server backend-1:8000 ", "server backend-2:8000 "]);
    const aliases = (inputs(named(prod, "lms-backend-2"))["networksAdvanced"] as { aliases?: string[] }[])[0]!.aliases;
    expect(aliases).toEqual(["backend", "backend-2"]);
  });

  it("keeps the backend network internal and puts only the proxy on the public one", () => {
    for (const app of prodSpec.apps) {
      expect(inputs(named(prod, `${app.id}-internal`))["internal"]).toBe(true);
      expect(inputs(named(prod, `${app.id}-public`))["internal"]).toBe(false);
      const publicUrn = named(prod, `${app.id}-public`).urn;
      const onPublic = containersOf(prod, app.id).filter((c) => c.dependencies.includes(publicUrn)).map((c) => c.name);
      expect(onPublic).toEqual([`${app.id}-proxy`]);
    }
    // Databases and caches sit on the internal network only: no egress, no public side.
    const stateful = byType(prod, CONTAINER).filter((c) => /-(db|redis)$/.test(c.name));
    expect(stateful.map((c) => c.name).sort()).toEqual(["fairlens-db", "fairlens-redis", "lms-db", "lms-redis", "reference-db"]);
    for (const c of stateful) {
      const app = c.name.split("-")[0]!;
      expect(inputs(c)["networksAdvanced"], c.name).toEqual([
        { name: expect.stringMatching(new RegExp(`^${app}-internal-`)), aliases: [c.name.endsWith("-db") ? "db" : "redis"] },
      ]);
    }
    // egress only where the runbook calls third-party services
    expect(byType(prod, NETWORK).filter((n) => n.name.endsWith("-egress")).map((n) => n.name).sort()).toEqual(["fairlens-egress", "handwork-egress", "lms-egress"]);
  });

  it("protects and retains state volumes in prod only", () => {
    const prodVolumes = byType(prod, VOLUME);
    expect(prodVolumes.map((v) => v.name).sort()).toEqual([
      "fairlens-pgdata", "fairlens-redis-data", "fdts-data", "fdts-uploads", "handwork-data", "handwork-uploads", "lms-pgdata", "lms-redis-data", "reference-pgdata",
    ]);
    for (const v of prodVolumes) expect(v.options, v.name).toMatchObject({ protect: true, retainOnDelete: true });
    for (const v of byType(staging, VOLUME)) expect(v.options, v.name).toMatchObject({ protect: false, retainOnDelete: false });
  });

  it("pins every image by tag", () => {
    for (const img of byType(prod, "docker:index/remoteImage:RemoteImage")) {
      const ref = String(inputs(img)["name"]);
      expect(ref, img.name).toMatch(/^[^:]+(:\d+)?[^:]*:[A-Za-z0-9_][A-Za-z0-9_.-]*$/);
      expect(ref.endsWith(":latest"), img.name).toBe(false);
      expect(inputs(img)["keepLocally"]).toBe(true);
    }
  });

  it("runs migrations after the database is healthy and the image is pulled, and before any backend replica", () => {
    for (const app of prodSpec.apps.filter((a) => a.backend.migrationCommand)) {
      const migrate = prod.find((r) => r.name === `${app.id}-migrate`)!;
      expect(COMMANDS).toContain(migrate.type);
      const image = named(prod, `${app.id}-backend-image`);
      expect(migrate.dependencies).toContain(image.urn);
      if (app.database.engine === "postgres") {
        const db = named(prod, `${app.id}-db`);
        expect(migrate.dependencies).toContain(db.urn);
        expect(inputs(db)["wait"]).toBe(true); // the provider waits for "healthy"
      }
      const i = inputs(migrate);
      expect(i["triggers"]).toEqual([expect.stringMatching(/^sha256:/)]);
      expect(String(i["create"])).toContain(app.backend.migrationCommand!.at(-1)!);
      expect(i["stdin"]).toBe("[secret]");
      for (const replica of containersOf(prod, app.id).filter((c) => /-backend-\d+$/.test(c.name))) {
        expect(replica.dependencies, replica.name).toContain(migrate.urn);
      }
    }
    expect(String(inputs(named(prod, "handwork-migrate"))["create"])).toMatch(/-v handwork-data-\w+:\/app\/data .*alembic upgrade head$/);
    expect(String(inputs(named(prod, "lms-migrate"))["create"])).toContain("python manage.py migrate --noinput && python manage.py collectstatic --noinput");
    // apps whose runbook names no migration have none
    expect(prod.some((r) => r.name === "fdts-migrate" || r.name === "reference-migrate")).toBe(false);
  });

  it("runs the health gate after the proxy and its reload, polling each runbook health endpoint", () => {
    for (const app of prodSpec.apps) {
      const gate = named(prod, `${app.id}-health-gate`);
      const proxy = named(prod, `${app.id}-proxy`);
      const reload = named(prod, `${app.id}-proxy-reload`);
      expect(gate.dependencies).toContain(proxy.urn);
      expect(gate.dependencies).toContain(reload.urn);
      expect(proxy.options.deleteBeforeReplace).toBe(true);
      const script = String(inputs(gate)["create"]);
      for (const endpoint of app.proxy.healthEndpoints) expect(script).toContain(`check ${endpoint} || failed=1`);
      expect(script).toContain("base_url=https://127.0.0.1:443");
    }
    expect(String(inputs(named(prod, "lms-health-gate"))["create"])).toContain("check /api/healthz/ || failed=1");
    expect(String(inputs(named(prod, "fdts-health-gate"))["create"])).toContain("check /api/health || failed=1");
    expect(String(inputs(named(staging, "fdts-health-gate"))["create"])).toContain("base_url=http://127.0.0.1:8002");
  });

  it("passes secret environment only as Pulumi secrets, plain settings stay readable", () => {
    const backend = named(prod, "handwork-backend-0");
    const envs = backend.wireInputs["envs"] as unknown[];
    const plain = envs.filter((e) => typeof e === "string") as string[];
    expect(plain).toContain("DATABASE_URL=sqlite:////app/data/handwork_marketplace.db");
    expect(plain.some((e) => /^(JWT_SECRET_KEY|STRIPE_SECRET_KEY)=/.test(e))).toBe(false);
    expect(envs.filter(isSecretWire)).toHaveLength(1); // JWT_SECRET_KEY; external secrets unset in the committed stack
    const db = named(prod, "lms-db");
    expect((db.wireInputs["envs"] as unknown[]).filter(isSecretWire)).toHaveLength(1);
    expect((named(prod, "lms-backend-0").wireInputs["envs"] as unknown[]).filter(isSecretWire)).toHaveLength(2); // SECRET_KEY, DATABASE_URL
  });

  it("generates secrets of the runbook's strength", () => {
    expect(inputs(named(prod, "fdts-secrets-jwt-secret"))).toMatchObject({ length: 64, special: false });
    expect(inputs(named(prod, "lms-secrets-secret-key"))).toMatchObject({ length: 50 });
    expect(inputs(named(prod, "lms-secrets-db-password"))).toMatchObject({ length: 32 });
  });

  it("parents every child on its component and derives its name from the component's", () => {
    const components = prod.filter((r) => r.type === "runbook:app:AppStack" || r.type === "runbook:secrets:AppSecrets");
    const byUrn = new Map(components.map((c) => [c.urn, c]));
    for (const r of prod.filter((x) => !x.type.startsWith("runbook:"))) {
      const parent = byUrn.get(r.parent ?? "");
      expect(parent, r.name).toBeDefined();
      expect(r.name.startsWith(`${parent!.name}-`), r.name).toBe(true);
    }
  });

  it("lets two instances of the same app live in one stack without a name clash", async () => {
    const app = stagingSpec.apps.find((a) => a.id === "lms")!;
    const run = await runUnderMocks(stagingSpec, "twins", () => {
      for (const name of ["lms-blue", "lms-green"]) {
        const secrets = new AppSecrets(`${name}-secrets`, { app });
        new AppStack(name, { app, secrets });
      }
    });
    const names = run.resources.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.filter((n) => n.startsWith("lms-blue-")).length).toBe(names.filter((n) => n.startsWith("lms-green-")).length);
    expect(names.filter((n) => n.startsWith("lms-blue-")).length).toBeGreaterThan(15);
  });

  it("runs deploy steps over ssh on a remote host and locally (with DOCKER_HOST) on the local socket", async () => {
    const migrate = named(prod, "lms-migrate");
    expect(migrate.type).toBe("command:remote:Command");
    const connection = migrate.wireInputs["connection"] as { value: Record<string, unknown> };
    expect(isSecretWire(connection)).toBe(true);
    expect(connection.value).toMatchObject({ host: "lms-prod.example.com", user: "deploy", port: 22 });
    expect(inputs(named(prod, "lms-docker"))["host"]).toBe("ssh://deploy@lms-prod.example.com");

    const app = stagingSpec.apps.find((a) => a.id === "lms")!;
    const local = { ...app, host: { kind: "local" as const, dockerHost: "unix:///var/run/docker.sock" } };
    const run = await runUnderMocks(stagingSpec, "local", () => {
      const secrets = new AppSecrets("lms-secrets", { app: local });
      new AppStack("lms", { app: local, secrets });
    });
    for (const step of ["lms-migrate", "lms-proxy-reload", "lms-health-gate"]) {
      const r = named(run.resources, step);
      expect(r.type, step).toBe("command:local:Command");
      expect(inputs(r)["environment"], step).toEqual({ DOCKER_HOST: "unix:///var/run/docker.sock" });
    }
    expect(inputs(named(run.resources, "lms-docker"))["host"]).toBe("unix:///var/run/docker.sock");
  });

  it("refuses bad component arguments with a message naming the argument", async () => {
    const app = stagingSpec.apps.find((a) => a.id === "fdts")!;
    const run = runUnderMocks(stagingSpec, "bad", () => {
      const secrets = new AppSecrets("fdts-secrets", { app });
      new AppStack("fdts", { app: { ...app, backend: { ...app.backend, replicas: 0 } }, secrets });
    });
    await expect(run).rejects.toThrow("`app.backend.replicas` must be a whole number of at least 1 (got 0)");
    const plain = runUnderMocks(stagingSpec, "bad2", () => {
      const secrets = new AppSecrets("fdts-secrets", { app });
      new AppStack("fdts", { app: { ...app, backend: { ...app.backend, env: { ...app.backend.env, JWT_SECRET: "oops" } } }, secrets });
    });
    await expect(plain).rejects.toThrow("`app.backend.env.JWT_SECRET` is a secret variable: it must not be set as plain environment");
    const handwork = stagingSpec.apps.find((a) => a.id === "handwork")!;
    const multiLine = runUnderMocks(stagingSpec, "bad3", () => {
      const withKey = { ...handwork, externalSecrets: { STRIPE_SECRET_KEY: "line one\nline two" } };
      const secrets = new AppSecrets("handwork-secrets", { app: withKey });
      new AppStack("handwork", { app: withKey, secrets });
    });
    await expect(multiLine).rejects.toThrow("`STRIPE_SECRET_KEY` of handwork spans several lines, which a docker env file cannot carry; give it base64-encoded");
    await expect(multiLine).rejects.not.toThrow("line one");
  });
});
