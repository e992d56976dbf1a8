/**
 * renderNginxConfig: the proxy's nginx.conf as a pure function of the app's proxy settings.
 * Upstream of the backend replicas by network alias, security headers, gzip, a request rate limit,
 * and a maintenance switch that answers 503 with a maintenance page.
 */
import { routeFor } from "../../apps/routes";
import type { ProxyRoute } from "../../apps/types";
import type { AppSpec } from "../../config/spec";
import { block, d, serializeNginx, type NginxDirective } from "../shared/nginxSyntax";
import { METRICS_LOG_VARIABLE, PROXY_LOG, proxyLogDirectives, stubStatusLocation } from "../monitoring/proxyLogExporterConfig";

export interface NginxConfigSpec {
  readonly appName: string;
  /** `host:port` of each backend replica (network aliases in a deployment, 127.0.0.1 ports in tests). */
  readonly backendServers: readonly string[];
  /** `host:port` of the public frontend, where the app has one. */
  readonly frontendServers?: readonly string[];
  readonly routes: readonly ProxyRoute[];
  /** Health endpoints: proxied to the backend without rate limit, and still open in maintenance. */
  readonly healthEndpoints: readonly string[];
  /**
   * Paths the proxy never serves to the public (the backend's metrics endpoint): 404 to every
   * client, whatever route would match. Monitoring scrapes them on the internal network.
   */
  readonly privatePaths?: readonly string[];
  readonly maintenance: boolean;
  readonly rateLimit: { readonly requestsPerSecond: number; readonly burst: number };
  readonly clientMaxBodyMb: number;
  /** Ports nginx listens on inside its container (80 and 443 in a deployment). */
  readonly listen: { readonly http: number; readonly https?: number };
  readonly tls?: { readonly certificate: string; readonly key: string };
  /** Directory that holds maintenance.html. */
  readonly maintenanceRoot: string;
  /**
   * Monitoring: send each request (health probes left out) to the nginx log exporter over syslog on
   * 127.0.0.1, and serve stub_status to 127.0.0.1 on the http listener (components/monitoring).
   */
  readonly metrics?: { readonly syslogPort: number };
  /** Process settings; the defaults suit the official nginx image. */
  readonly runtime?: { readonly user?: string; readonly pidFile?: string; readonly accessLog?: string; readonly listenAddress?: string };
}

export const PROXY_PATHS = {
  config: "/etc/nginx/nginx.conf",
  maintenanceRoot: "/usr/share/nginx/maintenance",
  /** Answers 200 to 127.0.0.1 only: the container's own health check. */
  selfHealth: "/nginx-health",
} as const;

const SECURITY_HEADERS: readonly [string, string][] = [
  ["X-Content-Type-Options", "nosniff"],
  ["X-Frame-Options", "DENY"],
  ["Referrer-Policy", "strict-origin-when-cross-origin"],
  ["Permissions-Policy", "geolocation=(), microphone=(), camera=()"],
];

const GZIP_TYPES = ["text/plain", "text/css", "application/json", "application/javascript", "text/xml", "application/xml", "image/svg+xml"];

function upstreamName(service: "backend" | "frontend"): string {
  return `${service}_upstream`;
}

export { routeFor };

/** Health endpoints that stay reachable while the maintenance switch is on (those served by the backend). */
export function maintenanceOpenEndpoints(spec: Pick<NginxConfigSpec, "routes" | "healthEndpoints">): string[] {
  return spec.healthEndpoints.filter((p) => routeFor(spec.routes, p) === "backend");
}

function validate(spec: NginxConfigSpec): void {
  if (spec.backendServers.length === 0) throw new Error("`backendServers` must list at least one backend replica");
  if (spec.routes.some((r) => r.service === "frontend") && !spec.frontendServers?.length) {
    throw new Error("`frontendServers` must be given when a route goes to the frontend");
  }
  for (const p of [...spec.routes.map((r) => r.path), ...spec.healthEndpoints, ...(spec.privatePaths ?? [])]) {
    if (!/^\/[A-Za-z0-9._~/-]*$/.test(p)) throw new Error(`route or health path \`${p}\` must be an absolute URL path`);
  }
  if (spec.listen.https !== undefined && !spec.tls) throw new Error("`tls` must be given with `listen.https`");
}

function proxyTo(service: "backend" | "frontend"): NginxDirective[] {
  return [d("proxy_pass", `http://${upstreamName(service)}`)];
}

function serverBody(spec: NginxConfigSpec): NginxDirective[] {
  const open = maintenanceOpenEndpoints(spec);
  const limit = d("limit_req", `zone=${spec.appName}_requests`, `burst=${spec.rateLimit.burst}`, "nodelay");
  // Health endpoints are not traffic: they stay out of the request metrics.
  const countAs = (loggable: 0 | 1) => (spec.metrics ? [d("set", METRICS_LOG_VARIABLE, loggable)] : []);
  const body: NginxDirective[] = [
    ...countAs(1),
    ...SECURITY_HEADERS.map(([k, v]) => d("add_header", k, v, "always")),
    d("error_page", 503, "/maintenance.html"),
    block("location", ["=", "/maintenance.html"], [d("root", spec.maintenanceRoot), d("internal")]),
    block("location", ["=", PROXY_PATHS.selfHealth], [d("access_log", "off"), d("allow", "127.0.0.1"), d("deny", "all"), d("return", 200, "ok\n")]),
    // Health endpoints: exact matches, never rate limited, open during maintenance.
    ...open.map((p) => block("location", ["=", p], [...proxyTo("backend"), ...countAs(0)])),
    // `^~`: this prefix wins over every shorter route (`/api/`) and over regex locations.
    ...(spec.privatePaths ?? []).map((p) => block("location", ["^~", p], [d("access_log", "off"), d("return", 404)])),
  ];
  for (const route of spec.routes) {
    body.push(block("location", [route.path], spec.maintenance ? [d("return", 503)] : [limit, ...proxyTo(route.service)]));
  }
  return body;
}

/** nginx's process settings: the official image's user and pid file unless a test host says otherwise. */
function processSettings(rt: NonNullable<NginxConfigSpec["runtime"]>, workers: number | "auto", connections: number): NginxDirective[] {
  return [
    ...(rt.user === "" ? [] : [d("user", rt.user ?? "nginx")]),
    d("worker_processes", workers),
    d("pid", rt.pidFile ?? "/var/run/nginx.pid"),
    d("error_log", "stderr", "warn"),
    block("events", [], [d("worker_connections", connections)]),
  ];
}

export function renderNginxConfig(spec: NginxConfigSpec): string {
  validate(spec);
  const rt = spec.runtime ?? {};
  const listen = (port: number, ...extra: string[]) =>
    d("listen", rt.listenAddress ? `${rt.listenAddress}:${port}` : port, ...extra);
  const upstream = (service: "backend" | "frontend", servers: readonly string[]) =>
    block("upstream", [upstreamName(service)], [
      ...servers.map((s) => d("server", s, "max_fails=1", "fail_timeout=10s")),
      d("keepalive", 16),
    ]);

  const servers: NginxDirective[] = [];
  if (spec.tls && spec.listen.https !== undefined) {
    servers.push(
      block("server", [], [
        listen(spec.listen.http, "default_server"),
        d("server_name", "_"),
        ...(spec.metrics ? [d("set", METRICS_LOG_VARIABLE, 0), stubStatusLocation()] : []),
        block("location", ["=", PROXY_PATHS.selfHealth], [d("access_log", "off"), d("allow", "127.0.0.1"), d("deny", "all"), d("return", 200, "ok\n")]),
        block("location", ["/"], [d("return", 301, "https://$host$request_uri")]),
      ]),
      block("server", [], [
        listen(spec.listen.https, "ssl", "default_server"),
        d("server_name", "_"),
        d("ssl_certificate", spec.tls.certificate),
        d("ssl_certificate_key", spec.tls.key),
        d("ssl_protocols", "TLSv1.2", "TLSv1.3"),
        d("ssl_session_cache", "shared:SSL:10m"),
        d("add_header", "Strict-Transport-Security", "max-age=31536000; includeSubDomains", "always"),
        ...serverBody(spec),
      ]),
    );
  } else {
    servers.push(block("server", [], [listen(spec.listen.http, "default_server"), d("server_name", "_"), ...(spec.metrics ? [stubStatusLocation()] : []), ...serverBody(spec)]));
  }

  const main: NginxDirective[] = [
    ...processSettings(rt, "auto", 1024),
    block("http", [], [
      d("server_tokens", "off"),
      d("default_type", "text/html"),
      rt.accessLog === "off" ? d("access_log", "off") : d("access_log", rt.accessLog ?? "/dev/stdout", "combined"),
      ...(spec.metrics ? proxyLogDirectives(spec.metrics.syslogPort) : []),
      d("client_max_body_size", `${spec.clientMaxBodyMb}m`),
      d("gzip", "on"),
      d("gzip_comp_level", 5),
      d("gzip_min_length", 256),
      d("gzip_proxied", "any"),
      d("gzip_vary", "on"),
      d("gzip_types", ...GZIP_TYPES),
      d("limit_req_zone", "$binary_remote_addr", `zone=${spec.appName}_requests:10m`, `rate=${spec.rateLimit.requestsPerSecond}r/s`),
      d("limit_req_status", 429),
      d("proxy_http_version", "1.1"),
      d("proxy_set_header", "Connection", ""),
      d("proxy_set_header", "Host", "$host"),
      d("proxy_set_header", "X-Real-IP", "$remote_addr"),
      d("proxy_set_header", "X-Forwarded-For", "$proxy_add_x_forwarded_for"),
      d("proxy_set_header", "X-Forwarded-Proto", "$scheme"),
      // A stopped or replaced replica: the request moves on to the next one.
      d("proxy_next_upstream", "error", "timeout", "http_502", "http_503", "http_504"),
      d("proxy_next_upstream_tries", 3),
      d("proxy_connect_timeout", "2s"),
      d("proxy_read_timeout", "60s"),
      upstream("backend", spec.backendServers),
      ...(spec.frontendServers?.length ? [upstream("frontend", spec.frontendServers)] : []),
      ...servers,
    ]),
  ];
  return `# nginx.conf for ${spec.appName}: rendered by runbook-as-code, do not edit by hand.\n${serializeNginx(main)}`;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The page the proxy serves with 503 while the maintenance switch is on. */
export function renderMaintenancePage(displayName: string): string {
  const name = escapeHtml(displayName);
  return [
    "<!doctype html>",
    '<html lang="en">',
    `<head><meta charset="utf-8"><title>${name}: scheduled maintenance</title></head>`,
    `<body><h1>${name} is down for scheduled maintenance</h1>`,
    "<p>We are updating the service and will be back shortly. No data is lost.</p></body>",
    "</html>",
    "",
  ].join("\n");
}

/** Network aliases services are reached by, inside an app's internal network. */
export const ALIASES = { database: "db", cache: "redis", frontend: "frontend", backend: "backend", proxy: "proxy" } as const;

/**
 * The containers behind the proxy, by their Docker names. Names, not shared aliases: a replaced
 * replica and its replacement share every alias while both exist, and nginx (1.22 has no upstream
 * `resolve`) would keep the old one's address after it is gone. A container name is unique to one
 * container, so a config naming the new containers sends nothing to the old ones.
 */
export interface ProxyUpstreams {
  readonly backends: readonly string[];
  readonly frontends?: readonly string[];
}

/** The proxy settings of one app, as AppStack deploys them: containers by name, certificate paths as on the host. */
export function proxyNginxSpec(app: Pick<AppSpec, "id" | "backend" | "frontend" | "proxy"> & Partial<Pick<AppSpec, "monitoring">>, upstreams: ProxyUpstreams): NginxConfigSpec {
  const publicFrontend = app.frontend !== undefined && app.frontend.adminPort === undefined;
  if (publicFrontend && !upstreams.frontends?.length) throw new Error("`upstreams.frontends` must name the frontend containers");
  return {
    appName: app.id,
    backendServers: upstreams.backends.map((name) => `${name}:${app.backend.port}`),
    ...(publicFrontend && { frontendServers: upstreams.frontends!.map((name) => `${name}:${app.frontend!.port}`) }),
    routes: app.proxy.routes,
    healthEndpoints: app.proxy.healthEndpoints,
    ...(app.backend.metricsPath !== undefined && { privatePaths: [app.backend.metricsPath] }),
    maintenance: app.proxy.maintenance,
    rateLimit: app.proxy.rateLimit,
    clientMaxBodyMb: app.proxy.clientMaxBodyMb,
    listen: { http: 80, ...(app.proxy.tls && { https: 443 }) },
    // The certificate directory is mounted at its own path (tlsMounts.ts), so nginx reads the live
    // paths, symlinks and all, and a renewal plus a reload serves the new certificate.
    ...(app.proxy.tls && { tls: { certificate: app.proxy.tls.certificateFile, key: app.proxy.tls.keyFile } }),
    maintenanceRoot: PROXY_PATHS.maintenanceRoot,
    ...(app.monitoring && { metrics: { syslogPort: PROXY_LOG.syslogPort } }),
  };
}

/**
 * What the proxy container starts with, before the deploy step delivers the app's config: its own
 * health endpoint and the maintenance page for everything else. It never changes, so the proxy
 * container is never recreated for a config change.
 */
export function renderBootstrapNginxConfig(appName: string, runtime: NginxConfigSpec["runtime"] = {}): string {
  const listen = runtime.listenAddress ? `${runtime.listenAddress}:80` : 80;
  const main: NginxDirective[] = [
    ...processSettings(runtime, 1, 256),
    block("http", [], [
      d("server_tokens", "off"),
      d("access_log", "off"),
      block("server", [], [
        d("listen", listen, "default_server"),
        d("server_name", "_"),
        d("error_page", 503, "/maintenance.html"),
        block("location", ["=", "/maintenance.html"], [d("root", PROXY_PATHS.maintenanceRoot), d("internal")]),
        block("location", ["=", PROXY_PATHS.selfHealth], [d("access_log", "off"), d("allow", "127.0.0.1"), d("deny", "all"), d("return", 200, "ok\n")]),
        block("location", ["/"], [d("return", 503)]),
      ]),
    ]),
  ];
  return `# Bootstrap nginx.conf for ${appName}: the deploy step replaces it with the app's config.\n${serializeNginx(main)}`;
}
