import type { Policies, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import type { PlannedResource } from "../../plan/mockRuntime";
import { PolicyConfigError, analyzerInternals, resolvePolicyConfig, runPolicies } from "../../plan/policyRunner";
import { SECRET_SIG, SPECIAL_SIG_KEY, UNKNOWN_VALUE } from "../../plan/pulumiInternals";
import { policies } from "../../policies/pack";

const resource = (name: string, wireInputs: Record<string, unknown>, extra: Partial<PlannedResource> = {}): PlannedResource => ({
  type: "docker:index/container:Container",
  name,
  urn: `urn:pulumi:t::runbook::docker:index/container:Container::${name}`,
  custom: true,
  dependencies: [],
  options: { protect: false, deleteBeforeReplace: false, retainOnDelete: false, ignoreChanges: [], additionalSecretOutputs: [] },
  wireInputs,
  ...extra,
});

/** A test policy: restart must be "always"; remediation sets it. */
const restartAlways: ResourceValidationPolicy = {
  name: "test-container-restart-always",
  description: "Containers restart always. A test policy for the runner.",
  configSchema: { properties: { wanted: { type: "string", default: "always" }, limit: { type: "integer", minimum: 1, maximum: 10, default: 3 } } },
  remediateResource: (args) => ({ ...args.props, restart: args.getConfig<{ wanted: string }>().wanted }),
  validateResource: (args, report) => {
    const { wanted } = args.getConfig<{ wanted: string }>();
    if (args.props["restart"] !== wanted) report(`${args.name}: restart is ${String(args.props["restart"])}, want ${wanted}`);
  },
};

const run = (rs: PlannedResource[], ps: Policies, file: Record<string, unknown> = {}) => runPolicies(rs, ps, resolvePolicyConfig(ps, "mandatory", file), false);

describe("the in-process policy runner", () => {
  const bad = [resource("web", { restart: "no" })];

  it("reports a mandatory violation at the resource's URN", async () => {
    const result = await run(bad, [restartAlways]);
    expect(result.violations).toEqual([
      { policy: "test-container-restart-always", enforcementLevel: "mandatory", message: "web: restart is no, want always", urn: bad[0]!.urn },
    ]);
  });

  it("reports advisory violations as advisory and skips disabled policies", async () => {
    expect((await run(bad, [restartAlways], { "test-container-restart-always": "advisory" })).violations.map((v) => v.enforcementLevel)).toEqual(["advisory"]);
    expect((await run(bad, [restartAlways], { "test-container-restart-always": "disabled" })).violations).toEqual([]);
  });

  it("applies remediations at the remediate level, and validations then see the remediated props", async () => {
    const result = await run(bad, [restartAlways], { "test-container-restart-always": { enforcementLevel: "remediate", wanted: "unless-stopped" } });
    expect(result.remediated.get(bad[0]!.urn)).toEqual({ restart: "unless-stopped" });
    expect(result.violations).toEqual([]);
  });

  it("gives policies their schema defaults, and the config file's overrides", async () => {
    expect((await run([resource("web", { restart: "always" })], [restartAlways])).violations).toEqual([]);
    const overridden = await run([resource("web", { restart: "always" })], [restartAlways], { "test-container-restart-always": { wanted: "on-failure" } });
    expect(overridden.violations.map((v) => v.message)).toEqual(["web: restart is always, want on-failure"]);
  });

  it("turns an unknown value into an advisory 'cannot run during preview', not a crash", async () => {
    const result = await run([resource("web", { restart: UNKNOWN_VALUE })], [restartAlways]);
    expect(result.violations).toHaveLength(1);
    expect(result.violations[0]).toMatchObject({ enforcementLevel: "advisory", urn: bad[0]!.urn });
    expect(result.violations[0]!.message).toMatch(/^can't run policy 'test-container-restart-always' during preview: /);
  });

  it("hands policies secrets unwrapped, as the Pulumi CLI does", async () => {
    const seen: unknown[] = [];
    const spy: ResourceValidationPolicy = { name: "test-spy-props", description: "Records props. A test policy.", validateResource: (a) => void seen.push(a.props["envs"]) };
    await run([resource("web", { envs: [{ [SPECIAL_SIG_KEY]: SECRET_SIG, value: "A=1" }, "B=2"] })], [spy]);
    expect(seen).toEqual([["A=1", "B=2"]]);
  });

  it("shows resource options to policies, retainOnDelete included", async () => {
    const opts: unknown[] = [];
    const spy: ResourceValidationPolicy = { name: "test-spy-opts", description: "Records options. A test policy.", validateResource: (a) => void opts.push(a.opts) };
    const r = resource("vol", {}, { options: { protect: true, deleteBeforeReplace: true, retainOnDelete: true, ignoreChanges: ["labels"], additionalSecretOutputs: ["envs"] }, parent: "urn:p" });
    await run([r], [spy]);
    expect(opts[0]).toMatchObject({ protect: true, deleteBeforeReplace: true, retainOnDelete: true, ignoreChanges: ["labels"], additionalSecretOutputs: ["envs"], parent: "urn:p" });
  });

  it("passes deleteBeforeReplace to policies only when the program declared it, as the analyzer does", async () => {
    const opts: Record<string, unknown>[] = [];
    const spy: ResourceValidationPolicy = { name: "test-spy-dbr", description: "Records options. A test policy.", validateResource: (a) => void opts.push({ ...a.opts }) };
    const undeclared = resource("c", {}, { options: { protect: false, retainOnDelete: false, ignoreChanges: [], additionalSecretOutputs: [] } });
    await run([undeclared, resource("d", {})], [spy]);
    expect("deleteBeforeReplace" in opts[0]!).toBe(false);
    expect(opts[1]!["deleteBeforeReplace"]).toBe(false);
  });

  it("links stack policies' resources to their parents and dependencies", async () => {
    const links: string[] = [];
    const spy: StackValidationPolicy = {
      name: "test-spy-links",
      description: "Records links. A test policy.",
      validateStack: (a) => {
        for (const r of a.resources) links.push(`${r.name}<${r.parent?.name ?? ""}|${r.dependencies.map((d) => d.name).join(",")}`);
      },
    };
    const parent = resource("app", {}, { type: "runbook:app:AppStack", custom: false });
    const db = resource("db", {}, { parent: parent.urn });
    const web = resource("web", {}, { parent: parent.urn, dependencies: [db.urn, "urn:not-in-stack"] });
    await run([parent, db, web], [spy]);
    expect(links).toEqual(["app<|", "db<app|", "web<app|db"]);
  });

  it("reports a policy that throws, naming the policy and the resource", async () => {
    const broken: ResourceValidationPolicy = { name: "test-broken", description: "Throws. A test policy.", validateResource: () => { throw new Error("boom"); } };
    await expect(run(bad, [broken])).rejects.toThrow(`policy test-broken failed on ${bad[0]!.urn}: boom`);
  });
});

describe("disabled policies", () => {
  const bad = [resource("web", { restart: "no" })];
  const spies = () => {
    const calls = { stack: 0, validate: 0, remediate: 0 };
    const stackSpy: StackValidationPolicy = {
      name: "test-stack-spy",
      description: "Reports every stack. A test policy.",
      validateStack: (_args, report) => {
        calls.stack++;
        report("stack reported");
      },
    };
    const resourceSpy: ResourceValidationPolicy = {
      name: "test-resource-spy",
      description: "Reports every resource. A test policy.",
      remediateResource: (args) => {
        calls.remediate++;
        return args.props;
      },
      validateResource: (_args, report) => {
        calls.validate++;
        report("resource reported");
      },
    };
    return { calls, policies: [stackSpy, resourceSpy] as Policies };
  };

  it("never runs a disabled stack policy", async () => {
    const { calls, policies: ps } = spies();
    const result = await run(bad, ps, { "test-stack-spy": "disabled" });
    expect(calls.stack).toBe(0);
    expect(result.violations.map((v) => v.policy)).toEqual(["test-resource-spy"]);
    await run(bad, ps, { "test-stack-spy": { enforcementLevel: "disabled" } });
    expect(calls.stack).toBe(0);
    await run(bad, ps);
    expect(calls.stack).toBe(1);
  });

  it("never runs a disabled resource policy's validation or remediation", async () => {
    const { calls, policies: ps } = spies();
    const result = await run(bad, ps, { "test-resource-spy": "disabled" });
    expect([calls.validate, calls.remediate]).toEqual([0, 0]);
    expect(result.violations.map((v) => v.policy)).toEqual(["test-stack-spy"]);
  });

  it("runs nothing when the pack's level is disabled and the config names no policy", async () => {
    const { calls, policies: ps } = spies();
    const result = await runPolicies(bad, ps, resolvePolicyConfig(ps, "disabled", {}), false);
    expect(calls).toEqual({ stack: 0, validate: 0, remediate: 0 });
    expect(result.violations).toEqual([]);
  });
});

describe("policy config validation", () => {
  const problems = (file: Record<string, unknown>) => {
    try {
      resolvePolicyConfig(policies, "mandatory", file);
      return [];
    } catch (err) {
      expect(err).toBeInstanceOf(PolicyConfigError);
      return [...(err as PolicyConfigError).problems];
    }
  };

  it("refuses an unknown policy name", () => {
    expect(problems({ "app-container-healthcheck": "mandatory" })[0]).toMatch(/^app-container-healthcheck: unknown policy; the pack has app-container-healthcheck-required, /);
  });
  it("refuses a wrong type, naming the policy and key", () => {
    expect(problems({ "app-container-memory-limit-required": { minMemoryMb: "lots" } })).toEqual(["app-container-memory-limit-required.minMemoryMb: must be integer"]);
  });
  it("refuses a threshold out of range", () => {
    expect(problems({ "app-container-log-rotation-required": { maxFiles: 1000 } })).toEqual(["app-container-log-rotation-required.maxFiles: must be <= 100"]);
  });
  it("refuses a setting the policy does not have, and a bad enforcement level", () => {
    expect(problems({ "app-volume-protected": { enforcementLevel: "strict", retain: true } })).toEqual([
      'app-volume-protected.enforcementLevel: "strict" must be one of advisory, mandatory, remediate, disabled',
      "app-volume-protected.retain: is not a setting of this policy",
    ]);
  });
});

describe("analyzer internals the runner relies on", () => {
  it("still exports deserializeProperties, unknownCheckingProxy and UnknownValueError", () => {
    expect(typeof analyzerInternals.deserializeProperties).toBe("function");
    expect(typeof analyzerInternals.unknownCheckingProxy).toBe("function");
    expect(typeof analyzerInternals.UnknownValueError).toBe("function");
    const props = analyzerInternals.unknownCheckingProxy(analyzerInternals.deserializeProperties({ toJavaScript: () => ({ a: UNKNOWN_VALUE }) }, false));
    expect(() => (props as Record<string, unknown>)["a"]).toThrow(analyzerInternals.UnknownValueError);
  });
});
