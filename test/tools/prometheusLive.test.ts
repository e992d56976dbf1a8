/**
 * A real Prometheus and blackbox exporter on 127.0.0.1, with the files the program renders for
 * FDTS: the blackbox exporter probes the health endpoint through a real nginx running the proxy's
 * rendered config, Prometheus scrapes the backend's metrics page, and when the backend stops the
 * "health probe failing" alert goes pending. The proxy's request log reaches a syslog listener in
 * the format the log exporter parses, health probes left out. Every wait is bounded.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as dgram from "node:dgram";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { proxyNginxSpec, renderNginxConfig } from "../../components/app/nginxConfig";
import { renderAlertRules } from "../../components/monitoring/alertRules";
import { renderBlackboxConfig } from "../../components/monitoring/blackboxConfig";
import { PROXY_LOG_FORMAT } from "../../components/monitoring/proxyLogExporterConfig";
import { alertRulesSpec, prometheusSpec } from "../../components/monitoring/specs";
import { stackSpec } from "../helpers";
import { testHostPrometheusConfig } from "./liveMonitoring";
import { freePort, get, requireTool, sleep, startNginx, startServer, stopProcess, tempDir, type RunningNginx, type TestServer } from "./realTools";

const dir = tempDir("prometheus-live");
const fdts = stackSpec("staging").apps.find((a) => a.id === "fdts")!;
const healthPath = fdts.proxy.healthEndpoints[0]!;

let backend: TestServer;
let proxy: RunningNginx;
let syslog: dgram.Socket;
const lines: string[] = [];
const processes: ChildProcess[] = [];
let prometheusPort: number;

function start(binary: string, args: string[]): ChildProcess {
  const child = spawn(requireTool(binary), args, { stdio: "ignore" });
  processes.push(child);
  return child;
}

async function query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`http://127.0.0.1:${prometheusPort}/api/v1/query?query=${encodeURIComponent(promql)}`).catch(() => undefined);
  if (!res || res.status !== 200) return [];
  return ((await res.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
}

/** Polls until `ready` holds, at most `seconds`. */
async function until(what: string, seconds: number, ready: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (!(await ready())) {
    if (Date.now() - started > seconds * 1000) throw new Error(`${what}: not within ${seconds} s`);
    await sleep(250);
  }
  return (Date.now() - started) / 1000;
}

beforeAll(async () => {
  backend = await startServer((req, res) => {
    if (req.url === healthPath) res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
    else if (req.url === "/metrics") res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end("# TYPE app_requests_total counter\napp_requests_total 42\n");
    else res.writeHead(404).end();
  });
  // The proxy's request log, as the log exporter would receive it.
  syslog = dgram.createSocket("udp4");
  syslog.on("message", (m) => lines.push(m.toString()));
  await new Promise<void>((resolve) => syslog.bind(0, "127.0.0.1", resolve));
  const proxyPort = await freePort();
  fs.chmodSync(dir, 0o755);
  const nginx = renderNginxConfig({
    ...proxyNginxSpec(fdts, { backends: ["fdts-backend-0"] }),
    backendServers: [`127.0.0.1:${backend.port}`],
    metrics: { syslogPort: syslog.address().port },
    maintenanceRoot: dir,
    listen: { http: proxyPort },
    runtime: { user: "", pidFile: path.join(dir, "nginx.pid"), accessLog: path.join(dir, "access.log"), listenAddress: "127.0.0.1" },
  });
  proxy = await startNginx(nginx, proxyPort, dir);

  const blackboxPort = await freePort();
  prometheusPort = await freePort();
  fs.writeFileSync(path.join(dir, "blackbox.yml"), renderBlackboxConfig({ publicHost: fdts.publicHost, tls: false, timeoutSeconds: 1 }));
  fs.writeFileSync(path.join(dir, "rules.yml"), renderAlertRules(alertRulesSpec(fdts)));
  const spec = prometheusSpec(fdts);
  fs.writeFileSync(
    path.join(dir, "prometheus.yml"),
    testHostPrometheusConfig(spec, dir, {
      backend: { metricsPath: "/metrics", static: [`127.0.0.1:${backend.port}`] },
      probes: { ...spec.probes, blackbox: `127.0.0.1:${blackboxPort}`, urls: [`http://127.0.0.1:${proxyPort}${healthPath}`] },
    }),
  );
  start("prometheus-blackbox-exporter", [`--config.file=${path.join(dir, "blackbox.yml")}`, `--web.listen-address=127.0.0.1:${blackboxPort}`]);
  start("prometheus", [`--config.file=${path.join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${path.join(dir, "data")}`, `--web.listen-address=127.0.0.1:${prometheusPort}`]);
});

afterAll(async () => {
  await Promise.all(processes.map(stopProcess));
  await proxy?.stop();
  await backend?.close();
  syslog?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("a real Prometheus and blackbox exporter on 127.0.0.1", () => {
  it("probes the health endpoint through the proxy and scrapes the backend's metrics page", async () => {
    const seconds = await until("probe_success and the backend's metrics", 30, async () => {
      const probe = await query(`probe_success{job="health"}`);
      const scraped = await query(`app_requests_total{job="backend"}`);
      return probe[0]?.value[1] === "1" && scraped[0]?.value[1] === "42";
    });
    expect((await query(`probe_http_status_code{job="health"}`))[0]?.value[1]).toBe("200");
    console.log(`probe series and backend metrics in Prometheus after ${seconds.toFixed(1)} s`);
  });

  it("gets a line per request from the proxy in the log exporter's format, and none for health probes", async () => {
    const before = lines.length;
    expect((await get(proxy.port, "/api/items?page=2", { Host: fdts.publicHost })).status).toBe(404);
    await until("the request's syslog line", 10, async () => lines.length > before);
    // The exporter's format, as a pattern: each $variable one field.
    const pattern = new RegExp(`^${PROXY_LOG_FORMAT.replace(/[.*+?^{}()|[\]\\]/g, "\\$&").replace(/\$[a-z_]+/g, "(.*?)")}$`);
    const request = lines.slice(before).map((l) => l.replace(/^<\d+>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d proxy: /, "")).find((l) => l.includes("/api/items"));
    const fields = pattern.exec(request ?? "");
    expect(fields, request).not.toBeNull();
    const names = [...PROXY_LOG_FORMAT.matchAll(/\$([a-z_]+)/g)].map((m) => m[1]!);
    const value = (name: string) => fields![names.indexOf(name) + 1];
    expect(value("status")).toBe("404");
    expect(Number(value("request_time"))).toBeGreaterThanOrEqual(0);
    expect(lines.some((l) => l.includes(healthPath))).toBe(false);
  });

  it("turns the health-probe-failing alert pending when the backend stops", async () => {
    await backend.close();
    const seconds = await until("HealthProbeFailing pending", 30, async () => {
      const res = await fetch(`http://127.0.0.1:${prometheusPort}/api/v1/alerts`);
      const alerts = ((await res.json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } }).data.alerts;
      return alerts.some((a) => a.labels["alertname"] === "HealthProbeFailing" && a.labels["app"] === "fdts" && a.state === "pending");
    });
    expect((await query(`probe_success{job="health"}`))[0]?.value[1]).toBe("0");
    console.log(`HealthProbeFailing pending ${seconds.toFixed(1)} s after the backend stopped`);
  });
});
