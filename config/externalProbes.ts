/**
 * `apps.<id>.monitoring.externalProbes`: the URL of each third-party service the app's runbook
 * checks it can reach (the catalog's `externalServices`), per stack, since a deployment picks its
 * own node or sandbox. Each configured service is probed by the app's blackbox exporter and alerts
 * when it stops answering. The schema, the cross-field rules (a name the catalog does not declare,
 * probes of an app whose monitoring is off) and the resolved ExternalProbeSpec list.
 *
 * The URL is written to prometheus.yml in plain text, so it may carry no credentials and no query
 * string (where an API key would go): the services answer the probe without a key.
 */
import { z } from "zod";
import { catalog, type AppDefinition } from "../apps";
import type { ExternalServiceDefinition } from "../apps/types";
import type { AlertSeverity } from "../policies/monitoring/signals";

export const EXTERNAL_PROBE_DEFAULTS = {
  /** No runbook gives a duration for an unreachable service: the runbooks' most common one. */
  forMinutes: 5,
  /** A third party's outage warns: the app's own error-rate and health alerts page when users see it. */
  severity: "warning",
} as const satisfies { forMinutes: number; severity: AlertSeverity };

/** Why a URL cannot be probed as an external service, or undefined. */
export function externalUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "must be an absolute https URL, such as https://api.stripe.com/v1/charges";
  }
  if (url.protocol === "http:") return "must use https, not plain http: the probe verifies the service's certificate, as the runbook's requests.get does";
  if (url.protocol !== "https:") return `must be an https URL (got ${url.protocol.replace(/:$/, "")})`;
  if (url.username || url.password) return "must carry no user or password: the URL is written to prometheus.yml in plain text";
  if (url.search || url.hash || text.includes("?") || text.includes("#")) {
    return "must have no query string or fragment: the URL is written to prometheus.yml in plain text, and a key in it would be too";
  }
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (host === "localhost" || /^127\./.test(host) || host === "::1" || host === "0.0.0.0") return "must name the service, not the loopback address (inside the blackbox container that is the exporter itself)";
  return undefined;
}

const url = z.string({ error: "must be an https URL string" }).superRefine((text, ctx) => {
  const problem = externalUrlProblem(text);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

const probe = z.strictObject({
  url,
  /** Minutes the service stays unreachable before the alert fires. */
  forMinutes: z.number().int({ error: "must be a whole number of minutes" }).min(1, { error: "must be at least 1" }).max(1440, { error: "must be at most 1440 (a day)" }).optional(),
  severity: z.enum(["critical", "warning", "info"], { error: "must be critical, warning or info" }).optional(),
});

/** The schema of `apps.<id>.monitoring.externalProbes`; names are checked against the catalog in externalProbeProblems. */
export const externalProbesSchema = z.record(z.string(), probe, { error: "must be a map of external service name to {url, forMinutes, severity}" });

export type ExternalProbesConfig = z.infer<typeof externalProbesSchema>;

/** One service the app's blackbox exporter probes, resolved. */
export interface ExternalProbeSpec extends Omit<ExternalServiceDefinition, "runbookUrl"> {
  readonly url: string;
  readonly forMinutes: number;
  readonly severity: AlertSeverity;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** Names the app's catalog entry does not declare, and probes of an app whose monitoring is off; with key paths. */
export function externalProbeProblems(apps: Record<string, unknown>): { path: PropertyKey[]; message: string }[] {
  const problems: { path: PropertyKey[]; message: string }[] = [];
  for (const [id, app] of Object.entries(apps)) {
    const def = catalog[id];
    const monitoring = isObject(app) && isObject(app["monitoring"]) ? app["monitoring"] : undefined;
    const probes = monitoring && isObject(monitoring["externalProbes"]) ? monitoring["externalProbes"] : undefined;
    if (!def || !probes) continue;
    const declared = (def.externalServices ?? []).map((e) => e.name);
    const path = ["apps", id, "monitoring", "externalProbes"];
    if (monitoring!["enabled"] === false && Object.keys(probes).length > 0) {
      problems.push({ path, message: `monitoring is off for this app (apps.${id}.monitoring.enabled): nothing would probe them; remove them or turn it on` });
    }
    for (const name of Object.keys(probes)) {
      if (declared.includes(name)) continue;
      problems.push({
        path: [...path, name],
        message: declared.length
          ? `is not an external service ${def.displayName}'s runbook checks; it checks ${declared.join(", ")}`
          : `is not an external service ${def.displayName}'s runbook checks; it checks none`,
      });
    }
  }
  return problems;
}

/** The services a stack gives a URL for, in the catalog's order. */
export function resolveExternalProbes(def: AppDefinition, config: ExternalProbesConfig | undefined): ExternalProbeSpec[] {
  return (def.externalServices ?? []).flatMap((service): ExternalProbeSpec[] => {
    const set = config?.[service.name];
    if (!set) return [];
    return [
      {
        name: service.name,
        displayName: service.displayName,
        expect: service.expect,
        timeoutSeconds: service.timeoutSeconds,
        ...(service.procedure !== undefined && { procedure: service.procedure }),
        url: set.url,
        forMinutes: set.forMinutes ?? EXTERNAL_PROBE_DEFAULTS.forMinutes,
        severity: set.severity ?? EXTERNAL_PROBE_DEFAULTS.severity,
      },
    ];
  });
}
