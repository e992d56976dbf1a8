import { describe, expect, it } from "vitest";
import * as app from "../../policies/app";
import { CONTAINER, check, checkStack, compliantContainer, stack } from "./harness";

/** A container every container policy accepts. */
const compliant = (): Record<string, unknown> => ({ ...compliantContainer(), envs: ["NODE_ENV=production"] });
const withProps = (changes: Record<string, unknown>) => ({ props: { ...compliant(), ...changes } });

describe("app-container-healthcheck-required", () => {
  const p = app.healthcheckRequired;
  it("accepts a container with a health check", async () => expect(await check(p, { props: compliant() })).toEqual([]));
  it.each([
    [{ healthcheck: undefined }],
    [{ healthcheck: { tests: ["NONE"] } }],
    [{ healthcheck: { tests: ["CMD"] } }],
    [{ healthcheck: { tests: ["CMD-SHELL", ""] } }],
    [{ healthcheck: { tests: ["CMD-SHELL", "  "] } }],
  ])("refuses a container without a test command: %j", async (change) => {
    expect(await check(p, withProps(change))).toEqual(["Container c has no health check; give it a test command (CMD or CMD-SHELL)."]);
  });
  it.each([["true"], ["exit 0"], [":"]])("refuses a health check that always passes: %s", async (command) => {
    expect(await check(p, withProps({ healthcheck: { tests: ["CMD-SHELL", command] } }))).toEqual([
      `Container c has a health check that always passes (\`${command}\`); make it probe the service.`,
    ]);
  });
  it("refuses a check interval above the configured maximum", async () => {
    const slow = withProps({ healthcheck: { tests: ["CMD", "x"], interval: "2m" } });
    expect(await check(p, slow)).toEqual(["Container c checks its health every 120s; at most 60s is allowed."]);
    expect(await check(p, slow, { maxIntervalSeconds: 180 })).toEqual([]);
  });
});

describe("app-container-restart-policy-required", () => {
  const p = app.restartPolicyRequired;
  it("accepts unless-stopped", async () => expect(await check(p, { props: compliant() })).toEqual([]));
  it("refuses a container that never restarts", async () => {
    expect(await check(p, withProps({ restart: undefined }))).toEqual(['Container c has restart policy "no"; use one of unless-stopped, always.']);
  });
  it("follows the configured list", async () => {
    expect(await check(p, withProps({ restart: "on-failure" }))).toEqual(['Container c has restart policy "on-failure"; use one of unless-stopped, always.']);
    expect(await check(p, withProps({ restart: "on-failure" }), { allowed: ["on-failure"] })).toEqual([]);
  });
});

describe("app-container-memory-limit-required", () => {
  const p = app.memoryLimitRequired;
  it("accepts memory and CPU limits", async () => expect(await check(p, { props: compliant() })).toEqual([]));
  it("refuses a container without a memory limit", async () => {
    expect(await check(p, withProps({ memory: undefined }))).toEqual(["Container c has no memory limit; set one (MiB)."]);
  });
  it("refuses a memory limit below the minimum", async () => {
    expect(await check(p, withProps({ memory: 32 }))).toEqual(["Container c has a memory limit of 32 MiB; at least 64 MiB is required."]);
    expect(await check(p, withProps({ memory: 32 }), { minMemoryMb: 16 })).toEqual([]);
  });
  it("refuses a container without a CPU limit unless the config says otherwise", async () => {
    expect(await check(p, withProps({ cpus: undefined }))).toEqual(["Container c has no CPU limit; set cpus."]);
    expect(await check(p, withProps({ cpus: undefined }), { requireCpuLimit: false })).toEqual([]);
  });
});

describe("app-container-log-rotation-required", () => {
  const p = app.logRotationRequired;
  it("accepts json-file with max-size and max-file", async () => expect(await check(p, { props: compliant() })).toEqual([]));
  it("refuses a container without rotation", async () => {
    expect(await check(p, withProps({ logOpts: undefined }))).toEqual(["Container c has no log rotation; set logOpts max-size (at most 100m) and max-file."]);
  });
  it("refuses files larger than the maximum", async () => {
    expect(await check(p, withProps({ logOpts: { "max-size": "1g", "max-file": "3" } }))).toEqual(["Container c keeps log files of up to 1g; at most 100m is allowed."]);
  });
  it("refuses more files than the maximum", async () => {
    expect(await check(p, withProps({ logOpts: { "max-size": "10m", "max-file": "50" } }))).toEqual(["Container c keeps 50 log files; from 1 to 10 are allowed."]);
  });
  it("refuses a container that discards its logs, and leaves external drivers alone", async () => {
    expect(await check(p, withProps({ logDriver: "none", logOpts: undefined }))).toEqual(['Container c discards its logs (log driver "none"); keep them with rotation.']);
    expect(await check(p, withProps({ logDriver: "journald", logOpts: undefined }))).toEqual([]);
  });
});

describe("app-image-tag-pinned", () => {
  const p = app.imageTagPinned;
  const image = (name: string) => ({ type: "docker:index/remoteImage:RemoteImage", name: "img", props: { name } });
  it.each(["ghcr.io/fairlens/backend:1.8.2", "postgres:16.4-alpine", "localhost:5000/app:sha-4f2a9c1", "ghcr.io/a/b@sha256:" + "0".repeat(64)])(
    "accepts the pinned %s",
    async (ref) => expect(await check(p, image(ref))).toEqual([]),
  );
  it.each(["ghcr.io/a/b", "localhost:5000/app"])("refuses %s, which has no tag", async (ref) => {
    expect(await check(p, image(ref))).toEqual([`Image ${ref} has no tag (Docker would pull latest); pin a version tag or a digest.`]);
  });
  it("refuses a moving tag, as configured", async () => {
    expect(await check(p, image("ghcr.io/a/b:latest"))).toEqual(['Image ghcr.io/a/b:latest uses the moving tag "latest"; pin a version tag or a digest.']);
    expect(await check(p, image("ghcr.io/a/b:edge"), { forbiddenTags: ["edge"] })).toEqual(['Image ghcr.io/a/b:edge uses the moving tag "edge"; pin a version tag or a digest.']);
  });
});

describe("app-host-port-proxy-only", () => {
  const p = app.hostPortProxyOnly;
  const role = (value: string) => [{ label: "runbook.role", value }];
  it("lets the proxy publish 80 and 443", async () => {
    expect(await check(p, withProps({ labels: role("proxy"), ports: [{ internal: 80, external: 80 }, { internal: 443, external: 443 }] }))).toEqual([]);
  });
  it("refuses a backend that publishes a port", async () => {
    expect(await check(p, withProps({ ports: [{ internal: 8000, external: 8000 }] }))).toEqual(["Container c (backend) publishes host port 8000; only the proxy publishes ports."]);
  });
  it("refuses a container without a role that publishes a port", async () => {
    expect(await check(p, withProps({ labels: [], ports: [{ internal: 3000, external: 3000 }] }))).toEqual(["Container c (no role label) publishes host port 3000; only the proxy publishes ports."]);
  });
  it("lets an admin UI bind the loopback address only", async () => {
    expect(await check(p, withProps({ labels: role("admin"), ports: [{ internal: 80, external: 8081, ip: "127.0.0.1" }] }))).toEqual([]);
    expect(await check(p, withProps({ labels: role("admin"), ports: [{ internal: 80, external: 8081 }] }))).toEqual([
      "Admin UI c publishes port 8081 on every address; bind it to 127.0.0.1 only.",
    ]);
  });
  it("leaves database ports to app-database-port-not-published", async () => {
    expect(await check(p, withProps({ labels: role("database"), ports: [{ internal: 5432, external: 5432 }] }))).toEqual([]);
  });
});

describe("app-volume-protected", () => {
  const p = app.volumeProtected;
  const volume = (opts: Record<string, unknown>) => ({ type: "docker:index/volume:Volume", name: "v", props: {}, opts });
  it("accepts a protected, retained volume", async () => expect(await check(p, volume({ protect: true, retainOnDelete: true }))).toEqual([]));
  it("refuses an unprotected volume", async () => expect(await check(p, volume({ protect: false, retainOnDelete: true }))).toEqual(["Volume v is not protected; set protect: true."]));
  it("refuses a volume not retained on delete, where the runner reports it", async () => {
    expect(await check(p, volume({ protect: true, retainOnDelete: false }))).toEqual(["Volume v is not retained on delete; set retainOnDelete: true."]);
  });
  it("does not guess when the engine does not report retainOnDelete (the Pulumi CLI)", async () => {
    expect(await check(p, volume({ protect: true }))).toEqual([]);
  });
  it("leaves other resources alone", async () => expect(await check(p, { type: CONTAINER, props: {}, opts: { protect: false } })).toEqual([]));
});

describe("app-container-secret-env", () => {
  const p = app.secretEnv;
  const secretOpts = { additionalSecretOutputs: ["envs"] };
  it("accepts plain settings without marking", async () => expect(await check(p, { props: compliant() })).toEqual([]));
  it("accepts secret variables when envs are kept secret", async () => {
    expect(await check(p, { props: { envs: ["JWT_SECRET=abc", "DATABASE_URL=postgresql://u:p@db:5432/x"] }, opts: secretOpts })).toEqual([]);
  });
  it("refuses secret variables in a container that does not keep envs secret, naming only the variables", async () => {
    const messages = await check(p, { props: { envs: ["JWT_SECRET=abc", "STRIPE_SECRET_KEY=sk", "NODE_ENV=production"] } });
    expect(messages).toEqual([
      'Container c passes secret variables JWT_SECRET, STRIPE_SECRET_KEY but does not keep envs secret; add "envs" to additionalSecretOutputs and pass the values as Pulumi secrets.',
    ]);
    expect(messages.join()).not.toContain("abc");
  });
  it("treats a URL with credentials as a secret, and a SQLite URL as plain", async () => {
    expect(await check(p, { props: { envs: ["DATABASE_URL=postgresql://u:p@db:5432/x"] } })).toHaveLength(1);
    expect(await check(p, { props: { envs: ["DATABASE_URL=sqlite:////app/data/handwork_marketplace.db"] } })).toEqual([]);
  });
  it("follows the configured name patterns", async () => {
    expect(await check(p, { props: { envs: ["ALGORAND_MNEMONIC=a b c"] } })).toEqual([]);
    expect(await check(p, { props: { envs: ["ALGORAND_MNEMONIC=a b c"] } }, { secretNamePatterns: ["MNEMONIC"] })).toHaveLength(1);
  });
});

describe("app-database-port-not-published", () => {
  const p = app.databasePortNotPublished;
  const IMAGE = "docker:index/remoteImage:RemoteImage";
  it("accepts databases without ports", async () => {
    const resources = stack([
      { name: "pg-image", type: IMAGE, props: { name: "postgres:16.4-alpine" } },
      { name: "db", type: CONTAINER, props: { labels: [{ label: "runbook.role", value: "database" }] }, deps: ["pg-image"] },
    ]);
    expect(await checkStack(p, resources)).toEqual([]);
  });
  it("refuses a database container (by role) that publishes a port", async () => {
    const resources = stack([{ name: "db", type: CONTAINER, props: { labels: [{ label: "runbook.role", value: "database" }], ports: [{ internal: 5432, external: 5432 }] } }]);
    expect(await checkStack(p, resources)).toEqual(["Database or cache container db publishes 5432->5432 on the host; remove its ports."]);
  });
  it("recognises a cache by the image it runs, even without a role label", async () => {
    const resources = stack([
      { name: "redis-image", type: IMAGE, props: { name: "redis:7.4-alpine" } },
      { name: "cache", type: CONTAINER, props: { ports: [{ internal: 6379, external: 6379, ip: "0.0.0.0" }] }, deps: ["redis-image"] },
    ]);
    expect(await checkStack(p, resources)).toEqual(["Database or cache container cache publishes 0.0.0.0:6379->6379 on the host; remove its ports."]);
  });
  it("leaves other containers to app-host-port-proxy-only", async () => {
    const resources = stack([
      { name: "be-image", type: IMAGE, props: { name: "ghcr.io/x/backend:1" } },
      { name: "be", type: CONTAINER, props: { ports: [{ internal: 8000, external: 8000 }] }, deps: ["be-image"] },
    ]);
    expect(await checkStack(p, resources)).toEqual([]);
  });
});

describe("app-deploy-steps-ordered", () => {
  const p = app.deployStepsOrdered;
  const CMD = "command:remote:Command";
  const role = (value: string) => ({ labels: [{ label: "runbook.role", value }] });
  const containers = ["lms-db", "lms-backend-0", "lms-worker-rq-0", "lms-frontend", "lms-proxy"];
  const appStack = (overrides: Record<string, { deps?: string[] } | null> = {}) => {
    const base: Record<string, { type: string; props?: Record<string, unknown>; deps?: string[] }> = {
      "lms-db": { type: CONTAINER, props: role("database") },
      "lms-migrate": { type: CMD, deps: ["lms-db"] },
      "lms-backend-0": { type: CONTAINER, props: role("backend"), deps: ["lms-db", "lms-migrate"] },
      "lms-worker-rq-0": { type: CONTAINER, props: role("worker"), deps: ["lms-migrate"] },
      "lms-frontend": { type: CONTAINER, props: role("frontend") },
      "lms-proxy": { type: CONTAINER, props: role("proxy") },
      "lms-proxy-config": { type: CMD, deps: ["lms-proxy", "lms-backend-0", "lms-frontend"] },
      "lms-health-gate": { type: CMD, deps: ["lms-proxy-config", ...containers] },
    };
    const entries = Object.entries(base)
      .filter(([name]) => overrides[name] !== null)
      .map(([name, e]) => ({ name, ...e, ...(overrides[name] ?? {}), parent: "lms" }));
    return stack([{ name: "lms", type: "runbook:app:AppStack" }, ...entries]);
  };
  it("accepts migrations before replicas, the proxy config after its upstreams, and the health gate after everything", async () =>
    expect(await checkStack(p, appStack())).toEqual([]));
  it("refuses a replica that does not wait for migrations", async () => {
    expect(await checkStack(p, appStack({ "lms-backend-0": { deps: ["lms-db"] } }))).toEqual([
      "App lms: lms-backend-0 does not wait for lms-migrate; a replica must start only after migrations.",
    ]);
  });
  it("refuses a worker that does not wait for migrations", async () => {
    expect(await checkStack(p, appStack({ "lms-worker-rq-0": { deps: [] } }))).toEqual([
      "App lms: lms-worker-rq-0 does not wait for lms-migrate; a replica must start only after migrations.",
    ]);
  });
  it("refuses migrations that do not wait for the database", async () => {
    expect(await checkStack(p, appStack({ "lms-migrate": { deps: [] } }))).toEqual(["App lms: lms-migrate does not wait for lms-db; migrations need a healthy database."]);
  });
  it("refuses a proxy config that does not wait for the frontend it names (a frontend-only release)", async () => {
    expect(await checkStack(p, appStack({ "lms-proxy-config": { deps: ["lms-proxy", "lms-backend-0"] } }))).toEqual([
      "App lms: lms-proxy-config does not wait for lms-frontend; the proxy must be pointed at a container only once it is healthy.",
    ]);
  });
  it("refuses an app without a health gate", async () => {
    expect(await checkStack(p, appStack({ "lms-health-gate": null }))).toEqual([
      "App lms has no health gate; add a deploy step that polls the health endpoints through the proxy.",
    ]);
  });
  it("refuses a health gate that does not run after the proxy", async () => {
    expect(await checkStack(p, appStack({ "lms-health-gate": { deps: ["lms-proxy-config", "lms-db", "lms-backend-0", "lms-worker-rq-0", "lms-frontend"] } }))).toEqual([
      "App lms: lms-health-gate does not run after lms-proxy; the health gate must poll through the proxy.",
    ]);
  });
  it("refuses a health gate that does not follow a change to a worker", async () => {
    expect(await checkStack(p, appStack({ "lms-health-gate": { deps: ["lms-proxy-config", "lms-db", "lms-backend-0", "lms-frontend", "lms-proxy"] } }))).toEqual([
      "App lms: lms-health-gate does not run after lms-worker-rq-0; the health gate must follow every change to the app.",
    ]);
  });
  it("accepts an app without migrations (FDTS names none)", async () => {
    expect(await checkStack(p, appStack({ "lms-migrate": null, "lms-backend-0": { deps: [] }, "lms-worker-rq-0": { deps: [] } }))).toEqual([]);
  });
});
