/**
 * What the monitoring policies read: an app's alert rules (the upload of its Prometheus container)
 * and its Alertmanager routing (the stdin of the step that delivers alertmanager.yml), parsed with a
 * real YAML parser, and the routing walked as Alertmanager walks it. No policy lives here.
 */
import type { PolicyResource } from "@pulumi/policy";
import { parse } from "yaml";
import type { AppView } from "../runbook/appView";

export interface PromRule {
  readonly alert?: string;
  readonly expr?: string;
  readonly for?: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/** The service label of the app's Prometheus container. */
export const PROMETHEUS_SERVICE = "monitoring:prometheus";
/** Name suffix of the step that delivers alertmanager.yml. */
export const ALERTMANAGER_STEP = "alertmanager-config";

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

const parsed = new WeakMap<PolicyResource, PromRule[]>();

/** Every alerting rule of the rule files the app's Prometheus is given (uploads under a `rules` directory). */
export function alertRulesOf(prometheus: PolicyResource): PromRule[] {
  const known = parsed.get(prometheus);
  if (known) return known;
  const uploads = (prometheus.props["uploads"] as { file?: string; content?: string }[] | undefined) ?? [];
  const rules = uploads
    .filter((u) => /\/rules\/[^/]+\.ya?ml$/.test(u.file ?? ""))
    .flatMap((u) => {
      const doc: unknown = parse(u.content ?? "");
      const groups = isObject(doc) && Array.isArray(doc["groups"]) ? doc["groups"] : [];
      return groups.flatMap((g: unknown) => (isObject(g) && Array.isArray(g["rules"]) ? (g["rules"] as PromRule[]) : []));
    })
    .filter((r) => isObject(r) && typeof r.alert === "string");
  parsed.set(prometheus, rules);
  return rules;
}

export interface ScrapeJob {
  readonly job_name?: string;
  readonly metrics_path?: string;
  readonly params?: Readonly<Record<string, readonly string[]>>;
  readonly static_configs?: readonly { readonly targets?: readonly string[]; readonly labels?: Readonly<Record<string, string>> }[];
}

/** The scrape jobs of the prometheus.yml the app's Prometheus is given (the upload named prometheus.yml). */
export function scrapeJobsOf(prometheus: PolicyResource): ScrapeJob[] {
  const uploads = (prometheus.props["uploads"] as { file?: string; content?: string }[] | undefined) ?? [];
  return uploads
    .filter((u) => /\/prometheus\.ya?ml$/.test(u.file ?? ""))
    .flatMap((u) => {
      const doc: unknown = parse(u.content ?? "");
      return isObject(doc) && Array.isArray(doc["scrape_configs"]) ? (doc["scrape_configs"] as unknown[]).filter(isObject).map((j) => j as ScrapeJob) : [];
    });
}

export const prometheusOf = (app: AppView): PolicyResource | undefined => app.service(PROMETHEUS_SERVICE)[0];

/** A rule's `for:` in minutes (`5m`, `1h30m`, `90s`); 0 without one. */
export function forMinutes(text: string | undefined): number {
  if (!text) return 0;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) return Number.POSITIVE_INFINITY;
  const scale: Record<string, number> = { ms: 1 / 60000, s: 1 / 60, m: 1, h: 60, d: 1440, w: 10080, y: 525600 };
  return parts.reduce((sum, p) => sum + Number(p[1]) * scale[p[2]!]!, 0);
}

/** The number a rule's expression compares its value with (`... > 10`), or undefined. */
export function comparedWith(expr: string | undefined): number | undefined {
  const m = /\s>\s*(-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)\s*$/.exec(expr ?? "");
  return m ? Number(m[1]) : undefined;
}

type Labels = Readonly<Record<string, string>>;

/** Whether one Alertmanager matcher (`severity="critical"`, `app=~"a|b"`, `x!="y"`) matches labels. */
function matcher(text: string, labels: Labels): boolean {
  const m = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"?((?:[^"\\]|\\.)*)"?\s*$/.exec(text);
  if (!m) return false;
  const value = labels[m[1]!] ?? "";
  const want = m[3]!;
  switch (m[2]) {
    case "=":
      return value === want;
    case "!=":
      return value !== want;
    case "=~":
      return new RegExp(`^(?:${want})$`).test(value);
    default:
      return !new RegExp(`^(?:${want})$`).test(value);
  }
}

function matches(route: Record<string, unknown>, labels: Labels): boolean {
  const list = Array.isArray(route["matchers"]) ? (route["matchers"] as string[]) : [];
  const eq = isObject(route["match"]) ? Object.entries(route["match"]).map(([k, v]) => `${k}="${String(v)}"`) : [];
  const re = isObject(route["match_re"]) ? Object.entries(route["match_re"]).map(([k, v]) => `${k}=~"${String(v)}"`) : [];
  return [...list, ...eq, ...re].every((m) => matcher(m, labels));
}

/** The receivers an alert with `labels` is sent to, walking the routing tree as Alertmanager does. */
export function receiversFor(config: unknown, labels: Labels): string[] {
  const root = isObject(config) && isObject(config["route"]) ? config["route"] : undefined;
  if (!root) return [];
  const walk = (node: Record<string, unknown>, inherited: string): string[] => {
    const receiver = typeof node["receiver"] === "string" ? node["receiver"] : inherited;
    const found: string[] = [];
    for (const child of Array.isArray(node["routes"]) ? node["routes"] : []) {
      if (!isObject(child) || !matches(child, labels)) continue;
      found.push(...walk(child, receiver));
      if (child["continue"] !== true) break;
    }
    return found.length > 0 ? found : [receiver];
  };
  return walk(root, "");
}

/** How many notification integrations (e-mail, Slack, webhook...) a receiver has. */
export function integrations(config: unknown, receiver: string): number {
  const receivers = isObject(config) && Array.isArray(config["receivers"]) ? config["receivers"] : [];
  const r = receivers.find((x: unknown) => isObject(x) && x["name"] === receiver);
  if (!isObject(r)) return 0;
  return Object.entries(r)
    .filter(([k, v]) => k.endsWith("_configs") && Array.isArray(v))
    .reduce((n, [, v]) => n + (v as unknown[]).length, 0);
}

/** Whether an inhibition rule can silence an alert with `labels` (it is some rule's target). */
export function inhibitable(config: unknown, labels: Labels): boolean {
  const rules = isObject(config) && Array.isArray(config["inhibit_rules"]) ? config["inhibit_rules"] : [];
  return rules.some((r: unknown) => isObject(r) && Array.isArray(r["target_matchers"]) && (r["target_matchers"] as string[]).every((m) => matcher(m, labels)));
}

export { parse as parseYaml };
