/** Helpers for tests that run real tools (nginx, shellcheck, openssl) on generated files. */
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

/** Where a Debian tool lives, or undefined. CI installs them; a test names what it is missing. */
export function tool(name: string): string | undefined {
  for (const dir of ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]) {
    const p = path.join(dir, name);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

export function requireTool(name: string): string {
  const p = tool(name);
  if (!p) throw new Error(`${name} is not installed: run \`bash .ci/run\` or apt-get install the package that ships it`);
  return p;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

/** A free TCP port on 127.0.0.1, picked by the kernel. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface TestServer {
  readonly port: number;
  readonly hits: () => number;
  close(): Promise<void>;
}

/** A small HTTP backend on 127.0.0.1 that answers 200 with its name and a JSON body. */
export function startBackend(name: string): Promise<TestServer> {
  return startServer((req, res) => {
    const body = JSON.stringify({ backend: name, path: req.url, padding: "x".repeat(1024) });
    res.writeHead(200, { "content-type": "application/json", "x-backend": name });
    res.end(body);
  });
}

/** An HTTP server on 127.0.0.1 with the given handler; `hits` counts its requests. */
export async function startServer(handler: http.RequestListener): Promise<TestServer> {
  let hits = 0;
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    hits += 1;
    handler(req, res);
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface HttpResult {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export function get(port: number, urlPath: string, headers: Record<string, string> = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: urlPath, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("latin1") }));
    });
    req.setTimeout(5000, () => req.destroy(new Error(`GET ${urlPath} timed out`)));
    req.on("error", reject);
  });
}

export interface RunningNginx {
  readonly port: number;
  stop(): Promise<void>;
}

/** Starts nginx in the foreground with a rendered config, and waits until it answers. */
export async function startNginx(configText: string, port: number, dir: string): Promise<RunningNginx> {
  const nginx = requireTool("nginx");
  const conf = path.join(dir, `nginx-${port}.conf`);
  fs.writeFileSync(conf, configText);
  const proc: ChildProcess = spawn(nginx, ["-c", conf, "-p", dir, "-g", "daemon off;"], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  proc.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`nginx exited ${proc.exitCode}: ${stderr}`);
    try {
      await get(port, "/nginx-health");
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`nginx did not answer on 127.0.0.1:${port}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once("exit", () => resolve());
        proc.kill("SIGQUIT");
      }),
  };
}

/** `nginx -t` on a config text; returns exit status and output. */
export function nginxTest(configText: string, dir: string, file = "nginx.conf"): { status: number | null; output: string } {
  const conf = path.join(dir, file);
  fs.writeFileSync(conf, configText);
  const res = spawnSync(requireTool("nginx"), ["-t", "-c", conf, "-p", dir], { encoding: "utf8" });
  return { status: res.status, output: `${res.stdout}${res.stderr}` };
}

/** A self-signed certificate for 127.0.0.1, made with openssl. */
export function selfSignedCertificate(dir: string): { certificate: string; key: string } {
  const certificate = path.join(dir, "fullchain.pem");
  const key = path.join(dir, "privkey.pem");
  const res = spawnSync(
    requireTool("openssl"),
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "1", "-subj", "/CN=127.0.0.1"],
    { encoding: "utf8" },
  );
  if (res.status !== 0) throw new Error(`openssl failed: ${res.stderr}`);
  return { certificate, key };
}

export interface LoopResult {
  readonly total: number;
  readonly failed: number;
  /** What failed, first few: a network error or a status the caller did not expect. */
  readonly failures: readonly string[];
  /** Which backend (x-backend header) answered, in order. */
  readonly answeredBy: readonly string[];
}

/**
 * Requests `paths` in a loop from `workers` concurrent clients, each request on a new connection,
 * until `stop()` is called or `maxRequests` is reached (bounded: never runs away).
 * `ok(path, status)` decides which statuses count as served.
 */
export function requestLoop(port: number, paths: readonly string[], ok: (path: string, status: number) => boolean, workers = 4, maxRequests = 20_000) {
  let stopped = false;
  let total = 0;
  const failures: string[] = [];
  const answeredBy: string[] = [];
  const worker = async (w: number) => {
    for (let i = 0; !stopped && total < maxRequests; i++) {
      const p = paths[(i + w) % paths.length]!;
      total += 1;
      try {
        const r = await get(port, p);
        if (!ok(p, r.status)) failures.push(`${p}: ${r.status}`);
        const by = r.headers["x-backend"];
        if (typeof by === "string") answeredBy.push(by);
      } catch (err) {
        failures.push(`${p}: ${(err as Error).message}`);
      }
    }
  };
  const done = Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));
  return {
    stop: async (): Promise<LoopResult> => {
      stopped = true;
      await done;
      return { total, failed: failures.length, failures: failures.slice(0, 10), answeredBy };
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Stops a process and waits for it to exit (SIGKILL after 10 s): a server killed without waiting
 * may still be writing its data directory (Alertmanager's snapshot on shutdown) when the test
 * deletes it, and the rmdir fails with ENOTEMPTY.
 */
export async function stopProcess(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => p.once("exit", () => resolve()));
  p.kill("SIGTERM");
  await Promise.race([exited, sleep(10_000).then(() => p.kill("SIGKILL"))]);
  await exited;
}

export interface ScriptResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a rendered sh script asynchronously (servers of the test process must keep answering while
 * it runs), with `stdin` on its standard input and `env` added to the environment.
 */
export function runScript(script: string, stdin = "", env: Record<string, string> = {}): Promise<ScriptResult> {
  return new Promise((resolve) => {
    const child = execFile(requireTool("sh"), ["-c", script], { timeout: 60_000, env: { ...process.env, ...env } }, (err, stdout, stderr) =>
      resolve({ status: err ? Number((err as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
    child.stdin!.end(stdin);
  });
}
