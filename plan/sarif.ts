/**
 * SARIF 2.1.0 for the offline plan's policy violations, so a pull request can show them in code
 * scanning: one rule per policy (its description), one result per violation at the resource URN,
 * level error for mandatory and warning for advisory. The physical location is the line of the
 * stack file that declares the app, where a reviewer would fix it.
 */
import type { Policies } from "@pulumi/policy";
import type { Violation } from "./report";

export interface SarifContext {
  readonly policies: Policies;
  readonly violations: readonly Violation[];
  /** The stack file, relative to the repository root (forward slashes). */
  readonly stackFile: string;
  /** The stack file's text, to find the line of each app. */
  readonly stackFileText: string;
  /** App ids of the stack, to tell which app a resource belongs to. */
  readonly appIds: readonly string[];
  readonly toolVersion: string;
}

const SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";

function lineOfApp(text: string, appId: string | undefined): number {
  if (!appId) return 1;
  const lines = text.split("\n");
  const i = lines.findIndex((l) => new RegExp(`^\\s+${appId}:\\s*$`).test(l));
  return i >= 0 ? i + 1 : 1;
}

function appOf(urn: string | undefined, appIds: readonly string[]): string | undefined {
  const name = urn?.split("::").pop() ?? "";
  return [...appIds].sort((a, b) => b.length - a.length).find((id) => name === id || name.startsWith(`${id}-`));
}

export function renderSarif(ctx: SarifContext): Record<string, unknown> {
  const rules = ctx.policies.map((p) => ({
    id: p.name,
    name: p.name,
    shortDescription: { text: p.description.split(". ")[0]!.replace(/\.$/, "") + "." },
    fullDescription: { text: p.description },
    help: { text: p.description },
    defaultConfiguration: { level: "error" },
  }));
  const index = new Map(ctx.policies.map((p, i) => [p.name, i]));
  const results = ctx.violations
    .filter((v) => v.enforcementLevel === "mandatory" || v.enforcementLevel === "advisory")
    .map((v) => {
      const app = appOf(v.urn, ctx.appIds);
      return {
        ruleId: v.policy,
        ...(index.has(v.policy) && { ruleIndex: index.get(v.policy) }),
        level: v.enforcementLevel === "mandatory" ? "error" : "warning",
        message: { text: v.message },
        locations: [
          {
            physicalLocation: { artifactLocation: { uri: ctx.stackFile }, region: { startLine: lineOfApp(ctx.stackFileText, app) } },
            ...(v.urn && { logicalLocations: [{ fullyQualifiedName: v.urn, kind: "resource" }] }),
          },
        ],
        ...(v.urn && { partialFingerprints: { "resourceUrn/v1": v.urn } }),
      };
    });
  return {
    $schema: SARIF_SCHEMA,
    version: "2.1.0",
    runs: [
      {
        tool: { driver: { name: "runbook-policies", version: ctx.toolVersion, informationUri: "https://www.pulumi.com/docs/iac/using-pulumi/crossguard/", rules } },
        results,
      },
    ],
  };
}
