import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { appHealthGateSpec, renderHealthGateScript } from "../../components/app/healthGate";
import {
  maintenanceOpenEndpoints,
  proxyNginxSpec,
  renderBootstrapNginxConfig,
  renderMaintenancePage,
  renderNginxConfig,
  routeFor,
  type ProxyUpstreams,
} from "../../components/app/nginxConfig";
import { renderProxyConfigScript } from "../../components/app/proxyConfigScript";
import { tlsMounts } from "../../components/app/tlsMounts";
import { serializeNginx } from "../../components/shared/nginxSyntax";
import { shellJoin, shellQuote } from "../../components/shared/shell";
import { stackSpec } from "../helpers";

const prod = stackSpec("prod");
const app = (id: string) => prod.apps.find((a) => a.id === id)!;
/** Container names as Docker autonaming gives them (`<resource name>-<suffix>`). */
const upstreams = (id: string): ProxyUpstreams => ({
  backends: Array.from({ length: app(id).backend.replicas }, (_, i) => `${id}-backend-${i}-a1b2c3${i}`),
  frontends: [`${id}-frontend-0-d4e5f6`],
});
const spec = (id: string) => proxyNginxSpec(app(id), upstreams(id));

describe("renderNginxConfig", () => {
  it("lists one upstream server per backend replica and the frontend, by container name (never a shared alias)", () => {
    const conf = renderNginxConfig(spec("fairlens"));
    expect(conf.match(/server fairlens-backend-\d-a1b2c3\d:8000 max_fails=1 fail_timeout=10s;/g)).toHaveLength(3);
    expect(conf).toContain("server fairlens-frontend-0-d4e5f6:8080 max_fails=1 fail_timeout=10s;");
    expect(conf).not.toMatch(/server (backend|frontend)[-:]/);
  });

  it("refuses an app with a public frontend when no frontend container is named", () => {
    expect(() => proxyNginxSpec(app("fairlens"), { backends: ["b"] })).toThrow("`upstreams.frontends` must name the frontend containers");
  });

  it("points nginx at the certificate's live path on the host, which the proxy mounts at the same path", () => {
    const conf = renderNginxConfig(spec("lms"));
    expect(conf).toContain("ssl_certificate /etc/letsencrypt/live/lms/fullchain.pem;");
    expect(conf).toContain("ssl_certificate_key /etc/letsencrypt/live/lms/privkey.pem;");
  });

  it("sets the rate limit, gzip and security headers from the spec", () => {
    const conf = renderNginxConfig({ ...spec("handwork"), rateLimit: { requestsPerSecond: 7, burst: 13 } });
    expect(conf).toContain("limit_req_zone $binary_remote_addr zone=handwork_requests:10m rate=7r/s;");
    expect(conf).toContain("limit_req zone=handwork_requests burst=13 nodelay;");
    expect(conf).toContain("gzip on;");
    expect(conf).toContain("add_header X-Frame-Options DENY always;");
    expect(conf).toContain('add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;');
    expect(conf).toContain("return 301 https://$host$request_uri;");
    expect(conf).toContain("client_max_body_size 25m;");
  });

  it("routes an admin UI's app without a public frontend upstream (Handwork's admin binds 127.0.0.1)", () => {
    const conf = renderNginxConfig(spec("handwork"));
    expect(conf).not.toContain("frontend_upstream");
  });

  it("answers 503 on every public route in maintenance, keeping backend health endpoints proxied", () => {
    const on = { ...spec("fairlens"), maintenance: true };
    const conf = renderNginxConfig(on);
    expect(conf.match(/return 503;/g)).toHaveLength(on.routes.length);
    expect(conf).toMatch(/location = \/healthz \{\n\s+proxy_pass http:\/\/backend_upstream;/);
    expect(maintenanceOpenEndpoints(on)).toEqual(["/healthz"]);
  });

  it.each([
    [{ backendServers: [] }, "`backendServers` must list at least one backend replica"],
    [{ frontendServers: [] }, "`frontendServers` must be given when a route goes to the frontend"],
    [{ healthEndpoints: ["health; evil"] }, "route or health path `health; evil` must be an absolute URL path"],
    [{ tls: undefined, listen: { http: 80, https: 443 } }, "`tls` must be given with `listen.https`"],
  ])("refuses a bad spec: %j", (override, message) => {
    expect(() => renderNginxConfig({ ...spec("fairlens"), ...override })).toThrow(message);
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

describe("renderBootstrapNginxConfig", () => {
  it("answers the proxy's own health check and 503 with the maintenance page, and names no upstream", () => {
    const conf = renderBootstrapNginxConfig("lms");
    expect(conf).toMatch(/location = \/nginx-health \{[^}]*return 200/);
    expect(conf).toContain("error_page 503 /maintenance.html;");
    expect(conf).toMatch(/location \/ \{\n\s+return 503;/);
    expect(conf).not.toContain("upstream");
  });
});

describe("renderProxyConfigScript", () => {
  const script = renderProxyConfigScript({ appName: "lms", exec: ["docker", "exec", "-i", "lms-proxy-1a2b"], configPath: "/etc/nginx/nginx.conf" });
  it("checks the new config with nginx -t before it replaces the running one, then reloads", () => {
    expect(script).toContain("docker exec -i lms-proxy-1a2b sh -c");
    const order = ["cat > /etc/nginx/nginx.conf.next", "nginx -t -q -c /etc/nginx/nginx.conf.next", "mv /etc/nginx/nginx.conf.next /etc/nginx/nginx.conf", "nginx -c /etc/nginx/nginx.conf -s reload"];
    const at = order.map((step) => script.indexOf(step));
    expect(at.every((x) => x > 0), script).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });
  it("refuses a relative config path", () => {
    expect(() => renderProxyConfigScript({ appName: "x", exec: [], configPath: "nginx.conf" })).toThrow("`configPath` must be an absolute path");
  });
});

describe("tlsMounts", () => {
  it.each([
    [{ certificateFile: "/etc/letsencrypt/live/lms/fullchain.pem", keyFile: "/etc/letsencrypt/live/lms/privkey.pem" }, ["/etc/letsencrypt"]],
    [{ certificateFile: "/srv/tls/site.crt", keyFile: "/srv/tls/private/site.key" }, ["/srv/tls"]],
    [{ certificateFile: "/a/cert.pem", keyFile: "/b/key.pem" }, ["/a", "/b"]],
  ])("mounts the directory that holds live/ and archive/ (or the files' own), never the symlinks: %j", (tls, dirs) => {
    expect(tlsMounts(tls)).toEqual(dirs);
  });
  it("refuses a relative path", () => {
    expect(() => tlsMounts({ certificateFile: "cert.pem", keyFile: "/k.pem" })).toThrow("`cert.pem` must be an absolute path on the Docker host");
  });
});

describe("renderHealthGateScript", () => {
  const base = { appName: "x", scheme: "http" as const, host: "localhost", port: 80, endpoints: ["/h"], attempts: 1, intervalSeconds: 1, containers: [] };
  it("polls each endpoint and container with the configured attempts and interval, sending the public host name", () => {
    const gate = appHealthGateSpec(app("lms"), ["lms-db-1", "lms-backend-0-2"]);
    expect(gate).toMatchObject({ scheme: "https", host: "lms.example.com", port: 443, attempts: 30, intervalSeconds: 2, insecureTls: true });
    const script = renderHealthGateScript(gate);
    expect(script).toContain("attempts=30");
    expect(script).toContain("interval=2");
    expect(script).toContain("base_url=https://lms.example.com:443");
    expect(script).toContain("--resolve lms.example.com:443:127.0.0.1 -k");
    expect(script).toContain("check_endpoint /api/healthz/ || failed=1");
    expect(script).toContain("check_container lms-db-1 || failed=1");
    expect(script).toContain("check_container lms-backend-0-2 || failed=1");
  });

  it.each([
    [{ endpoints: [] }, "`endpoints` must name at least one health endpoint"],
    [{ attempts: 0 }, "`attempts` must be a whole number of at least 1"],
    [{ intervalSeconds: -1 }, "`intervalSeconds` must be a whole number of at least 0"],
    [{ port: 0 }, "`port` must be a port number from 1 to 65535"],
    [{ host: "a b" }, "`host` must be a host name"],
  ])("refuses %j", (override, message) => {
    expect(() => renderHealthGateScript({ ...base, ...override })).toThrow(message);
  });
});
