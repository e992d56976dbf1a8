/**
 * Runs the CrossGuard pack in-process with the CLI analyzer's semantics (@pulumi/policy's
 * server.js): props deserialized as the analyzer does and wrapped in its unknown-checking proxy,
 * remediations before validations, stack policies with parent and dependency links, enforcement
 * levels from the pack default and the stack's policy config, config defaults from each schema.
 */
import type {
  EnforcementLevel,
  Policies,
  PolicyResource,
  PolicyResourceOptions,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import * as policyDeserialize from "@pulumi/policy/deserialize";
import * as policyProxy from "@pulumi/policy/proxy";
import Ajv from "ajv";
import type { PlannedResource } from "./mockRuntime";
import type { Violation } from "./report";

/** The analyzer's internals (untyped in @pulumi/policy): guarded by test/plan/pulumiInternals.test.ts. */
export const analyzerInternals = {
  deserializeProperties: (policyDeserialize as unknown as {
    deserializeProperties: (struct: { toJavaScript(): Record<string, unknown> }, proxySecrets: boolean) => Record<string, unknown>;
  }).deserializeProperties,
  unknownCheckingProxy: (policyProxy as unknown as { unknownCheckingProxy: <T>(o: T) => T }).unknownCheckingProxy,
  UnknownValueError: (policyProxy as unknown as { UnknownValueError: new (...args: unknown[]) => Error }).UnknownValueError,
};

const LEVELS: readonly EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];

/** The content of a `--policy-pack-config` file. */
export type PolicyConfigFile = Record<string, unknown>;

export interface ResolvedPolicy {
  readonly level: EnforcementLevel;
  readonly config: Readonly<Record<string, unknown>>;
}

export class PolicyConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid policy pack config (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "PolicyConfigError";
  }
}

/**
 * Validates a policy config file against the pack (unknown policy names, types and ranges from
 * each policy's configSchema) and fills in defaults. Every problem at once.
 */
export function resolvePolicyConfig(policies: Policies, packLevel: EnforcementLevel, file: PolicyConfigFile): Map<string, ResolvedPolicy> {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
  const problems: string[] = [];
  const byName = new Map(policies.map((p) => [p.name, p]));
  for (const name of Object.keys(file)) {
    if (!byName.has(name)) problems.push(`${name}: unknown policy; the pack has ${[...byName.keys()].join(", ")}`);
  }
  const resolved = new Map<string, ResolvedPolicy>();
  for (const policy of policies) {
    const entry = file[policy.name];
    let level: EnforcementLevel = policy.enforcementLevel ?? packLevel;
    let values: Record<string, unknown> = {};
    if (typeof entry === "string") {
      if (!LEVELS.includes(entry as EnforcementLevel)) problems.push(`${policy.name}: enforcement level "${entry}" must be one of ${LEVELS.join(", ")}`);
      else level = entry as EnforcementLevel;
    } else if (entry !== undefined && (entry === null || typeof entry !== "object" || Array.isArray(entry))) {
      problems.push(`${policy.name}: must be an enforcement level or an object of settings`);
    } else if (entry !== undefined) {
      const { enforcementLevel, ...rest } = entry as Record<string, unknown>;
      if (enforcementLevel !== undefined) {
        if (!LEVELS.includes(enforcementLevel as EnforcementLevel)) problems.push(`${policy.name}.enforcementLevel: "${String(enforcementLevel)}" must be one of ${LEVELS.join(", ")}`);
        else level = enforcementLevel as EnforcementLevel;
      }
      values = structuredClone(rest);
    }
    const schema = {
      type: "object",
      properties: policy.configSchema?.properties ?? {},
      required: policy.configSchema?.required ?? [],
      additionalProperties: false,
    };
    const validate = ajv.compile(schema);
    if (!validate(values)) {
      for (const err of validate.errors ?? []) {
        const key = err.keyword === "additionalProperties"
          ? String((err.params as { additionalProperty: string }).additionalProperty)
          : err.instancePath.replace(/^\//, "").replace(/\//g, ".");
        const what = err.keyword === "additionalProperties" ? "is not a setting of this policy" : err.message ?? "is invalid";
        problems.push(`${policy.name}.${key || "(config)"}: ${what}`);
      }
    }
    resolved.set(policy.name, { level, config: values });
  }
  if (problems.length > 0) throw new PolicyConfigError(problems);
  return resolved;
}

export interface PolicyRun {
  readonly violations: Violation[];
  /** Props a remediate-level policy changed, by URN: what the CLI would send to the provider. */
  readonly remediated: Map<string, Record<string, unknown>>;
  readonly notApplicable: { readonly policy: string; readonly urn: string; readonly reason?: string }[];
}

class NotApplicable extends Error {
  constructor(readonly reason?: string) {
    super(reason ?? "Policy does not apply");
  }
}
const notApplicable = (reason?: string): never => {
  throw new NotApplicable(reason);
};

const isResourcePolicy = (p: Policies[number]): p is ResourceValidationPolicy => "validateResource" in p || "remediateResource" in p;
const isStackPolicy = (p: Policies[number]): p is StackValidationPolicy => "validateStack" in p;

function optionsOf(r: PlannedResource): PolicyResourceOptions & { retainOnDelete: boolean } {
  return {
    protect: r.options.protect,
    ignoreChanges: [...r.options.ignoreChanges],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [...r.options.additionalSecretOutputs],
    // Only when declared, as the analyzer does (@pulumi/policy server.js: `if (opts.getDeletebeforereplacedefined())`).
    ...(r.options.deleteBeforeReplace !== undefined && { deleteBeforeReplace: r.options.deleteBeforeReplace }),
    ...(r.parent && { parent: r.parent }),
    // Not passed by the Pulumi CLI today; policies must treat it as optional.
    retainOnDelete: r.options.retainOnDelete,
  };
}

function isTypeOf(type: string, cls: unknown): boolean {
  return (cls as { __pulumiType?: string }).__pulumiType === type;
}

/** Props as the analyzer hands them to validations: secrets unwrapped, unknowns behind the proxy. */
function analyzerProps(wire: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return analyzerInternals.deserializeProperties({ toJavaScript: () => structuredClone(wire) as Record<string, unknown> }, false);
}

export async function runPolicies(
  resources: readonly PlannedResource[],
  policies: Policies,
  levels: Map<string, ResolvedPolicy>,
  policyDescriptions = true,
): Promise<PolicyRun> {
  const violations: Violation[] = [];
  const remediated = new Map<string, Record<string, unknown>>();
  const skipped: PolicyRun["notApplicable"] = [];
  const levelOf = (name: string) => levels.get(name)?.level ?? "mandatory";
  const configOf = (name: string) => () => structuredClone(levels.get(name)?.config ?? {}) as never;
  const reporter = (policy: Policies[number], level: EnforcementLevel, defaultUrn: string): ReportViolation => (message, urn) =>
    violations.push({
      policy: policy.name,
      enforcementLevel: level,
      message,
      ...((urn || defaultUrn) && { urn: urn || defaultUrn }),
      ...(policyDescriptions && { description: policy.description }),
    });
  /**
   * What the analyzer does with a policy that throws: an unknown value becomes an advisory
   * "can't run during preview", notApplicable is recorded, anything else fails the run.
   */
  const handle = (policy: string, err: unknown, urn?: string) => {
    if (err instanceof analyzerInternals.UnknownValueError) {
      violations.push({ policy, enforcementLevel: "advisory", message: `can't run policy '${policy}' during preview: ${err.message}`, ...(urn && { urn }) });
    } else if (err instanceof NotApplicable) {
      skipped.push({ policy, urn: urn ?? "", ...(err.reason && { reason: err.reason }) });
    } else {
      throw new Error(`policy ${policy} failed on ${urn ?? "the stack"}: ${(err as Error).message}`, { cause: err });
    }
  };

  const propsByUrn = new Map<string, Record<string, unknown>>();
  for (const r of resources) {
    let props = analyzerProps(r.wireInputs);
    const base = { type: r.type, urn: r.urn, name: r.name, opts: optionsOf(r), stackTags: new Map<string, string>(), notApplicable };
    // Remediations first, as the engine does, each seeing the previous one's result.
    for (const p of policies.filter(isResourcePolicy)) {
      if (levelOf(p.name) !== "remediate" || !p.remediateResource) continue;
      const args: ResourceValidationArgs = {
        ...base,
        props: analyzerInternals.unknownCheckingProxy(props),
        getConfig: configOf(p.name),
        isType: (cls) => isTypeOf(r.type, cls),
        asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? props : undefined)) as ResourceValidationArgs["asType"],
      };
      try {
        const result = await p.remediateResource(args);
        if (result) {
          props = structuredClone(result) as Record<string, unknown>;
          remediated.set(r.urn, props);
        }
      } catch (err) {
        handle(p.name, err, r.urn);
      }
    }
    propsByUrn.set(r.urn, props);
    for (const p of policies.filter(isResourcePolicy)) {
      let level = levelOf(p.name);
      if (level === "disabled" || !p.validateResource) continue;
      if (level === "remediate") level = "mandatory"; // still violating after remediation
      const validations = Array.isArray(p.validateResource) ? p.validateResource : [p.validateResource];
      for (const validate of validations) {
        const proxied = analyzerInternals.unknownCheckingProxy(props);
        const args: ResourceValidationArgs = {
          ...base,
          props: proxied,
          getConfig: configOf(p.name),
          isType: (cls) => isTypeOf(r.type, cls),
          asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? proxied : undefined)) as ResourceValidationArgs["asType"],
        };
        try {
          await validate(args, reporter(p, level, r.urn));
        } catch (err) {
          handle(p.name, err, r.urn);
        }
      }
    }
  }

  // Stack policies: every resource, linked to its parent and dependencies.
  const stackPolicies = policies.filter(isStackPolicy);
  if (stackPolicies.length > 0) {
    const linked = new Map<string, PolicyResource>();
    for (const r of resources) {
      const props = analyzerInternals.unknownCheckingProxy(propsByUrn.get(r.urn)!);
      linked.set(r.urn, {
        type: r.type,
        props,
        urn: r.urn,
        name: r.name,
        opts: optionsOf(r),
        dependencies: [],
        propertyDependencies: {},
        isType: (cls) => isTypeOf(r.type, cls),
        asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? props : undefined)) as PolicyResource["asType"],
      });
    }
    for (const r of resources) {
      const node = linked.get(r.urn)!;
      if (r.parent && linked.has(r.parent)) node.parent = linked.get(r.parent);
      node.dependencies = r.dependencies.map((d) => linked.get(d)).filter((d): d is PolicyResource => d !== undefined);
    }
    const all = [...linked.values()];
    for (const p of stackPolicies) {
      let level = levelOf(p.name);
      if (level === "disabled") continue;
      if (level === "remediate") level = "mandatory"; // stack policies cannot remediate
      try {
        await p.validateStack({ resources: all, getConfig: configOf(p.name), stackTags: new Map(), notApplicable } as Parameters<StackValidationPolicy["validateStack"]>[0], reporter(p, level, ""));
      } catch (err) {
        handle(p.name, err);
      }
    }
  }
  return { violations, remediated, notApplicable: skipped };
}
