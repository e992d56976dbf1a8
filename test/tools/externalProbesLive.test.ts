/**
 * The external probes on a real blackbox exporter and Prometheus, all on 127.0.0.1: https servers
 * stand in for Handwork's Stripe, PayPal and Firebase and for FairLens's Algorand node, behind a
 * certificate for 127.0.0.1 that the test's copy of the rendered modules trusts (the only change to
 * them besides addresses). Stripe's stand-in answers 401, as Stripe does without a key: the runbook
 * counts that as up. When it stops, probe_success drops to 0, the rendered rule's expression returns
 * that one service, and its alert goes pending. The Algorand module wants a 2xx: a 503 is down.
 * No request leaves 127.0.0.1; every wait is bounded.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import type * as net from "node:net";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertRules, renderAlertRules } from "../../components/monitoring/alertRules";
import { renderBlackboxConfig } from "../../components/monitoring/blackboxConfig";
import { alertRulesSpec, blackboxSpec, prometheusSpec } from "../../components/monitoring/specs";
import type { AppSpec } from "../../config/spec";
import type { Mutable } from "../policies/breakers";
import { stackSpec } from "../helpers";
import { testHostPrometheusConfig } from "./liveMonitoring";
import { freePort, requireTool, sleep, stopProcess, tempDir } from "./realTools";

const dir = tempDir("external-probes-live");
const processes: ChildProcess[] = [];
const servers: { close(): Promise<void> }[] = [];
let tls: { key: Buffer; cert: Buffer; file: string };

/** An https server on 127.0.0.1 with the test's certificate. */
async function startHttps(handler: (url: string) => number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<{ destroy(): void }>();
  const server = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => res.writeHead(handler(req.url ?? "")).end('{"status":"stand-in"}'));
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  const handle = { port: (server.address() as net.AddressInfo).port, close: stop };
  servers.push(handle);
  return handle;
}

/** The app with its external services' URLs moved to 127.0.0.1 (the config refuses loopback URLs; the test builds the spec after it). */
function local(id: string, urls: Record<string, string>): AppSpec {
  const app = structuredClone(stackSpec("prod").apps.find((a) => a.id === id)!) as Mutable<AppSpec>;
  for (const p of app.monitoring!.externalProbes) p.url = urls[p.name]!;
  return app as AppSpec;
}

/** The rendered blackbox config, with the test's certificate trusted by every external module. */
function trusted(config: string): string {
  const doc = parse(config) as { modules: Record<string, { http: { tls_config?: Record<string, unknown> } }> };
  for (const [name, m] of Object.entries(doc.modules)) if (name.startsWith("external_")) m.http.tls_config = { ...m.http.tls_config, ca_file: tls.file };
  return stringify(doc, { lineWidth: 0 });
}

function start(binary: string, args: string[]): void {
  processes.push(spawn(requireTool(binary), args, { stdio: "ignore" }));
}

async function until(what: string, seconds: number, ready: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (!(await ready())) {
    if (Date.now() - started > seconds * 1000) throw new Error(`${what}: not within ${seconds} s`);
    await sleep(250);
  }
  return (Date.now() - started) / 1000;
}

let algorandStatus = 200;
let stripe: { port: number; close(): Promise<void> };
let handwork: AppSpec;
let prometheusPort: number;
let fairlensBlackbox: number;
let handworkBlackbox: number;
let algorandUrl: string;
let others: { port: number };

const query = async (promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> => {
  const res = await fetch(`http://127.0.0.1:${prometheusPort}/api/v1/query?query=${encodeURIComponent(promql)}`).catch(() => undefined);
  if (!res || res.status !== 200) return [];
  return ((await res.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
};
const success = async (name: string) => (await query(`probe_success{job="external-${name}"}`))[0]?.value[1];
/** probe_success of one /probe request to a blackbox exporter. */
const probeOnce = async (port: number, module: string, target: string) => {
  const text = await (await fetch(`http://127.0.0.1:${port}/probe?module=${module}&target=${encodeURIComponent(target)}`)).text();
  return /^probe_success (\d)$/m.exec(text)?.[1];
};

beforeAll(async () => {
  const file = path.join(dir, "cert.pem");
  const keyFile = path.join(dir, "key.pem");
  const res = spawnSync(requireTool("openssl"), ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyFile, "-out", file, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { encoding: "utf8" });
  if (res.status !== 0) throw new Error(`openssl failed: ${res.stderr}`);
  tls = { key: fs.readFileSync(keyFile), cert: fs.readFileSync(file), file };

  // Stripe without a key answers 401; PayPal 401, Firebase's legacy endpoint 404: all "OK (<status>)" in the runbook's script.
  stripe = await startHttps(() => 401);
  others = await startHttps((url) => (url.startsWith("/v1/oauth2/token") ? 401 : url === "/health" ? 200 : 404));
  const algorand = await startHttps(() => algorandStatus);
  algorandUrl = `https://127.0.0.1:${algorand.port}/health`;

  handwork = local("handwork", {
    stripe: `https://127.0.0.1:${stripe.port}/v1/charges`,
    paypal: `https://127.0.0.1:${others.port}/v1/oauth2/token`,
    firebase: `https://127.0.0.1:${others.port}/fcm/send`,
  });
  const fairlens = local("fairlens", { algorand: algorandUrl });
  const blackboxPort = (handworkBlackbox = await freePort());
  fairlensBlackbox = await freePort();
  prometheusPort = await freePort();
  fs.writeFileSync(path.join(dir, "blackbox.yml"), trusted(renderBlackboxConfig(blackboxSpec(handwork))));
  fs.writeFileSync(path.join(dir, "fairlens-blackbox.yml"), trusted(renderBlackboxConfig(blackboxSpec(fairlens))));
  fs.writeFileSync(path.join(dir, "rules.yml"), renderAlertRules(alertRulesSpec(handwork)));
  const spec = prometheusSpec(handwork);
  fs.writeFileSync(
    path.join(dir, "prometheus.yml"),
    testHostPrometheusConfig(spec, dir, {
      probes: { ...spec.probes, blackbox: `127.0.0.1:${blackboxPort}`, urls: [`https://127.0.0.1:${others.port}/health`] },
      external: { ...spec.external!, intervalSeconds: 1 },
    }),
  );
  start("prometheus-blackbox-exporter", [`--config.file=${path.join(dir, "blackbox.yml")}`, `--web.listen-address=127.0.0.1:${blackboxPort}`]);
  start("prometheus-blackbox-exporter", [`--config.file=${path.join(dir, "fairlens-blackbox.yml")}`, `--web.listen-address=127.0.0.1:${fairlensBlackbox}`]);
  start("prometheus", [`--config.file=${path.join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${path.join(dir, "data")}`, `--web.listen-address=127.0.0.1:${prometheusPort}`]);
});

afterAll(async () => {
  await Promise.all(processes.map(stopProcess));
  for (const s of servers) await s.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("external services probed by a real blackbox exporter and Prometheus on 127.0.0.1", () => {
  it("reports each of Handwork's services up (a 401 is an answer, as in the runbook), and the rule's expression returns none", async () => {
    const seconds = await until("probe_success 1 for stripe, paypal and firebase", 30, async () => (await Promise.all(["stripe", "paypal", "firebase"].map(success))).every((v) => v === "1"));
    expect((await query(`probe_http_status_code{job="external-stripe"}`))[0]?.value[1]).toBe("401");
    expect((await query(`probe_success{job="external-paypal"}`))[0]?.metric["dependency"]).toBe("paypal");
    const stripeRule = alertRules(alertRulesSpec(handwork)).find((r) => r.labels["dependency"] === "stripe")!;
    expect(await query(stripeRule.expr)).toEqual([]);
    console.log(`external probes up in Prometheus after ${seconds.toFixed(1)} s`);
  });

  it("drops Stripe's probe_success to 0 once its stand-in stops: the rule's expression returns Stripe alone and StripeUnreachable goes pending", async () => {
    await stripe.close();
    const seconds = await until("StripeUnreachable pending", 30, async () => {
      const res = await fetch(`http://127.0.0.1:${prometheusPort}/api/v1/alerts`);
      const alerts = ((await res.json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } }).data.alerts;
      return alerts.some((a) => a.labels["alertname"] === "StripeUnreachable" && a.labels["dependency"] === "stripe" && a.labels["app"] === "handwork" && a.state === "pending");
    });
    expect(await success("stripe")).toBe("0");
    expect(await success("paypal")).toBe("1");
    const rules = alertRules(alertRulesSpec(handwork)).filter((r) => r.labels["dependency"] !== undefined);
    const firing = (await Promise.all(rules.map(async (r) => (await query(r.expr)).map((s) => s.metric["dependency"])))).flat();
    expect(firing).toEqual(["stripe"]);
    console.log(`StripeUnreachable pending ${seconds.toFixed(1)} s after Stripe's stand-in stopped`);
  });

  it("counts only a 2xx from the Algorand node as up: a 503 is down for its module, though it is an answer for Stripe's", async () => {
    await until("FairLens's blackbox exporter", 15, async () => (await fetch(`http://127.0.0.1:${fairlensBlackbox}/-/healthy`).catch(() => undefined))?.status === 200);
    expect(await probeOnce(fairlensBlackbox, "external_algorand", algorandUrl)).toBe("1");
    algorandStatus = 503;
    expect(await probeOnce(fairlensBlackbox, "external_algorand", algorandUrl)).toBe("0");
    // Handwork's any-response module on the same 503: the service answered, so it is reachable.
    expect(await probeOnce(handworkBlackbox, "external_stripe", algorandUrl)).toBe("1");
  });
});
