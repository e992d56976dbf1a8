/** Helpers for tests that run real tools (nginx, shellcheck, openssl) on generated files. */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
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
export async function startBackend(name: string): Promise<TestServer> {
  let hits = 0;
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    hits += 1;
    const body = JSON.stringify({ backend: name, path: req.url, padding: "x".repeat(1024) });
    res.writeHead(200, { "content-type": "application/json", "x-backend": name });
    res.end(body);
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
