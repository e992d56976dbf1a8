import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { renderHealthGateScript } from "../../components/app/healthGate";
import { maintenanceOpenEndpoints, proxyNginxSpec, renderMaintenancePage, renderNginxConfig, routeFor } from "../../components/app/nginxConfig";
import { serializeNginx } from "../../components/shared/nginxSyntax";
import { shellJoin, shellQuote } from "../../components/shared/shell";
import { stackSpec } from "../helpers";

const prod = stackSpec("prod");
const app = (id: string) => prod.apps.find((a) => a.id === id)!;

describe("renderNginxConfig", () => {
  it("lists one upstream server per backend replica, by network alias", () => {
    const conf = renderNginxConfig(proxyNginxSpec(app("fairlens")));
    expect(conf.match(/server backend-\d+:8000 max_fails=1 fail_timeout=10s;/g)).toHaveLength(3);
    expect(conf).toContain("server frontend:8080 max_fails=1 fail_timeout=10s;");
  });

  it("sets the rate limit, gzip and security headers from the spec", () => {
    const spec = proxyNginxSpec(app("handwork"));
    const conf = renderNginxConfig({ ...spec, rateLimit: { requestsPerSecond: 7, burst: 13 } });
    expect(conf).toContain("limit_req_zone $binary_remote_addr zone=handwork_requests:10m rate=7r/s;");
    expect(conf).toContain("limit_req zone=handwork_requests burst=13 nodelay;");
    expect(conf).toContain("gzip on;");
    expect(conf).toContain("add_header X-Frame-Options DENY always;");
    expect(conf).toContain('add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;');
    expect(conf).toContain("return 301 https://$host$request_uri;");
    expect(conf).toContain("client_max_body_size 25m;");
  });

  it("routes an admin UI's app without a public frontend upstream (Handwork's admin binds 127.0.0.1)", () => {
    const conf = renderNginxConfig(proxyNginxSpec(app("handwork")));
    expect(conf).not.toContain("frontend_upstream");
  });

  it("answers 503 on every public route in maintenance, keeping backend health endpoints proxied", () => {
    const spec = { ...proxyNginxSpec(app("fairlens")), maintenance: true };
    const conf = renderNginxConfig(spec);
    expect(conf.match(/return 503;/g)).toHaveLength(spec.routes.length);
    expect(conf).toMatch(/location = \/healthz \{\n\s+proxy_pass http:\/\/backend_upstream;/);
    expect(maintenanceOpenEndpoints(spec)).toEqual(["/healthz"]);
  });

  it.each([
    [{ backendServers: [] }, "`backendServers` must list at least one backend replica"],
    [{ frontendServers: [] }, "`frontendServers` must be given when a route goes to the frontend"],
    [{ healthEndpoints: ["health; evil"] }, "route or health path `health; evil` must be an absolute URL path"],
    [{ tls: undefined, listen: { http: 80, https: 443 } }, "`tls` must be given with `listen.https`"],
  ])("refuses a bad spec: %j", (override, message) => {
    expect(() => renderNginxConfig({ ...proxyNginxSpec(app("fairlens")), ...override })).toThrow(message);
  });

  it.each([
    ["/api/items", "backend"],
    ["/healthz", "backend"],
    ["/index.html", "frontend"],
  ])("routes %s to the %s by longest prefix", (p, service) => {
    expect(routeFor(app("fairlens").proxy.routes, p)).toBe(service);
  });

  it("escapes the app name in the maintenance page", () => {
    expect(renderMaintenancePage("<b>A & B</b>")).toContain("&#60;b&#62;A &#38; B&#60;/b&#62; is down for scheduled maintenance");
  });
});

describe("the nginx serializer", () => {
  it("quotes arguments so no value can end a directive or open a block", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (value) => {
        const text = serializeNginx([{ name: "add_header", args: ["X-Test", value] }]);
        // One directive on one line, ending with the only unquoted semicolon.
        expect(text.split("\n").filter(Boolean)).toHaveLength(1);
        const unquoted = text.replace(/"(?:[^"\\]|\\.)*"/g, '""');
        expect(unquoted.match(/[;{}]/g)).toEqual([";"]);
      }),
      { numRuns: 300 },
    );
  });

  it("refuses a directive name that is not one", () => {
    expect(() => serializeNginx([{ name: "x; evil" }])).toThrow("invalid nginx directive name: x; evil");
  });
});

describe("shell quoting", () => {
  it("round-trips any word through sh", async () => {
    const { execFileSync } = await import("node:child_process");
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 12 }).filter((s) => !s.includes("\u0000")), { minLength: 1, maxLength: 4 }), (words) => {
        const out = execFileSync("/bin/sh", ["-c", `printf '%s\\n' ${shellJoin(words)}`], { encoding: "utf8" });
        expect(out).toBe(words.map((w) => `${w}\n`).join(""));
      }),
      { numRuns: 60 },
    );
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });
});

describe("renderHealthGateScript", () => {
  it("polls each endpoint with the configured attempts and interval", () => {
    const script = renderHealthGateScript({ appName: "lms", baseUrl: "https://127.0.0.1:443", endpoints: ["/api/healthz/"], attempts: 30, intervalSeconds: 2, insecureTls: true });
    expect(script).toContain("attempts=30");
    expect(script).toContain("interval=2");
    expect(script).toContain("check /api/healthz/ || failed=1");
    expect(script).toContain("--max-time 5 -k");
  });

  it.each([
    [{ endpoints: [] }, "`endpoints` must name at least one health endpoint"],
    [{ attempts: 0 }, "`attempts` must be a whole number of at least 1"],
    [{ intervalSeconds: -1 }, "`intervalSeconds` must be a whole number of at least 0"],
  ])("refuses %j", (override, message) => {
    expect(() => renderHealthGateScript({ appName: "x", baseUrl: "http://127.0.0.1", endpoints: ["/h"], attempts: 1, intervalSeconds: 1, ...override })).toThrow(message);
  });
});
