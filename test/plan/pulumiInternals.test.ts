/**
 * The offline plan leans on Pulumi SDK internals (plan/pulumiInternals.ts, config/sources.ts).
 * These tests fail loudly when a Pulumi upgrade moves any of them.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as resourcePb from "@pulumi/pulumi/proto/resource_pb";
import * as rpc from "@pulumi/pulumi/runtime/rpc";
import { describe, expect, it } from "vitest";
import { isConfigSecret } from "../../config/sources";
import { runUnderMocks } from "../../plan/mockRuntime";
import {
  MockMonitorPrototype,
  debuggableModule,
  RESOURCE_SIG,
  SECRET_SIG,
  SPECIAL_SIG_KEY,
  UNKNOWN_VALUE,
  waitForRPCs,
} from "../../plan/pulumiInternals";
import { stackSpec } from "../helpers";

describe("Pulumi internals the plan relies on", () => {
  it("still has MockMonitor.registerResource/newUrn, waitForRPCs and isConfigSecret as functions", () => {
    expect(typeof MockMonitorPrototype.registerResource).toBe("function");
    expect(typeof MockMonitorPrototype.newUrn).toBe("function");
    expect(typeof waitForRPCs).toBe("function");
    expect(typeof isConfigSecret).toBe("function");
  });

  it("still calls debuggablePromise through its module, so the plan can record promises without a stack", async () => {
    expect(typeof debuggableModule.debuggablePromise).toBe("function");
    const original = debuggableModule.debuggablePromise;
    let calls = 0;
    debuggableModule.debuggablePromise = (p, ctx) => {
      calls += 1;
      return original(p, ctx);
    };
    try {
      await runUnderMocks(stackSpec("staging"), "internals-debuggable");
    } finally {
      debuggableModule.debuggablePromise = original;
    }
    expect(calls).toBeGreaterThan(100);
  });

  it("still uses the wire-format markers the report decodes", () => {
    const wire = rpc as unknown as Record<string, string>;
    expect(wire["specialSigKey"]).toBe(SPECIAL_SIG_KEY);
    expect(wire["specialSecretSig"]).toBe(SECRET_SIG);
    expect(wire["specialResourceSig"]).toBe(RESOURCE_SIG);
    expect(wire["unknownValue"]).toBe(UNKNOWN_VALUE);
  });

  it("still has RegisterResourceRequest.getDeletebeforereplacedefined, and the SDK still sets it from the option", () => {
    const proto = resourcePb as unknown as { RegisterResourceRequest: { prototype: Record<string, unknown> } };
    expect(typeof proto.RegisterResourceRequest.prototype["getDeletebeforereplacedefined"]).toBe("function");
  });

  it("records resource options, parents, dependencies and secret markers from the register request", async () => {
    const run = await runUnderMocks(stackSpec("staging"), "internals", () => {
      const parent = new pulumi.ComponentResource("test:index:Parent", "p");
      const vol = new docker.Volume("p-vol", {}, { parent, protect: true, retainOnDelete: true, ignoreChanges: ["labels"] });
      new docker.Container(
        "p-c",
        { image: "img", envs: [pulumi.secret("A=1")], volumes: [{ volumeName: vol.name, containerPath: "/d" }] },
        { parent, deleteBeforeReplace: true },
      );
      new docker.Container("p-c2", { image: "img" }, { parent, deleteBeforeReplace: false });
    });
    const byName = (name: string) => run.resources.find((r) => r.name === name);
    const [parent, vol, container, declaredFalse] = ["p", "p-vol", "p-c", "p-c2"].map(byName);
    expect(parent!.custom).toBe(false);
    expect(vol!.parent).toBe(parent!.urn);
    // Not declared: no deleteBeforeReplace at all (getDeletebeforereplacedefined() is false).
    expect(vol!.options).toEqual({ protect: true, retainOnDelete: true, ignoreChanges: ["labels"], additionalSecretOutputs: [] });
    expect(container!.options.deleteBeforeReplace).toBe(true);
    expect(declaredFalse!.options.deleteBeforeReplace).toBe(false);
    expect(container!.dependencies).toContain(vol!.urn);
    expect((container!.wireInputs["envs"] as unknown[])[0]).toEqual({ [SPECIAL_SIG_KEY]: SECRET_SIG, value: "A=1" });
  });
});
