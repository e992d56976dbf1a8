/**
 * Health probes run for real against a server that answers the way Django does behind a TLS proxy
 * (the LMS runbook: ALLOWED_HOSTS=yourdomain.com, SECURE_SSL_REDIRECT=true): 400 to any other Host,
 * a redirect to https unless X-Forwarded-Proto says https. Each container probe runs with the tool
 * its image ships (python, node, BusyBox wget); the health gate runs with curl, and a stand-in
 * `docker` CLI that reports container health.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { execFile, spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appHealthGateSpec, httpHealthcheck, probeHeaders, renderHealthGateScript, type ProbeHeaders } from "../../components/app";
import type { ServiceRuntime } from "../../apps/types";
import { stackSpec } from "../helpers";
import { requireTool, runScript, startServer, tempDir, type TestServer } from "./realTools";

const lms = stackSpec("prod").apps.find((a) => a.id === "lms")!;
const dir = tempDir("probes");
let django: TestServer;

beforeAll(async () => {
  django = await startServer((req, res) => {
    // Django validates the Host without its port (HttpRequest.get_host, split_domain_port).
    if (req.headers.host?.replace(/:\d+$/, "") !== lms.publicHost) {
      res.writeHead(400).end("Bad Request (400): Invalid HTTP_HOST header");
    } else if (req.headers["x-forwarded-proto"] !== "https") {
      res.writeHead(301, { location: `https://${req.headers.host}${req.url}` }).end();
    } else if (req.url === lms.backend.healthPath) {
      res.writeHead(200).end('{"status": "ok"}');
    } else {
      res.writeHead(404).end();
    }
  });
});
afterAll(async () => {
  await django.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs a container health check's command on this host, with the tool its image would have. */
function runProbe(runtime: ServiceRuntime, probe: ProbeHeaders): Promise<number> {
  const [, cmd, ...args] = httpHealthcheck(runtime, django.port, lms.backend.healthPath, probe).tests;
  const argv = { python: [requireTool("python3")], node: [process.execPath], nginx: [requireTool("busybox"), "wget"] }[runtime];
  expect(cmd).toBe({ python: "python", node: "node", nginx: "wget" }[runtime]);
  // Asynchronous: the server lives in this process.
  return new Promise((resolve) => {
    const child = execFile(argv[0]!, [...argv.slice(1), ...args], { timeout: 20_000 }, (err) => resolve(err ? Number(err.code ?? 1) : 0));
    child.stdin?.end();
  });
}

describe("container health probes send what the app accepts", () => {
  it.each<ServiceRuntime>(["python", "node", "nginx"])("%s probe: healthy with the app's host and https; unhealthy with a bare 127.0.0.1 request", async (runtime) => {
    expect(probeHeaders(lms)).toEqual({ host: "lms.example.com", forwardedProto: "https" });
    expect(await runProbe(runtime, probeHeaders(lms))).toBe(0);
    // What a probe without the headers sends: Django refuses the Host (400).
    expect(await runProbe(runtime, { host: "127.0.0.1", forwardedProto: "http" })).not.toBe(0);
    // The right host over plain http: Django redirects to https, which is not healthy.
    expect(await runProbe(runtime, { host: lms.publicHost, forwardedProto: "http" })).not.toBe(0);
  });
});

/** A stand-in `docker` CLI: `docker inspect --format F <name>` prints the status in $STUB/<name>. */
function stubDocker(statuses: Record<string, string>): { argv: string[]; calls: (name: string) => number } {
  const stub = fs.mkdtempSync(path.join(dir, "docker-"));
  for (const [name, status] of Object.entries(statuses)) fs.writeFileSync(path.join(stub, name), status);
  const bin = path.join(stub, "docker.sh");
  fs.writeFileSync(bin, `#!/bin/sh\necho "$4" >> "${stub}/calls"\n[ -f "${stub}/$4" ] || { echo "Error: No such object: $4" >&2; exit 1; }\ncat "${stub}/$4"\n`, { mode: 0o755 });
  const calls = (name: string) => (fs.existsSync(path.join(stub, "calls")) ? fs.readFileSync(path.join(stub, "calls"), "utf8").split("\n").filter((l) => l === name).length : 0);
  return { argv: [bin], calls };
}

describe("the health gate", () => {
  const gate = (over: { containers: string[]; docker: string[]; attempts?: number; endpoints?: string[] }, host = lms.publicHost) =>
    renderHealthGateScript({
      ...appHealthGateSpec({ ...lms, publicHost: host, proxy: { ...lms.proxy, tls: undefined, httpPort: django.port } }, over.containers),
      docker: over.docker,
      intervalSeconds: 0,
      attempts: over.attempts ?? 2,
      ...(over.endpoints && { endpoints: over.endpoints }),
    });

  it("passes when every container of the release is healthy and every endpoint answers 2xx to the app's host name", async () => {
    // Through a proxy, X-Forwarded-Proto comes from nginx; straight at this server the gate sends none.
    const docker = stubDocker({ "lms-db-1a": "healthy", "lms-backend-0-2b": "healthy" });
    const res = await runScript(gate({ containers: ["lms-db-1a", "lms-backend-0-2b"], docker: docker.argv, endpoints: ["/404"] }));
    expect(res.stdout).toContain("health gate: container lms-db-1a is healthy");
    expect(res.stdout).toContain("health gate: container lms-backend-0-2b is healthy");
    expect(res.stderr).toContain("last status 301"); // the Host got through ALLOWED_HOSTS: 301 for http, not 400
    const wrongHost = await runScript(gate({ containers: [], docker: docker.argv, endpoints: ["/404"] }, "localhost"));
    expect(wrongHost.stderr).toContain("last status 400");
  });

  it("fails naming a container that is unhealthy or missing, after exactly the configured attempts", async () => {
    const docker = stubDocker({ "lms-db-1a": "healthy", "lms-backend-0-2b": "unhealthy" });
    const res = await runScript(gate({ containers: ["lms-db-1a", "lms-backend-0-2b", "lms-worker-rq-0-3c"], docker: docker.argv, attempts: 3 }));
    expect(res.status).toBe(1);
    expect(res.stderr).toContain("health gate: container lms-backend-0-2b is unhealthy, not healthy, after 3 attempts");
    expect(res.stderr).toContain("health gate: container lms-worker-rq-0-3c is missing, not healthy, after 3 attempts");
    expect(res.stderr).not.toContain("lms-db-1a");
    expect(docker.calls("lms-backend-0-2b")).toBe(3);
    expect(docker.calls("lms-db-1a")).toBe(1);
  });

  it("polls a failing endpoint exactly the configured number of times", async () => {
    let hits = 0;
    const failing = await startServer((_req, res) => {
      hits += 1;
      res.writeHead(503).end();
    });
    try {
      const docker = stubDocker({});
      const script = renderHealthGateScript({ appName: "x", scheme: "http", host: "x.test", port: failing.port, endpoints: ["/h"], attempts: 4, intervalSeconds: 0, containers: [], docker: docker.argv });
      const res = await runScript(script);
      expect(res.status).toBe(1);
      expect(hits).toBe(4);
      expect(res.stderr.trim()).toBe(`health gate: http://x.test:${failing.port}/h never answered 2xx; last status 503 after 4 attempts`);
    } finally {
      await failing.close();
    }
  });
});

it("has the tools these tests run", () => {
  for (const t of ["python3", "busybox", "curl"]) expect(spawnSync(requireTool(t), ["--help"]).error).toBeUndefined();
});
