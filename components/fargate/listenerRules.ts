/**
 * The load balancer's routing of a Fargate app, from the same routes nginx serves on a Docker host
 * (apps/routes.ts): pure, so the rules the provider gets are the ones the tests read.
 *
 * nginx matches `location <prefix>` by the longest prefix; an ALB listener evaluates rules by
 * priority. So each route becomes one rule, longer paths first; `/` is the default action; private
 * paths (the backend's metrics) answer 404 before any route, as nginx's `location ^~ /metrics`
 * does. During maintenance only the health endpoints the backend serves stay routed, and
 * everything else gets the maintenance page (503), as nginx's maintenance switch does.
 */
import { routeFor } from "../../apps/routes";
import type { ProxyRoute } from "../../apps/types";

export type Target = "backend" | "frontend";

export type ListenerAction =
  | { readonly kind: "forward"; readonly target: Target }
  | { readonly kind: "fixed"; readonly status: 404 | 503; readonly body: string; readonly contentType: "text/plain" | "text/html" };

export interface ListenerRule {
  /** ALB priority: lower first, 1 to 50000. */
  readonly priority: number;
  /** Path patterns (at most five per rule: the ALB's limit on condition values). */
  readonly paths: readonly string[];
  readonly action: ListenerAction;
}

export interface ListenerPlan {
  readonly defaultAction: ListenerAction;
  readonly rules: readonly ListenerRule[];
}

export interface RoutingSpec {
  readonly routes: readonly ProxyRoute[];
  readonly healthEndpoints: readonly string[];
  readonly privatePaths: readonly string[];
  readonly maintenance: boolean;
  readonly appName: string;
}

export const MAINTENANCE_BODY = (app: string) =>
  `<!doctype html><title>Maintenance</title><h1>${app} is down for maintenance</h1><p>Please try again in a few minutes.</p>`;

/** During maintenance, the one path still forwarded to the frontend, so its target group stays attached. */
export const FRONTEND_KEEPALIVE_PATH = "/.runbook-maintenance/frontend";

const PATH = /^\/[A-Za-z0-9._~/-]*$/;

/** nginx's `location <prefix>` as ALB path patterns: `/api/` is `/api/*`; `/health` also `/health/*` and `/health*`. */
export function pathPatterns(prefix: string): string[] {
  if (!PATH.test(prefix)) throw new Error(`route path \`${prefix}\` must be an absolute URL path`);
  return prefix.endsWith("/") ? [`${prefix}*`] : [prefix, `${prefix}*`];
}

export function planListener(spec: RoutingSpec): ListenerPlan {
  const rules: ListenerRule[] = [];
  let priority = 1;
  for (const p of spec.privatePaths) {
    rules.push({ priority: priority++, paths: pathPatterns(p), action: { kind: "fixed", status: 404, body: "Not Found", contentType: "text/plain" } });
  }
  priority = Math.max(priority, 10);
  if (spec.maintenance) {
    const open = spec.healthEndpoints.filter((p) => routeFor(spec.routes, p) === "backend");
    for (const p of open) rules.push({ priority: priority++, paths: [p], action: { kind: "forward", target: "backend" } });
    // ECS refuses a service whose target group no listener forwards to: the frontend's keeps a rule on a
    // path of its own, which serves only what the frontend serves there.
    if (spec.routes.some((r) => r.service === "frontend")) rules.push({ priority, paths: [FRONTEND_KEEPALIVE_PATH], action: { kind: "forward", target: "frontend" } });
    return { defaultAction: { kind: "fixed", status: 503, body: MAINTENANCE_BODY(spec.appName), contentType: "text/html" }, rules };
  }
  const root = spec.routes.find((r) => r.path === "/");
  const byLength = spec.routes.filter((r) => r.path !== "/").sort((a, b) => b.path.length - a.path.length || a.path.localeCompare(b.path));
  for (const r of byLength) {
    rules.push({ priority: priority++, paths: pathPatterns(r.path), action: { kind: "forward", target: r.service } });
  }
  const fallback: Target = root?.service ?? "backend";
  return { defaultAction: { kind: "forward", target: fallback }, rules };
}
