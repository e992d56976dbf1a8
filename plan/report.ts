/**
 * What the offline plan prints: a resource tree, counts by type, and the JSON document.
 * Secret inputs never leave as values: they become the string "[secret]".
 */
import type { PlannedResource } from "./mockRuntime";
import { deleteBeforeReplaceOf } from "./providerDefaults";
import { MIN_PULUMI_CLI_VERSION } from "./pulumiCli";
import { RESOURCE_SIG, SECRET_SIG, SPECIAL_SIG_KEY, UNKNOWN_VALUE } from "./pulumiInternals";

export const REDACTED = "[secret]";
export const UNKNOWN = "[unknown]";

export interface Violation {
  readonly policy: string;
  readonly enforcementLevel: "advisory" | "mandatory" | "remediate" | "disabled";
  readonly message: string;
  readonly urn?: string;
  /** The runbook requirement the policy enforces (its description). */
  readonly description?: string;
}

export interface PlanDocument {
  readonly stack: string;
  readonly environment: string;
  /** The oldest Pulumi CLI that can deploy this program (plan/pulumiCli.ts). */
  readonly minPulumiCliVersion: string;
  readonly resources: readonly {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    readonly parent: string | null;
    readonly dependencies: readonly string[];
    readonly options: {
      readonly protect: boolean;
      /** What the program declared; absent when it declared nothing (the provider's default applies). */
      readonly deleteBeforeReplace?: boolean;
      readonly retainOnDelete: boolean;
      readonly ignoreChanges: readonly string[];
    };
    readonly inputs: unknown;
  }[];
  readonly violations: readonly Violation[];
  readonly warnings: readonly string[];
  /** Planned as a first preview (`--preview`): provider outputs unknown. */
  readonly preview: boolean;
  /** Policies that reported "can't run policy ... during preview" (always empty without --preview). */
  readonly cannotRunDuringPreview: readonly string[];
}

/** The analyzer's message for a policy that met an unknown value (@pulumi/policy server.js). */
export const CANNOT_RUN_DURING_PREVIEW = /^can't run policy '([^']+)' during preview/;

/** Wire-format inputs to plain JSON: secrets redacted, unknowns marked, resource references as URNs. */
export function redactInputs(value: unknown): unknown {
  if (value === UNKNOWN_VALUE) return UNKNOWN;
  if (Array.isArray(value)) return value.map(redactInputs);
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    const sig = obj[SPECIAL_SIG_KEY];
    if (sig === SECRET_SIG) return REDACTED;
    if (sig === RESOURCE_SIG) return obj["urn"];
    return Object.fromEntries(Object.entries(obj).filter(([k]) => k !== SPECIAL_SIG_KEY).map(([k, v]) => [k, redactInputs(v)]));
  }
  return value;
}

export function planDocument(
  stack: string,
  environment: string,
  resources: readonly PlannedResource[],
  violations: readonly Violation[],
  warnings: readonly string[],
  preview = false,
): PlanDocument {
  return {
    stack,
    environment,
    minPulumiCliVersion: MIN_PULUMI_CLI_VERSION,
    resources: resources.map((r) => ({
      type: r.type,
      name: r.name,
      urn: r.urn,
      parent: r.parent ?? null,
      dependencies: r.dependencies,
      options: {
        protect: r.options.protect,
        ...(r.options.deleteBeforeReplace !== undefined && { deleteBeforeReplace: r.options.deleteBeforeReplace }),
        retainOnDelete: r.options.retainOnDelete,
        ignoreChanges: r.options.ignoreChanges,
      },
      inputs: redactInputs(r.wireInputs),
    })),
    // The documented shape; descriptions live in the text report and the SARIF rules.
    violations: violations.map((v) => ({ policy: v.policy, enforcementLevel: v.enforcementLevel, message: v.message, ...(v.urn && { urn: v.urn }) })),
    warnings,
    preview,
    cannotRunDuringPreview: [...new Set(violations.map((v) => CANNOT_RUN_DURING_PREVIEW.exec(v.message)?.[1]).filter((n): n is string => n !== undefined))].sort(),
  };
}

export function countByType(resources: readonly PlannedResource[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const r of resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

function flags(r: PlannedResource): string {
  const dbr = deleteBeforeReplaceOf(r);
  const f = [
    // An adopted volume: the engine reads it by this id instead of creating it.
    r.options.importId !== undefined && `import ${r.options.importId}`,
    r.options.protect && "protect",
    r.options.retainOnDelete && "retainOnDelete",
    dbr === "declared" && "deleteBeforeReplace",
    dbr === "provider default" && "deleteBeforeReplace (provider default)",
  ].filter(Boolean);
  return f.length ? `  [${f.join(", ")}]` : "";
}

export function renderTree(resources: readonly PlannedResource[]): string {
  const children = new Map<string | undefined, PlannedResource[]>();
  const urns = new Set(resources.map((r) => r.urn));
  for (const r of resources) {
    const key = r.parent && urns.has(r.parent) ? r.parent : undefined;
    children.set(key, [...(children.get(key) ?? []), r]);
  }
  const lines: string[] = [];
  const walk = (parent: string | undefined, prefix: string) => {
    const list = children.get(parent) ?? [];
    list.forEach((r, i) => {
      const last = i === list.length - 1;
      lines.push(`${prefix}${last ? "└─ " : "├─ "}${r.type}  ${r.name}${flags(r)}`);
      walk(r.urn, `${prefix}${last ? "   " : "│  "}`);
    });
  };
  walk(undefined, "");
  return lines.join("\n");
}

export function renderViolations(violations: readonly Violation[]): string {
  if (violations.length === 0) return "Policies: no violations.";
  const byPolicy = new Map<string, Violation[]>();
  for (const v of violations) byPolicy.set(v.policy, [...(byPolicy.get(v.policy) ?? []), v]);
  const out: string[] = [`Policies: ${violations.length} violation${violations.length === 1 ? "" : "s"}`];
  for (const [policy, list] of byPolicy) {
    out.push(`  ${policy} (${list[0]!.enforcementLevel})${list[0]!.description ? `: ${list[0]!.description}` : ""}`);
    for (const v of list) out.push(`    - ${v.urn ? `${v.urn}: ` : ""}${v.message}`);
  }
  return out.join("\n");
}
