/**
 * Zero downtime, measured: a real nginx on 127.0.0.1 with the rendered config, a bounded request
 * loop (4 clients, a new connection per request) running while the deploy steps do what they do on
 * a Docker host: deliver a new config with the rendered proxy-config script, or replace the
 * containers behind the proxy in the order the engine runs a create-before-delete replacement
 * (new container healthy, config step reloads nginx onto it, health gate, old one deleted last).
 * Every test prints its figures.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tls from "node:tls";
import { afterAll, describe, expect, it } from "vitest";
import {
  proxyNginxSpec,
  renderBootstrapNginxConfig,
  renderMaintenancePage,
  renderNginxConfig,
  renderProxyConfigScript,
  type NginxConfigSpec,
} from "../../components/app";
import { stackSpec } from "../helpers";
import {
  freePort,
  get,
  nginxTest,
  requestLoop,
  requireTool,
  runScript,
  sleep,
  startBackend,
  startNginx,
  tempDir,
  type RunningNginx,
  type TestServer,
} from "./realTools";
import { spawnSync } from "node:child_process";

const dir = tempDir("proxy-reload");
fs.chmodSync(dir, 0o755);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const app = stackSpec("prod").apps.find((x) => x.id === "fairlens")!;
fs.writeFileSync(path.join(dir, "maintenance.html"), renderMaintenancePage(app.displayName), { mode: 0o644 });

/** The app's config with 127.0.0.1 servers instead of container names, and test-host paths. */
function config(port: number, servers: { backends: TestServer[]; frontend: TestServer }, over: Partial<NginxConfigSpec> = {}): string {
  const spec = proxyNginxSpec({ ...app, proxy: { ...app.proxy, tls: undefined } }, { backends: ["b"], frontends: ["f"] });
  return renderNginxConfig({
    ...spec,
    backendServers: servers.backends.map((s) => `127.0.0.1:${s.port}`),
    frontendServers: [`127.0.0.1:${servers.frontend.port}`],
    rateLimit: { requestsPerSecond: 10_000, burst: 10_000 },
    maintenanceRoot: dir,
    runtime: { user: "", pidFile: path.join(dir, `nginx-${port}.pid`), accessLog: "off", listenAddress: "127.0.0.1" },
    listen: { http: port },
    ...over,
  });
}

/** The rendered proxy-config step, run beside a test nginx (no `docker exec`): the new config on stdin. */
function deliver(port: number, text: string) {
  const script = renderProxyConfigScript({
    appName: app.id,
    exec: [],
    configPath: path.join(dir, `nginx-${port}.conf`),
    nginx: [requireTool("nginx"), "-p", dir],
    pidFile: path.join(dir, `nginx-${port}.pid`),
  });
  return runScript(script, text);
}

/** What the health gate does after the config step: poll through the proxy until `who` answers. */
async function untilServedBy(port: number, urlPath: string, who: string) {
  for (let i = 0; i < 100; i++) {
    const r = await get(port, urlPath);
    if (r.headers["x-backend"] === who) return;
    await sleep(20);
  }
  throw new Error(`${who} never answered ${urlPath}`);
}

describe("the proxy through a release, with requests running", () => {
  const running: (RunningNginx | TestServer)[] = [];
  afterAll(async () => {
    for (const r of running) await ("stop" in r ? r.stop() : r.close());
  });
  const start = async (name: string) => {
    const s = await startBackend(name);
    running.push(s);
    return s;
  };

  it("delivers a new config (maintenance on, then off, six times) with zero failed requests", async () => {
    const servers = { backends: [await start("a"), await start("b")], frontend: await start("fe") };
    const port = await freePort();
    const nginx = await startNginx(config(port, servers), port, dir);
    running.push(nginx);
    // In maintenance, public routes answer 503 with the page by design; health endpoints stay 200.
    const loop = requestLoop(port, ["/healthz", "/api/items", "/"], (p, status) => status === 200 || (status === 503 && p !== "/healthz"));
    let maintenanceSeen = 0;
    for (let i = 0; i < 6; i++) {
      const res = await deliver(port, config(port, servers, { maintenance: i % 2 === 0 }));
      expect(res.status, res.stderr).toBe(0);
      await sleep(150);
      if ((await get(port, "/api/items")).status === 503) maintenanceSeen += 1;
    }
    const result = await loop.stop();
    console.log(`config swap: ${result.total} requests during 6 reloads, ${result.failed} failed`);
    expect(result.failures).toEqual([]);
    expect(result.total).toBeGreaterThan(300);
    expect(maintenanceSeen).toBe(3); // the switch really flipped
  });

  it("refuses a config nginx -t rejects and keeps serving the running one", async () => {
    const servers = { backends: [await start("c")], frontend: await start("fe2") };
    const port = await freePort();
    running.push(await startNginx(config(port, servers), port, dir));
    const res = await deliver(port, "http { this is not nginx }\n");
    expect(res.status).not.toBe(0);
    expect(res.stderr).toContain("proxy config: nginx -t refused the new config for fairlens; the running config is unchanged");
    expect((await get(port, "/api/x")).headers["x-backend"]).toBe("c");
    expect(fs.readFileSync(path.join(dir, `nginx-${port}.conf`), "utf8")).toBe(config(port, servers));
  });

  it("replaces every backend replica create-before-delete with zero failed requests; deleting first fails requests", async () => {
    const frontend = await start("fe3");
    const old = [await start("old-0"), await start("old-1")];
    const port = await freePort();
    running.push(await startNginx(config(port, { backends: old, frontend }), port, dir));
    const loop = requestLoop(port, ["/api/items", "/healthz"], (_p, status) => status === 200);
    await sleep(200);
    // 1. the replacements start and are healthy (the provider's `wait`);
    const next = [await start("new-0"), await start("new-1")];
    // 2. the config step names them and reloads nginx;
    expect((await deliver(port, config(port, { backends: next, frontend }))).status).toBe(0);
    // 3. the health gate sees them answer through the proxy;
    await untilServedBy(port, "/healthz", "new-0");
    // 4. the engine deletes the replaced containers at the end of the update.
    await Promise.all(old.map((s) => s.close()));
    await sleep(300);
    const result = await loop.stop();
    console.log(`replica replacement, create-before-delete: ${result.total} requests, ${result.failed} failed`);
    expect(result.failures).toEqual([]);
    const afterStop = result.answeredBy.slice(-20);
    expect(afterStop.every((b) => b.startsWith("new-")), afterStop.join(",")).toBe(true);

    // The control: what the provider's default (delete-before-replace) does to the same release.
    const port2 = await freePort();
    const old2 = [await start("old2-0"), await start("old2-1")];
    running.push(await startNginx(config(port2, { backends: old2, frontend }), port2, dir));
    const loop2 = requestLoop(port2, ["/api/items", "/healthz"], (_p, status) => status === 200);
    await sleep(200);
    await Promise.all(old2.map((s) => s.close()));
    await sleep(300); // the new containers start and turn healthy
    const next2 = [await start("new2-0"), await start("new2-1")];
    expect((await deliver(port2, config(port2, { backends: next2, frontend }))).status).toBe(0);
    await sleep(200);
    const result2 = await loop2.stop();
    console.log(`replica replacement, delete-before-replace: ${result2.total} requests, ${result2.failed} failed`);
    expect(result2.failed).toBeGreaterThan(0);
  });

  it("follows a frontend-only release: `/` never fails and ends up served by the new frontend", async () => {
    const backends = [await start("be")];
    const oldFe = await start("fe-old");
    const port = await freePort();
    running.push(await startNginx(config(port, { backends, frontend: oldFe }), port, dir));
    const loop = requestLoop(port, ["/", "/index.html"], (_p, status) => status === 200);
    const newFe = await start("fe-new");
    expect((await deliver(port, config(port, { backends, frontend: newFe }))).status).toBe(0);
    await untilServedBy(port, "/", "fe-new");
    await oldFe.close();
    await sleep(300);
    const result = await loop.stop();
    console.log(`frontend-only release: ${result.total} requests, ${result.failed} failed`);
    expect(result.failures).toEqual([]);
    expect((await get(port, "/")).headers["x-backend"]).toBe("fe-new");
  });
});

describe("the proxy container's bootstrap config", () => {
  it("passes nginx -t and serves its own health check and the maintenance page until the app's config arrives", async () => {
    const port = await freePort();
    const runtime = { user: "", pidFile: path.join(dir, `boot-${port}.pid`), listenAddress: "127.0.0.1" };
    const text = renderBootstrapNginxConfig("fairlens", runtime)
      .replace("listen 127.0.0.1:80 ", `listen 127.0.0.1:${port} `)
      .replace("root /usr/share/nginx/maintenance;", `root ${dir};`);
    expect(nginxTest(text, dir, "bootstrap.conf").status).toBe(0);
    const nginx = await startNginx(text, port, dir);
    try {
      expect((await get(port, "/nginx-health")).status).toBe(200);
      const page = await get(port, "/");
      expect(page.status).toBe(503);
      expect(page.body).toContain("FairLens is down for scheduled maintenance");
    } finally {
      await nginx.stop();
    }
  });
});

describe("TLS certificate renewal", () => {
  /** A certbot-style layout: live/<name>/*.pem are relative symlinks into archive/<name>/. */
  function letsEncryptLayout(root: string) {
    const archive = path.join(root, "archive", "site");
    const live = path.join(root, "live", "site");
    fs.mkdirSync(archive, { recursive: true });
    fs.mkdirSync(live, { recursive: true });
    for (const n of [1, 2]) {
      const res = spawnSync(requireTool("openssl"), [
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", `/CN=certificate-${n}`,
        "-keyout", path.join(archive, `privkey${n}.pem`), "-out", path.join(archive, `fullchain${n}.pem`),
      ]);
      expect(res.status).toBe(0);
    }
    const point = (n: number) => {
      for (const f of ["fullchain", "privkey"]) {
        const link = path.join(live, `${f}.pem`);
        fs.rmSync(link, { force: true });
        fs.symlinkSync(`../../archive/site/${f}${n}.pem`, link);
      }
    };
    point(1);
    return { live, point };
  }

  const servedCertificate = (port: number) =>
    new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ host: "127.0.0.1", port, servername: "fairlens.example.com", rejectUnauthorized: false }, () => {
        resolve(String(socket.getPeerCertificate().subject.CN));
        socket.end();
      });
      socket.on("error", reject);
    });

  it("serves the renewed certificate after a reload when nginx reads the live path; a mount of the resolved file does not", async () => {
    const root = path.join(dir, "letsencrypt");
    const { live, point } = letsEncryptLayout(root);
    const backend = await startBackend("tls-backend");
    const start = async (certificate: string, key: string) => {
      const port = await freePort();
      const https = await freePort();
      const text = config(port, { backends: [backend], frontend: backend }, { listen: { http: port, https }, tls: { certificate, key } });
      return { nginx: await startNginx(text, port, dir), port, https, text };
    };
    // As deployed: the directory is mounted, nginx reads live/ and follows the links on reload.
    const liveProxy = await start(path.join(live, "fullchain.pem"), path.join(live, "privkey.pem"));
    // As a bind mount of the symlink behaved: the file resolved once, when the container started.
    const pinned = await start(fs.realpathSync(path.join(live, "fullchain.pem")), fs.realpathSync(path.join(live, "privkey.pem")));
    try {
      expect(await servedCertificate(liveProxy.https)).toBe("certificate-1");
      point(2); // certbot renews
      for (const p of [liveProxy, pinned]) expect((await deliver(p.port, p.text)).status).toBe(0); // the deploy hook's reload
      expect(await servedCertificate(liveProxy.https)).toBe("certificate-2");
      expect(await servedCertificate(pinned.https)).toBe("certificate-1");
    } finally {
      await Promise.all([liveProxy.nginx.stop(), pinned.nginx.stop()]);
      await backend.close();
    }
  });
});
