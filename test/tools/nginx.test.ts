/**
 * The proxy's nginx.conf, checked by the real nginx: `nginx -t` on every app's rendered config, and
 * a live nginx on 127.0.0.1 in front of two small backends.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { proxyNginxSpec, renderHealthGateScript, renderMaintenancePage, renderNginxConfig, type NginxConfigSpec } from "../../components/app";
import { stackSpec } from "../helpers";
import { freePort, get, nginxTest, runScript, selfSignedCertificate, startBackend, startNginx, tempDir, type RunningNginx, type TestServer } from "./realTools";

const dir = tempDir("nginx-test");
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** What a test host needs instead of the container's: 127.0.0.1 addresses, a writable pid file. */
function onTestHost(spec: NginxConfigSpec, overrides: Partial<NginxConfigSpec> & { port: number }): NginxConfigSpec {
  const { port, ...rest } = overrides;
  return {
    ...spec,
    maintenanceRoot: dir,
    runtime: { user: "", pidFile: path.join(dir, `nginx-${port}.pid`), accessLog: "off", listenAddress: "127.0.0.1" },
    ...rest,
    listen: { ...spec.listen, ...rest.listen, http: port },
  };
}

describe("nginx -t on every app's rendered proxy config", () => {
  const tls = () => selfSignedCertificate(dir);
  for (const stack of ["prod", "staging"]) {
    it(`accepts the ${stack} config of each app`, async () => {
      const cert = tls();
      for (const app of stackSpec(stack).apps) {
        const spec = proxyNginxSpec(app, { backends: Array.from({ length: app.backend.replicas }, (_, i) => `${app.id}-backend-${i}`), frontends: [`${app.id}-frontend-0`] });
        // Only addresses and file paths change: nginx -t resolves upstream names, and this host has no Docker DNS.
        const local = onTestHost(spec, {
          port: await freePort(),
          backendServers: spec.backendServers.map((_, i) => `127.0.0.1:${9000 + i}`),
          ...(spec.frontendServers && { frontendServers: ["127.0.0.1:9100"] }),
          ...(spec.tls && { tls: cert, listen: { http: 0, https: await freePort() } }),
        });
        const res = nginxTest(renderNginxConfig(local), dir, `${stack}-${app.id}.conf`);
        expect(res.output, `${stack}/${app.id}`).toContain("syntax is ok");
        expect(res.status, `${stack}/${app.id}: ${res.output}`).toBe(0);
      }
    });
  }

  it("rejects a config nginx cannot parse (the check can fail)", () => {
    const res = nginxTest("http { upstream { }\n", dir, "broken.conf");
    expect(res.status).not.toBe(0);
  });
});

describe("a live nginx with the rendered config", () => {
  let a: TestServer;
  let b: TestServer;
  let fe: TestServer;
  let proxy: RunningNginx;
  let maintenance: RunningNginx;
  let limited: RunningNginx;
  const app = stackSpec("prod").apps.find((x) => x.id === "fairlens")!;

  beforeAll(async () => {
    [a, b, fe] = await Promise.all([startBackend("a"), startBackend("b"), startBackend("frontend")]);
    // nginx workers run unprivileged: the page must be readable, as it is in the proxy container.
    fs.chmodSync(dir, 0o755);
    fs.writeFileSync(path.join(dir, "maintenance.html"), renderMaintenancePage(app.displayName), { mode: 0o644 });
    const base = proxyNginxSpec({ ...app, proxy: { ...app.proxy, tls: undefined } }, { backends: ["a", "b"], frontends: ["fe"] });
    const upstreams = { backendServers: [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`], frontendServers: [`127.0.0.1:${fe.port}`] };
    const p1 = await freePort();
    proxy = await startNginx(renderNginxConfig(onTestHost(base, { port: p1, ...upstreams, rateLimit: { requestsPerSecond: 1000, burst: 1000 } })), p1, dir);
    const p2 = await freePort();
    maintenance = await startNginx(renderNginxConfig(onTestHost(base, { port: p2, ...upstreams, maintenance: true })), p2, dir);
    const p3 = await freePort();
    limited = await startNginx(renderNginxConfig(onTestHost(base, { port: p3, ...upstreams, rateLimit: { requestsPerSecond: 1, burst: 2 } })), p3, dir);
  });

  afterAll(async () => {
    await Promise.all([proxy?.stop(), maintenance?.stop(), limited?.stop()]);
    await Promise.all([a?.close(), b?.close(), fe?.close()]);
  });

  it("spreads requests over both replicas, with security headers and gzip", async () => {
    const results = [];
    for (let i = 0; i < 20; i++) results.push(await get(proxy.port, `/api/items/${i}`, { "accept-encoding": "gzip" }));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(a.hits()).toBeGreaterThan(0);
    expect(b.hits()).toBeGreaterThan(0);
    const r = results[0]!;
    expect(r.headers["x-content-type-options"]).toBe("nosniff");
    expect(r.headers["x-frame-options"]).toBe("DENY");
    expect(r.headers["referrer-policy"]).toBe("strict-origin-when-cross-origin");
    expect(r.headers["content-encoding"]).toBe("gzip");
    expect(r.headers["server"]).toBe("nginx"); // server_tokens off: no version
    const home = await get(proxy.port, "/");
    expect(home.headers["x-backend"]).toBe("frontend");
  });

  it("keeps answering 200 while one backend replica is stopped", async () => {
    await a.close();
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await get(proxy.port, `/api/after-stop/${i}`)).status);
    expect(statuses).toEqual(Array(30).fill(200));
    expect((await get(proxy.port, "/healthz")).headers["x-backend"]).toBe("b");
  });

  it("serves the 503 maintenance page when the switch is on, and keeps backend health endpoints open", async () => {
    const home = await get(maintenance.port, "/");
    expect(home.status).toBe(503);
    expect(home.body).toContain("FairLens is down for scheduled maintenance");
    const api = await get(maintenance.port, "/api/items");
    expect(api.status).toBe(503);
    expect((await get(maintenance.port, "/healthz")).status).toBe(200);
  });

  it("rate-limits requests per client with 429, but never the health endpoints", async () => {
    const api: number[] = [];
    for (let i = 0; i < 10; i++) api.push((await get(limited.port, "/api/burst")).status);
    expect(api.filter((s) => s === 429).length).toBeGreaterThanOrEqual(6);
    expect(api.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
    const health: number[] = [];
    for (let i = 0; i < 10; i++) health.push((await get(limited.port, "/healthz")).status);
    expect(health).toEqual(Array(10).fill(200));
  });

  it("the health gate passes through the proxy and fails naming the endpoint and its last status", async () => {
    const run = (port: number, endpoints: string[]) =>
      runScript(renderHealthGateScript({ appName: "fairlens", scheme: "http", host: "fairlens.test", port, endpoints, attempts: 2, intervalSeconds: 0, containers: [] }));
    const ok = await run(proxy.port, app.proxy.healthEndpoints as string[]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("health gate: /healthz answered 200 (attempt 1 of 2)");
    expect(ok.stdout).toContain("health gate: / answered 200 (attempt 1 of 2)");
    const down = await run(maintenance.port, ["/healthz", "/"]);
    expect(down.status).toBe(1);
    expect(down.stderr.trim()).toBe(`health gate: http://fairlens.test:${maintenance.port}/ never answered 2xx; last status 503 after 2 attempts`);
  });
});
