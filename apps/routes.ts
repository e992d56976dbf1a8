import type { ProxyRoute } from "./types";

/** Which service a path goes to through the proxy: the longest matching route prefix. */
export function routeFor(routes: readonly ProxyRoute[], path: string): ProxyRoute["service"] | undefined {
  const match = [...routes].filter((r) => path.startsWith(r.path)).sort((a, b) => b.path.length - a.path.length)[0];
  return match?.service;
}
