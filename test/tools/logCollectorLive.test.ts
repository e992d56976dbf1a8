/**
 * The log collector for real, on this machine: Debian's rsyslogd (the version the collector's image
 * pins) runs the rsyslog.conf rendered for FairLens on container logs laid out and written as Docker's
 * json-file driver writes them (`<id>/<id>-json.log`, one JSON object per line), with the inputs the
 * rendered deploy step writes from a recording `docker` stand-in's answers. The store must hold every
 * line of the app's containers exactly once, per service and day, through Docker's rotation, a
 * collector restart and a release; the forward must deliver every line to a second rsyslogd over TLS,
 * also when that receiver was down, and deliver nothing to a receiver whose certificate names
 * another host. Receivers listen on 127.0.0.1 on ports picked here; every process is stopped.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { LOG_COLLECTOR, renderCollectorConfig, renderCollectorStart, renderInputsScript } from "../../components/logging/collectorConfig";
import { dockerStandIn, type StandInContainer, type StandInFixture } from "./dockerStandIn";
import { freePort, requireTool, sleep, stopProcess, tempDir } from "./realTools";

const rsyslogd = requireTool("rsyslogd");
const openssl = requireTool("openssl");
const running = new Set<ChildProcess>();

const hex = (c: string) => c.repeat(64);
const labels = (service: string, app = "fairlens") => ({ "runbook.app": app, "runbook.environment": "prod", "runbook.service": service });
const container = (id: string, name: string, service: string, app?: string): StandInContainer => ({ id, name, labels: labels(service, app), image: "x", imageId: "sha256:x" });

/** One collector's world: Docker's containers directory, the store, the rendered config and the inputs step. */
function setup(name: string, forward?: { port: number; ca: string; serverName: string }) {
  const dir = tempDir(`log-collector-${name}`);
  const paths = { containers: path.join(dir, "containers"), store: path.join(dir, "store"), inputsFile: "", config: path.join(dir, "rsyslog.conf"), pid: path.join(dir, "rsyslogd.pid") };
  // Where the collector keeps its list, relative to the store as in the container (a new container keeps only the store).
  paths.inputsFile = path.join(paths.store, path.relative(LOG_COLLECTOR.store, LOG_COLLECTOR.inputsFile));
  fs.mkdirSync(path.join(paths.store, ".rsyslog"), { recursive: true });
  fs.mkdirSync(paths.containers);
  fs.writeFileSync(
    paths.config,
    renderCollectorConfig({
      appId: "fairlens",
      environment: "prod",
      ...(forward && { forward: { address: "127.0.0.1", port: forward.port, caCertificate: fs.readFileSync(forward.ca, "utf8"), serverName: forward.serverName } }),
      paths: { store: paths.store, inputsFile: paths.inputsFile, ...(forward && { caFile: forward.ca }) },
    }),
  );
  const script = path.join(dir, "inputs.sh");
  fs.writeFileSync(script, renderInputsScript({ appId: "fairlens", environment: "prod", collector: "fairlens-logs-collector-9f8e7d6", dockerContainers: paths.containers, inputsFile: paths.inputsFile, configFile: paths.config }));
  const docker = dockerStandIn(dir, { containers: [] });
  let collector: ChildProcess | undefined;
  const world = {
    dir,
    paths,
    docker,
    /** Runs the inputs step against the containers Docker would list now. */
    inputsStep(containers: readonly StandInContainer[]) {
      fs.writeFileSync(docker.env["DOCKER_STANDIN_FIXTURE"]!, JSON.stringify({ containers } satisfies StandInFixture));
      return spawnSync("sh", [script], { env: { ...process.env, ...docker.env }, encoding: "utf8" });
    },
    /** The container's command, with this world's paths; `ownPidInPidFile`: the pid file already names the pid rsyslogd gets. */
    start(ownPidInPidFile = false) {
      const start = renderCollectorStart({ store: paths.store, configFile: paths.config, pidFile: paths.pid, inputsFile: paths.inputsFile });
      const args = ownPidInPidFile ? ["-c", 'echo $$ > "$1"; exec /bin/sh -c "$2"', "sh", paths.pid, start] : ["-c", start];
      collector = spawn("/bin/sh", args, { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, PATH: `${path.dirname(rsyslogd)}:${process.env["PATH"] ?? ""}` } });
      running.add(collector);
    },
    async stop() {
      if (collector) await stop(collector);
      collector = undefined;
    },
    /** As an OOM kill or a host crash stops it: no chance to write anything on the way out. */
    async kill() {
      if (collector) {
        const exited = new Promise<void>((resolve) => collector!.once("exit", () => resolve()));
        collector.kill("SIGKILL");
        await exited;
        running.delete(collector);
      }
      collector = undefined;
    },
    /** Stops it and starts it again, returning once rsyslogd has written its pid file (it is running). */
    async restart() {
      await world.stop();
      world.start();
      await until("rsyslogd running", 10, () => fs.existsSync(paths.pid), (e) => e);
    },
    /** The json-file log of container `id`, as Docker lays it out. */
    logFile: (id: string) => path.join(paths.containers, id, `${id}-json.log`),
    write(id: string, lines: readonly (readonly [stream: "stdout" | "stderr", text: string, time: string])[]) {
      const file = world.logFile(id);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.appendFileSync(file, lines.map(([stream, text, time]) => `${JSON.stringify({ log: `${text}\n`, stream, time })}\n`).join(""));
    },
    /** Docker's rotation: the file renamed to `.1` (the older `.1` to `.2`), a new file started. */
    rotate(id: string) {
      const file = world.logFile(id);
      if (fs.existsSync(`${file}.1`)) fs.renameSync(`${file}.1`, `${file}.2`);
      fs.renameSync(file, `${file}.1`);
      fs.writeFileSync(file, "");
    },
    /** Docker's json-file with max-file 1: no rename, the same file truncated and written again. */
    truncate(id: string) {
      fs.truncateSync(world.logFile(id), 0);
    },
    stored: (service: string, day: string) => {
      const file = path.join(paths.store, service, `${day}.log`);
      return fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
    },
  };
  return world;
}

async function stop(p: ChildProcess): Promise<void> {
  await stopProcess(p);
  running.delete(p);
}

async function until<T>(what: string, seconds: number, value: () => T, done: (v: T) => boolean): Promise<T> {
  const started = Date.now();
  for (;;) {
    const v = value();
    if (done(v)) return v;
    if (Date.now() - started > seconds * 1000) throw new Error(`${what}: not within ${seconds} s (last: ${JSON.stringify(v).slice(0, 500)})`);
    await sleep(200);
  }
}

/** `n` numbered lines from `from`, one millisecond apart, on 2026-11-26 (UTC). */
const numbered = (from: number, n: number, prefix = "line") =>
  Array.from({ length: n }, (_, i) => ["stdout", `${prefix} ${from + i}`, new Date(Date.UTC(2026, 10, 26, 10, 0, 0, from + i)).toISOString()] as const);

afterEach(async () => {
  for (const p of [...running]) await stop(p);
});
afterAll(async () => {
  for (const p of [...running]) await stop(p);
});

const BACKEND = container(hex("a"), "fairlens-backend-1-1a2b3c4", "backend");
const DATABASE = container(hex("b"), "fairlens-db-5e6f7a8", "database");
const OLD_BACKEND = container(hex("c"), "fairlens-backend-1-0f0f0f0", "backend");
const OTHER_APP = container(hex("d"), "handwork-backend-1-2b3c4d5", "backend", "handwork");
const SELF = container(hex("e"), "fairlens-logs-collector-9f8e7d6", "logging:collector");
const PROMETHEUS = container(hex("f"), "fairlens-monitoring-prometheus-3c4d5e6", "monitoring:prometheus");

describe("the log collector's inputs step, with a recording docker stand-in", () => {
  it("follows every json-file log of the app's containers (the outgoing release's too), never another app's or its own, and restarts the collector", () => {
    const w = setup("inputs");
    const r = w.inputsStep([BACKEND, OLD_BACKEND, DATABASE, OTHER_APP, SELF, PROMETHEUS, { ...container(hex("1"), "fairlens-worker-rq-7a8b9c0", "worker:rq"), logDriver: "syslog" }]);
    expect(r.status, r.stderr).toBe(0);
    const inputs = fs.readFileSync(w.paths.inputsFile, "utf8").trim().split("\n");
    const followed = inputs.map((l) => /file="([^"]+)" tag="([^"]+)"/.exec(l)!.slice(1));
    expect(followed).toEqual([
      [w.logFile(hex("a")), "backend/fairlens-backend-1-1a2b3c4"],
      [w.logFile(hex("c")), "backend/fairlens-backend-1-0f0f0f0"],
      [w.logFile(hex("b")), "database/fairlens-db-5e6f7a8"],
      [w.logFile(hex("f")), "monitoring-prometheus/fairlens-monitoring-prometheus-3c4d5e6"],
    ]);
    for (const line of inputs) expect(line).toContain('persistStateAfterSubmission="on" reopenOnTruncate="on"');
    expect(r.stderr).toContain("fairlens-worker-rq-7a8b9c0 logs with syslog, not json-file: not collected");
    expect(r.stdout).toContain("fairlens: log collector follows 4 container log(s)");
    const calls = w.docker.calls();
    expect(calls.find((c) => c[0] === "ps")).toEqual(expect.arrayContaining(["label=runbook.app=fairlens", "label=runbook.environment=prod"]));
    expect(calls.at(-1)).toEqual(["restart", "-t", "30", "fairlens-logs-collector-9f8e7d6"]);
  });

  it("fails, leaving the collector's list as it was, when no container of the app is found", () => {
    const w = setup("inputs-none");
    expect(w.inputsStep([BACKEND]).status).toBe(0);
    const before = fs.readFileSync(w.paths.inputsFile, "utf8");
    const r = w.inputsStep([OTHER_APP, SELF]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("no container of fairlens (prod) logs with json-file on this host");
    expect(fs.readFileSync(w.paths.inputsFile, "utf8")).toBe(before);
    expect(w.docker.calls().filter((c) => c[0] === "restart")).toHaveLength(1);
  });
});

describe("the log collector's store, with a real rsyslogd", () => {
  it("keeps every line of each container once, in one file per service and UTC day, with its time, container and stream, control characters escaped", async () => {
    const w = setup("store");
    expect(w.inputsStep([BACKEND, DATABASE]).status).toBe(0);
    w.start();
    w.write(hex("a"), [
      ["stdout", 'INFO: 10.0.0.7 - "GET /api/v1/health HTTP/1.1" 200 OK', "2026-11-26T23:59:59.999999999Z"],
      ["stderr", "Traceback (most recent call last):", "2026-11-27T00:00:00.000000001Z"],
      ["stderr", '  File "/app/main.py", line 12, in handler \u00fc\u20ac', "2026-11-27T00:00:00.1Z"],
      ["stdout", "colour \u001b[31mred\u001b[0m\ttab", "2026-11-27T00:00:01Z"],
    ]);
    w.write(hex("b"), [["stderr", "LOG:  checkpoint starting: time", "2026-11-26T12:00:00.5Z"]]);
    const day2 = await until("the backend's lines of 27 November", 15, () => w.stored("backend", "2026-11-27"), (l) => l.length >= 3);
    expect(w.stored("backend", "2026-11-26")).toEqual(['2026-11-26T23:59:59.999999999Z fairlens-backend-1-1a2b3c4 stdout INFO: 10.0.0.7 - "GET /api/v1/health HTTP/1.1" 200 OK']);
    expect(day2).toEqual([
      "2026-11-27T00:00:00.000000001Z fairlens-backend-1-1a2b3c4 stderr Traceback (most recent call last):",
      '2026-11-27T00:00:00.1Z fairlens-backend-1-1a2b3c4 stderr   File "/app/main.py", line 12, in handler \u00fc\u20ac',
      "2026-11-27T00:00:01Z fairlens-backend-1-1a2b3c4 stdout colour #027[31mred#027[0m#009tab",
    ]);
    expect(await until("the database's line", 15, () => w.stored("database", "2026-11-26"), (l) => l.length >= 1)).toEqual([
      "2026-11-26T12:00:00.5Z fairlens-db-5e6f7a8 stderr LOG:  checkpoint starting: time",
    ]);
    expect(fs.statSync(path.join(w.paths.store, "backend", "2026-11-27.log")).mode & 0o777).toBe(0o640);
  });

  it("follows Docker's rotation while it keeps up, and resumes after a restart: every line exactly once, in order", async () => {
    const w = setup("rotation");
    w.write(hex("a"), numbered(0, 100));
    expect(w.inputsStep([BACKEND]).status).toBe(0);
    w.start();
    await until("the first 100 lines", 20, () => w.stored("backend", "2026-11-26").length, (n) => n >= 100);
    // Docker rotates once the file is full; the collector has read what was written before (it keeps
    // up: a rotation while it is behind may store the rotated file's unread lines twice, README says).
    w.write(hex("a"), numbered(100, 300));
    await until("400 lines", 20, () => w.stored("backend", "2026-11-26").length, (n) => n >= 400);
    w.rotate(hex("a"));
    w.write(hex("a"), numbered(400, 400));
    await until("the first 800 lines", 20, () => w.stored("backend", "2026-11-26").length, (n) => n >= 800);
    await w.stop();
    // Written while the collector is down (a release restarts it): read from where it stopped.
    w.write(hex("a"), numbered(800, 200));
    w.start();
    w.write(hex("a"), numbered(1000, 100));
    await until("1100 lines", 20, () => w.stored("backend", "2026-11-26").length, (n) => n >= 1100);
    w.rotate(hex("a"));
    w.write(hex("a"), numbered(1100, 100));
    const lines = await until("all 1200 lines", 20, () => w.stored("backend", "2026-11-26"), (l) => l.length >= 1200);
    await sleep(1000);
    expect(w.stored("backend", "2026-11-26").map((l) => l.split(" ").slice(3).join(" "))).toEqual(Array.from({ length: 1200 }, (_, i) => `line ${i}`));
    expect(lines.length).toBe(1200);
  });

  it("the known limit: a rotation while the collector is stopped loses the lines it had not read of the rotated file, and nothing is read twice", async () => {
    const w = setup("rotation-stopped");
    w.write(hex("a"), numbered(0, 100));
    expect(w.inputsStep([BACKEND]).status).toBe(0);
    w.start();
    await until("the first 100 lines", 20, () => w.stored("backend", "2026-11-26").length, (n) => n >= 100);
    await w.stop();
    w.write(hex("a"), numbered(100, 100));
    w.rotate(hex("a"));
    w.write(hex("a"), numbered(200, 100));
    await w.restart();
    await until("200 lines", 20, () => w.stored("backend", "2026-11-26").length, (n) => n >= 200);
    await sleep(1500);
    const expected = [...Array.from({ length: 100 }, (_, i) => `line ${i}`), ...Array.from({ length: 100 }, (_, i) => `line ${200 + i}`)];
    expect(w.stored("backend", "2026-11-26").map((l) => l.split(" ").slice(3).join(" "))).toEqual(expected);
  });

  it("after a kill (an OOM kill, a crash), resumes where it stopped instead of reading the whole log again", async () => {
    const w = setup("killed");
    w.write(hex("a"), numbered(0, 200));
    expect(w.inputsStep([BACKEND]).status).toBe(0);
    w.start();
    await until("200 lines", 20, () => w.stored("backend", "2026-11-26").length, (n) => n >= 200);
    await w.kill();
    w.write(hex("a"), numbered(200, 100));
    w.start();
    await until("300 lines", 20, () => w.stored("backend", "2026-11-26").length, (n) => n >= 300);
    await sleep(1500);
    expect(w.stored("backend", "2026-11-26").map((l) => l.split(" ").slice(3).join(" "))).toEqual(Array.from({ length: 300 }, (_, i) => `line ${i}`));
  });

  it("starts again after a kill left its pid file naming the pid it gets (PID 1 in the restarted container)", async () => {
    const w = setup("stale-pid");
    w.write(hex("a"), numbered(0, 20));
    expect(w.inputsStep([BACKEND]).status).toBe(0);
    w.start(true);
    await until("20 lines", 20, () => w.stored("backend", "2026-11-26").length, (n) => n >= 20);
  });

  it("follows a log Docker truncates in place (logRotation.maxFile 1) from its new start", async () => {
    const w = setup("truncated");
    w.write(hex("a"), numbered(0, 100));
    expect(w.inputsStep([BACKEND]).status).toBe(0);
    w.start();
    await until("100 lines", 20, () => w.stored("backend", "2026-11-26").length, (n) => n >= 100);
    w.truncate(hex("a"));
    w.write(hex("a"), numbered(100, 50));
    await until("150 lines", 20, () => w.stored("backend", "2026-11-26").length, (n) => n >= 150);
    await sleep(1000);
    expect(w.stored("backend", "2026-11-26").map((l) => l.split(" ").slice(3).join(" "))).toEqual(Array.from({ length: 150 }, (_, i) => `line ${i}`));
  });

  it("a new collector (its container replaced) follows the last list from the store before the step runs again", async () => {
    const w = setup("replaced");
    w.write(hex("a"), numbered(0, 50));
    expect(w.inputsStep([BACKEND]).status).toBe(0);
    w.start();
    await until("50 lines", 20, () => w.stored("backend", "2026-11-26").length, (n) => n >= 50);
    await w.stop();
    // The replacement starts from the image: only the store (the host's directory) carries over.
    w.write(hex("a"), numbered(50, 50));
    w.start();
    await until("100 lines", 20, () => w.stored("backend", "2026-11-26").length, (n) => n >= 100);
    await sleep(1000);
    expect(w.stored("backend", "2026-11-26")).toHaveLength(100);
    expect(w.paths.inputsFile.startsWith(path.join(w.paths.store, ".rsyslog"))).toBe(true);
  });

  it("drops the read positions of logs Docker removed when it restarts, keeps the others' (nothing read twice)", async () => {
    const w = setup("stale-state");
    w.write(hex("a"), numbered(0, 30, "new"));
    w.write(hex("c"), numbered(0, 30, "old"));
    expect(w.inputsStep([BACKEND, OLD_BACKEND]).status).toBe(0);
    w.start();
    await until("60 lines", 20, () => w.stored("backend", "2026-11-26").length, (n) => n >= 60);
    const states = () => fs.readdirSync(path.join(w.paths.store, ".rsyslog")).filter((f) => f.startsWith("imfile-state:")).sort();
    const inode = (id: string) => String(fs.statSync(w.logFile(id)).ino);
    await until("both read positions saved", 10, states, (st) => st.length === 2);
    // The old release's container is removed (its directory with it), then the next release's step runs.
    const oldInode = inode(hex("c"));
    fs.rmSync(path.dirname(w.logFile(hex("c"))), { recursive: true });
    expect(w.inputsStep([BACKEND]).status).toBe(0);
    // The collector restarts (the step restarts it): only the followed log's position is left.
    await w.restart();
    expect(states().map((f) => f.split(":")[1])).toEqual([inode(hex("a"))]);
    expect(states().some((f) => f.split(":")[1] === oldInode)).toBe(false);
    w.write(hex("a"), numbered(30, 10, "new"));
    await until("70 lines", 20, () => w.stored("backend", "2026-11-26").length, (n) => n >= 70);
    await sleep(1000);
    expect(w.stored("backend", "2026-11-26")).toHaveLength(70);
  });

  it("at a release, keeps the outgoing container's last lines and the new one's first lines (written before the step ran)", async () => {
    const w = setup("release");
    expect(w.inputsStep([OLD_BACKEND]).status).toBe(0);
    w.start();
    w.write(hex("c"), numbered(0, 50, "old"));
    await until("the old release's lines", 15, () => w.stored("backend", "2026-11-26").length, (n) => n >= 50);
    // The new release's backend starts and logs before the step (after the health gate) lists it.
    w.write(hex("a"), numbered(0, 30, "new"));
    expect(w.inputsStep([OLD_BACKEND, BACKEND]).status).toBe(0);
    await w.restart();
    // Until Docker removes it, the old backend still serves (the proxy drains it) and logs.
    w.write(hex("c"), numbered(50, 20, "old"));
    w.write(hex("a"), numbered(30, 20, "new"));
    const lines = await until("both containers' lines", 20, () => w.stored("backend", "2026-11-26"), (l) => l.length >= 120);
    await sleep(1000);
    const of = (name: string) => w.stored("backend", "2026-11-26").filter((l) => l.split(" ")[1] === name).map((l) => l.split(" ").slice(3).join(" "));
    expect(of("fairlens-backend-1-0f0f0f0")).toEqual(Array.from({ length: 70 }, (_, i) => `old ${i}`));
    expect(of("fairlens-backend-1-1a2b3c4")).toEqual(Array.from({ length: 50 }, (_, i) => `new ${i}`));
    expect(lines.length).toBe(120);
  });
});

/** A CA and a receiver certificate for `name`, made with openssl. */
function certificates(dir: string, name: string): { ca: string; cert: string; key: string } {
  const f = (n: string) => path.join(dir, n);
  const run = (args: string[]) => {
    const r = spawnSync(openssl, args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`);
  };
  if (!fs.existsSync(f("ca.pem"))) {
    run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f("ca.key"), "-out", f("ca.pem"), "-days", "2", "-subj", "/CN=test logs CA"]);
  }
  const base = name.replace(/\W/g, "_");
  run(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f(`${base}.key`), "-out", f(`${base}.csr`), "-subj", `/CN=${name}`]);
  fs.writeFileSync(f(`${base}.ext`), `subjectAltName=DNS:${name}\n`);
  run(["x509", "-req", "-in", f(`${base}.csr`), "-CA", f("ca.pem"), "-CAkey", f("ca.key"), "-CAcreateserial", "-out", f(`${base}.pem`), "-days", "2", "-extfile", f(`${base}.ext`)]);
  return { ca: f("ca.pem"), cert: f(`${base}.pem`), key: f(`${base}.key`) };
}

/** A central rsyslogd on 127.0.0.1:`port` taking syslog over TLS, writing `<HOSTNAME>/<APP-NAME>.log`. */
function receiver(dir: string, port: number, tls: { ca: string; cert: string; key: string }) {
  const out = path.join(dir, "received");
  fs.mkdirSync(path.join(dir, "receiver-work"), { recursive: true });
  const config = path.join(dir, "receiver.conf");
  fs.writeFileSync(
    config,
    [
      `global(workDirectory="${dir}/receiver-work" defaultNetstreamDriverCAFile="${tls.ca}" defaultNetstreamDriverCertFile="${tls.cert}" defaultNetstreamDriverKeyFile="${tls.key}")`,
      'module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")',
      `input(type="imtcp" address="127.0.0.1" port="${port}")`,
      `template(name="file" type="string" string="${out}/%HOSTNAME%/%APP-NAME%.log")`,
      'template(name="line" type="string" string="%TIMESTAMP:::date-rfc3339% %PROCID% %syslogseverity-text% %msg%\\n")',
      'action(type="omfile" dynaFile="file" template="line")',
    ].join("\n"),
  );
  const p = spawn(rsyslogd, ["-n", "-f", config, "-i", path.join(dir, "receiver.pid")], { stdio: "ignore" });
  running.add(p);
  const received = (service: string) => {
    const file = path.join(out, "fairlens-prod", `${service}.log`);
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
  };
  return { stop: () => stop(p), received };
}

describe("the log collector's forward over TLS, to a real rsyslogd receiver on 127.0.0.1", () => {
  it("delivers every line, as RFC 5424 with the service, container and severity, also those written while the receiver was down and across a collector restart", async () => {
    const port = await freePort();
    const dir = tempDir("log-forward");
    const tls = certificates(dir, "logs.test");
    const w = setup("forward", { port, ca: tls.ca, serverName: "logs.test" });
    expect(w.inputsStep([BACKEND]).status).toBe(0);
    w.start();
    // The receiver is down: the store has them at once, the forward queues them.
    w.write(hex("a"), [...numbered(0, 100), ["stderr", "ERROR payment failed: card_declined", "2026-11-26T10:00:01.123456789Z"]]);
    await until("the store", 15, () => w.stored("backend", "2026-11-26").length, (n) => n >= 101);
    await w.restart();
    w.write(hex("a"), numbered(100, 50));
    const central = receiver(dir, port, tls);
    // The collector retries every 10 s (action.resumeInterval).
    const got = await until("every line at the receiver", 45, () => central.received("backend"), (l) => new Set(l).size >= 151);
    const expected = [
      ...numbered(0, 100).map(([, text, time]) => `${time} fairlens-backend-1-1a2b3c4 info ${text}`),
      "2026-11-26T10:00:01.123456Z fairlens-backend-1-1a2b3c4 err ERROR payment failed: card_declined",
      ...numbered(100, 50).map(([, text, time]) => `${time} fairlens-backend-1-1a2b3c4 info ${text}`),
    ];
    // Here every line arrives (the receiver was down, not dropped mid-stream); a line in flight when a
    // connection drops may come twice, or be lost (plain TCP syslog has no acknowledgements).
    expect([...new Set(got)].sort()).toEqual([...expected].sort());
    await central.stop();
  });

  it("delivers nothing to a receiver whose certificate names another host, and the store still keeps every line", async () => {
    const port = await freePort();
    const dir = tempDir("log-forward-wrong");
    const tls = certificates(dir, "impostor.test");
    const w = setup("forward-wrong", { port, ca: tls.ca, serverName: "logs.test" });
    expect(w.inputsStep([BACKEND]).status).toBe(0);
    const central = receiver(dir, port, tls);
    w.start();
    w.write(hex("a"), numbered(0, 40));
    await until("the store", 15, () => w.stored("backend", "2026-11-26").length, (n) => n >= 40);
    // Long enough for a connection attempt and a retry (every 10 s).
    await sleep(12_000);
    expect(central.received("backend")).toEqual([]);
    expect(w.stored("backend", "2026-11-26")).toHaveLength(40);
    await central.stop();
  });
});
