/**
 * The machinery every runbook-requirement policy shares: which rule applies in which environment,
 * and how a refusal is worded. A check knows one kind of requirement; `requirementPolicy` turns it
 * into a stack policy that enforces each app's rules in the app's environment, and
 * `stagingParityPolicy` reports, as advice, where a staging stack falls below production's rules
 * that the runbook sets no staging rule for.
 */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { appViews, type AppView } from "./appView";
import { runbookNumber, type AppRequirements, type AppRequirementsEntry, type RequirementsData, type Rule, type RunbookLine } from "./requirements";

/** One way an app falls short of a rule: what is wrong, and on which resource. */
export interface Shortfall {
  readonly detail: string;
  readonly urn?: string;
}

/** A kind of requirement: the rules of an app it covers, and how to verify one rule's value. */
export interface RequirementCheck {
  /** Rules of the kind, each with a key (a service name, or "" for a rule about the whole app). */
  rules(requirements: AppRequirements): readonly (readonly [string, Rule<unknown>])[];
  verify(app: AppView, entry: AppRequirementsEntry, key: string, value: unknown): Shortfall[];
}

/** A service's name as the runbook says it (`web` for the LMS backend). */
export function serviceName(entry: AppRequirementsEntry, service: string): string {
  return (entry.requirements.serviceNames as Record<string, string> | undefined)?.[service] ?? service.replace(/^worker:/, "");
}

/** The rules of a kind kept as a map by service. */
export function byService<T>(map: Partial<Record<string, Rule<T>>> | undefined): (readonly [string, Rule<unknown>])[] {
  return Object.entries(map ?? {}).filter((e): e is [string, Rule<T>] => e[1] !== undefined);
}

/** A single rule about the whole app. */
export function single<T>(rule: Rule<T> | undefined): (readonly [string, Rule<unknown>])[] {
  return rule ? [["", rule]] : [];
}

type Mode = "enforce" | "parity";

/** The value a rule holds an app to in its environment, and how a message says where it applies. */
function applicable(rule: Rule<unknown>, environment: string, mode: Mode): { value: unknown; where: string; source: RunbookLine } | undefined {
  if (mode === "enforce") {
    if (environment === "prod") return { value: rule.value, where: "in production", source: rule.source };
    return rule.staging !== undefined ? { value: rule.staging, where: `in ${environment}`, source: rule.stagingSource ?? rule.source } : undefined;
  }
  if (environment === "prod" || rule.staging !== undefined) return undefined;
  return { value: rule.value, where: `in production (advice for ${environment})`, source: rule.source };
}

/** "lms: web replicas 1 < 3 required in production (003 'Horizontal Scaling')". */
export function wording(app: string, detail: string, where: string, entry: AppRequirementsEntry, source: RunbookLine): string {
  return `${app}: ${detail} required ${where} (${runbookNumber(entry.runbook)} '${source.section}')`;
}

/**
 * The analyzer's error for a value unknown during a preview (@pulumi/policy proxy.js). Recognised by
 * name: the pack must not import the SDK's internals.
 */
const isUnknownValue = (err: unknown): boolean => err instanceof Error && err.constructor.name === "UnknownValueError";

function evaluate(resources: readonly PolicyResource[], data: RequirementsData, checks: readonly RequirementCheck[], mode: Mode, report: (message: string, urn?: string) => void): void {
  // A value unknown in a preview stops one rule of one app, not the policy: the others are still
  // checked and reported, then the first unknown is rethrown, and the analyzer adds its advisory
  // "can't run during preview" (it keeps what was reported before: @pulumi/policy server.js).
  let unknown: unknown;
  for (const app of appViews(resources)) {
    const entry = data[app.id];
    if (!entry) continue; // runbook-requirements-known reports it
    for (const check of checks) {
      for (const [key, rule] of check.rules(entry.requirements)) {
        const rulesHere = applicable(rule, app.environment, mode);
        if (!rulesHere) continue;
        try {
          for (const s of check.verify(app, entry, key, rulesHere.value)) {
            report(wording(app.id, s.detail, rulesHere.where, entry, rulesHere.source), s.urn ?? app.component?.urn);
          }
        } catch (err) {
          if (!isUnknownValue(err)) throw err;
          unknown ??= err;
        }
      }
    }
  }
  if (unknown !== undefined) throw unknown;
}

export function requirementPolicy(name: string, description: string, check: RequirementCheck, data: RequirementsData): StackValidationPolicy {
  return { name, description, validateStack: (args, report) => evaluate(args.resources, data, [check], "enforce", report) };
}

export function stagingParityPolicy(name: string, description: string, checks: readonly RequirementCheck[], data: RequirementsData): StackValidationPolicy {
  return { name, description, validateStack: (args, report) => evaluate(args.resources, data, checks, "parity", report) };
}

/** Words of a shell command line, quotes removed: enough to find an argv inside a deploy step. */
export function words(command: string): string[] {
  return [...command.matchAll(/'((?:[^']|'\\'')*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => (m[1] ?? m[2] ?? m[3] ?? "").replace(/'\\''/g, "'"));
}

/** Whether `argv` appears, word for word, in a command line. */
export function runsArgv(command: string, argv: readonly string[]): boolean {
  const w = words(command);
  return w.some((_, i) => argv.every((a, j) => w[i + j] === a));
}

/** Whether `r` depends on `on`, directly. */
export const dependsOn = (r: PolicyResource, on: PolicyResource): boolean => r.dependencies.some((d) => d.urn === on.urn);
