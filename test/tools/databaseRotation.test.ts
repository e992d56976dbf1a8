/**
 * Alternating users end to end on a real PostgreSQL on 127.0.0.1, for every PostgreSQL app of the
 * prod stack. The program runs under mocks whose random values behave like @pulumi/random's (a new
 * value exactly when the keepers change); the database role step it renders (script and stdin) and
 * the DATABASE_URL it gives the backends are what runs here. A client loop keeps opening new
 * connections with the app's credential while the step runs and while the app switches to the new
 * one: no connection may fail. The previous credential works until the next rotation, and an
 * incident rotation (generation bump) refuses both old credentials at once.
 */
import { execFile, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { windowStart } from "../../components/secrets/rotationWindow";
import { PROJECT } from "../../config/defaults";
import { parseStackConfig } from "../../config/resolve";
import type { StackSpec } from "../../config/spec";
import { runUnderMocks, type PlannedResource } from "../../plan/mockRuntime";
import { words } from "../../policies/runbook/rules";
import { isSecretWire, rawStackConfig, keptRandomPasswords } from "../helpers";
import { freePort, requireTool, runScript, sleep, tempDir } from "./realTools";

/** The newest PostgreSQL server Debian's `postgresql` package installed. */
function postgresBin(): string {
  const root = "/usr/lib/postgresql";
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, "bin", "initdb"))).sort((a, b) => Number(b) - Number(a)) : [];
  if (versions.length === 0) throw new Error("PostgreSQL is not installed: run `bash .ci/run` or `apt-get install postgresql`");
  return path.join(root, versions[0]!, "bin");
}

const DAY = 86_400_000;
const T0 = windowStart(12, 90) + 45 * DAY;
const CLOCKS = { w0: [T0, 0], w1: [T0 + 90 * DAY, 0], w2: [T0 + 180 * DAY, 0], incident: [T0 + 180 * DAY, 1] } as const;
type Clock = keyof typeof CLOCKS;

/** @pulumi/random as the provider behaves (test/helpers.ts). */
const { mocks: providerMocks } = keptRandomPasswords();

const unwrap = (v: unknown): unknown => (isSecretWire(v) ? (v as { value: unknown }).value : v);
const specAt = (now: number, bump: number): StackSpec => {
  const spec = parseStackConfig(rawStackConfig("prod"), PROJECT, { now });
  return { ...spec, apps: spec.apps.map((a) => ({ ...a, rotation: { ...a.rotation, generation: a.rotation.generation + bump } })) };
};
const apps = specAt(T0, 0).apps.filter((a) => a.database.engine === "postgres");
const runs = {} as Record<Clock, readonly PlannedResource[]>;

let dir = "";
let port = 0;
let bin = "";
const env = () => ({ PGHOST: dir, PGPORT: String(port) });
const asPostgres = (cmd: string, args: string[]) => spawnSync("runuser", ["-u", "postgres", "--", path.join(bin, cmd), ...args], { encoding: "utf8", timeout: 60_000 });

beforeAll(async () => {
  bin = postgresBin();
  for (const [clock, [now, bump]] of Object.entries(CLOCKS)) runs[clock as Clock] = (await runUnderMocks(specAt(now, bump), "prod", undefined, { mocks: providerMocks })).resources;
  dir = tempDir("pg-rotation");
  fs.chmodSync(dir, 0o755);
  spawnSync("chown", ["postgres:postgres", dir]);
  port = await freePort();
  const init = asPostgres("initdb", ["-D", path.join(dir, "data"), "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256"]);
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const start = asPostgres("pg_ctl", ["-D", path.join(dir, "data"), "-l", path.join(dir, "server.log"), "-o", `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir}`, "-w", "-t", "30", "start"]);
  if (start.status !== 0) throw new Error(`PostgreSQL did not start: ${start.stderr}${fs.existsSync(path.join(dir, "server.log")) ? fs.readFileSync(path.join(dir, "server.log"), "utf8") : ""}`);
  // What the postgres image's init does for each app: the owner, a superuser with POSTGRES_PASSWORD, and its database.
  for (const app of apps) {
    if (app.database.engine !== "postgres") continue;
    const db = runs.w0.find((r) => r.name === `${app.id}-db`)!;
    const bootstrap = String((db.wireInputs["envs"] as unknown[]).map(unwrap).find((e) => String(e).startsWith("POSTGRES_PASSWORD="))).slice("POSTGRES_PASSWORD=".length);
    const sql = `CREATE ROLE "${app.database.user}" WITH SUPERUSER LOGIN PASSWORD '${bootstrap}';\nCREATE DATABASE "${app.database.database}" OWNER "${app.database.user}";\n`;
    const res = spawnSync(requireTool("psql"), ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-U", "postgres", "-d", "postgres"], { input: sql, encoding: "utf8", env: { ...process.env, ...env() } });
    if (res.status !== 0) throw new Error(`creating ${app.id}'s owner failed: ${res.stderr}`);
  }
}, 120_000);

afterAll(() => {
  if (bin && dir) asPostgres("pg_ctl", ["-D", path.join(dir, "data"), "-m", "immediate", "-w", "-t", "30", "stop"]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** One app at one clock: the role step as rendered, and the credential the new backends get. */
function release(clock: Clock, id: string) {
  const resources = runs[clock];
  const step = resources.find((r) => r.name === `${id}-db-roles-rotate`)!;
  const argv = words(String(unwrap(step.wireInputs["create"])));
  expect(argv.slice(0, 3)).toEqual(["docker", "exec", "-i"]);
  expect(argv.slice(4, 6)).toEqual(["sh", "-c"]);
  // Only Docker's DNS resolves the database's alias `db`; here the server is 127.0.0.1.
  const script = argv[6]!;
  expect(script.split(" -h db ").length, "the script tests the credential once, on the database's alias").toBe(2);
  const backend = resources.find((r) => r.name === `${id}-backend-0`)!;
  const url = new URL(String((backend.wireInputs["envs"] as unknown[]).map(unwrap).find((e) => String(e).startsWith("DATABASE_URL="))).slice("DATABASE_URL=".length));
  const lock = resources.find((r) => r.name === `${id}-db-owner-lock-step`)!;
  return {
    script: script.replace(" -h db ", " -h 127.0.0.1 "),
    stdin: String(unwrap(step.wireInputs["stdin"])),
    credential: { user: url.username, password: url.password, database: url.pathname.slice(1) },
    lock: { argv: words(String(unwrap(lock.wireInputs["create"]))).slice(4), stdin: String(unwrap(lock.wireInputs["stdin"])) },
  };
}
type Credential = ReturnType<typeof release>["credential"];

/** Opens one new connection with a credential over TCP: what a backend does when its pool grows. */
function connect(c: Credential): Promise<{ ok: boolean; error: string }> {
  return new Promise((resolve) => {
    execFile(requireTool("psql"), ["-X", "-q", "-h", "127.0.0.1", "-p", String(port), "-U", c.user, "-d", c.database, "-c", "SELECT 1"], { env: { ...process.env, PGPASSWORD: c.password, PGCONNECT_TIMEOUT: "5" }, timeout: 10_000 }, (err, _out, stderr) =>
      resolve({ ok: !err, error: stderr.trim() }),
    );
  });
}

/** New connections in a loop from two clients with whatever credential `current()` gives, until stopped (bounded). */
function connectionLoop(current: () => Credential) {
  let stopped = false;
  let total = 0;
  const failures: string[] = [];
  const worker = async () => {
    while (!stopped && total < 20_000) {
      total += 1;
      const r = await connect(current());
      if (!r.ok) failures.push(r.error);
    }
  };
  const done = Promise.all([worker(), worker()]);
  return {
    count: () => total,
    /** Resolves once `n` more connections have been opened (bounded by 30 s). */
    async after(n: number) {
      const target = total + n;
      const deadline = Date.now() + 30_000;
      while (total < target && Date.now() < deadline) await sleep(20);
    },
    async stop() {
      stopped = true;
      await done;
      return { total, failed: failures.length, failures: failures.slice(0, 5) };
    },
  };
}

const runStep = (r: ReturnType<typeof release>) => runScript(r.script, r.stdin, env());

describe.each(apps.map((a) => [a.id] as const))("alternating database users of %s on a real PostgreSQL", (id) => {
  it("passes shellcheck", () => {
    const res = spawnSync(requireTool("shellcheck"), ["--shell=sh", "--severity=style", "-"], { input: release("w0", id).script, encoding: "utf8" });
    expect(res.stdout).toBe("");
    expect(res.status).toBe(0);
  });

  it("rotates with zero failed connections: the new credential works, the previous one until the next rotation, then never; an incident refuses both old ones at once", async () => {
    const w0 = release("w0", id);
    const first = await runStep(w0);
    expect(first.stderr, first.stdout).toBe("");
    expect(first.status).toBe(0);
    expect(first.stdout).toContain(`database roles: ${w0.credential.user} active`);
    // Once the release is healthy the owner keeps no password: the bootstrap credential stops working.
    const lock = spawnSync(w0.lock.argv[0]!, w0.lock.argv.slice(1), { input: w0.lock.stdin, encoding: "utf8", env: { ...process.env, ...env() } });
    expect(lock.status, lock.stderr).toBe(0);
    const db = runs.w0.find((r) => r.name === `${id}-db`)!;
    const bootstrap = String((db.wireInputs["envs"] as unknown[]).map(unwrap).find((e) => String(e).startsWith("POSTGRES_PASSWORD="))).slice("POSTGRES_PASSWORD=".length);
    const owner = apps.find((a) => a.id === id)!.database;
    expect(owner.engine === "postgres" && (await connect({ user: owner.user, password: bootstrap, database: owner.database })).ok).toBe(false);

    let current = w0.credential;
    const counts: string[] = [];
    for (const [from, to] of [["w0", "w1"], ["w1", "w2"]] as const) {
      const next = release(to, id);
      expect(next.credential.user, `${to} switches to the other role`).not.toBe(release(from, id).credential.user);
      const loop = connectionLoop(() => current);
      await loop.after(5);
      const during = loop.count();
      const step = await runStep(next); // the rotation step, while the running app keeps connecting
      expect(step.stderr, step.stdout).toBe("");
      expect(step.status).toBe(0);
      await loop.after(5);
      const duringStep = loop.count() - during;
      current = next.credential; // the switch: the new backends connect with the new role
      await loop.after(10);
      const result = await loop.stop();
      counts.push(`${from}->${to}: ${result.total} connections (${duringStep} while the step ran), ${result.failed} failed`);
      expect(result.failures).toEqual([]);
      expect(result.failed).toBe(0);
      expect((await connect(next.credential)).ok, `${to}: the new credential connects`).toBe(true);
      expect((await connect(release(from, id).credential)).ok, `${to}: the previous credential still connects`).toBe(true);
    }
    // After the next rotation, the credential of two windows ago is refused.
    expect((await connect(w0.credential)).ok, "w0's credential after w2").toBe(false);

    // Incident: a generation bump gives both roles new passwords at once.
    const incident = release("incident", id);
    const olds = [release("w1", id).credential, release("w2", id).credential];
    const step = await runStep(incident);
    expect(step.status, step.stderr).toBe(0);
    const after = await Promise.all(olds.map(connect));
    expect(after.map((r) => r.ok)).toEqual([false, false]);
    for (const r of after) expect(r.error).toMatch(/password authentication failed/);
    expect((await connect(incident.credential)).ok).toBe(true);
    console.log(`database rotation of ${id} on PostgreSQL: ${counts.join("; ")}; incident: both old credentials refused`);
  }, 120_000);
});
