/** Calls one policy as a plain function, the way the analyzer would, and returns its messages. */
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { resolvePolicyConfig } from "../../plan/policyRunner";

import { CONTAINER } from "../helpers";

export { CONTAINER };

/** A container every general container policy accepts. */
export const compliantContainer = (): Record<string, unknown> => ({
  healthcheck: { tests: ["CMD", "pg_isready"], interval: "10s", retries: 5 },
  restart: "unless-stopped",
  memory: 256,
  cpus: "0.5",
  logDriver: "json-file",
  logOpts: { "max-size": "10m", "max-file": "3" },
  labels: [{ label: "runbook.role", value: "backend" }],
});

export function configFor(policy: ResourceValidationPolicy | StackValidationPolicy, config: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...resolvePolicyConfig([policy], "mandatory", { [policy.name]: config }).get(policy.name)!.config };
}

export interface FakeResource {
  type?: string;
  name?: string;
  props: Record<string, unknown>;
  opts?: Partial<PolicyResource["opts"]> & { retainOnDelete?: boolean };
}

export async function check(policy: ResourceValidationPolicy, r: FakeResource, config: Record<string, unknown> = {}): Promise<string[]> {
  const messages: string[] = [];
  const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource!];
  for (const validate of validations) {
    await validate(
      {
        type: r.type ?? CONTAINER,
        name: r.name ?? "c",
        urn: `urn:pulumi:test::runbook::${r.type ?? CONTAINER}::${r.name ?? "c"}`,
        props: r.props,
        opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [], ...r.opts },
        stackTags: new Map(),
        getConfig: (() => configFor(policy, config)) as never,
        isType: () => false,
        asType: (() => undefined) as never,
        notApplicable: (reason?: string) => {
          throw new Error(reason);
        },
      },
      (message) => messages.push(message),
    );
  }
  return messages;
}

/** Builds linked PolicyResources for a stack policy: `deps` and `parent` name other entries. */
export function stack(entries: { name: string; type: string; props?: Record<string, unknown>; parent?: string; deps?: string[] }[]): PolicyResource[] {
  const byName = new Map<string, PolicyResource>();
  for (const e of entries) {
    byName.set(e.name, {
      type: e.type,
      name: e.name,
      urn: `urn:pulumi:test::runbook::${e.type}::${e.name}`,
      props: e.props ?? {},
      opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
      dependencies: [],
      propertyDependencies: {},
      isType: () => false,
      asType: (() => undefined) as never,
    });
  }
  for (const e of entries) {
    const r = byName.get(e.name)!;
    if (e.parent) r.parent = byName.get(e.parent);
    r.dependencies = (e.deps ?? []).map((d) => byName.get(d)!);
  }
  return [...byName.values()];
}

export async function checkStack(policy: StackValidationPolicy, resources: PolicyResource[], config: Record<string, unknown> = {}): Promise<string[]> {
  const messages: string[] = [];
  await policy.validateStack(
    { resources, getConfig: (() => configFor(policy, config)) as never, stackTags: new Map(), notApplicable: (() => undefined) as never } as Parameters<StackValidationPolicy["validateStack"]>[0],
    (message) => messages.push(message),
  );
  return messages;
}
