/**
 * capacity-host-memory: a compliant baseline, the one field that breaks it (a host too small for the
 * limits of the apps sharing it), and the committed stacks, planned under mocks and run through the
 * whole pack as the CLI would: accepted; the same stacks with a host too small: refused, exactly.
 */
import { describe, expect, it } from "vitest";
import { PROJECT } from "../../config/defaults";
import { parseStackConfig, type RawConfig } from "../../config/resolve";
import { runUnderMocks } from "../../plan/mockRuntime";
import { resolvePolicyConfig, runPolicies } from "../../plan/policyRunner";
import { hostMemory, HOST_CAPACITY_TYPE } from "../../policies/capacity";
import { PACK_ENFORCEMENT_LEVEL, policies } from "../../policies/pack";
import * as fs from "node:fs";
import { rawStackConfig, ROOT } from "../helpers";
import { CONTAINER, checkStack, stack } from "./harness";

const container = (name: string, app: string, memory: number) => ({ name, type: CONTAINER, props: { memory, labels: [{ label: "runbook.app", value: app }] } });
const host = (memoryMb: number | undefined, apps: string[]) => ({ name: "h", type: HOST_CAPACITY_TYPE, props: { host: "ssh://deploy@shared", ...(memoryMb !== undefined && { memoryMb }), source: "apps.a.hostMemoryMb", apps } });

describe("capacity-host-memory", () => {
  const baseline = () => [container("a-backend-0", "a", 1024), container("a-backend-1", "a", 1024), container("b-backend-0", "b", 512), container("c-backend-0", "c", 4096)];
  it("accepts a host whose apps' limits fit, counting only the apps on it", async () => {
    expect(await checkStack(hostMemory, stack([...baseline(), host(2560, ["a", "b"])]))).toEqual([]);
  });
  it("refuses a host whose apps' limits add up to more than it has", async () => {
    expect(await checkStack(hostMemory, stack([...baseline(), host(2048, ["a", "b"])]))).toEqual([
      "Host ssh://deploy@shared has 2048 MiB (apps.a.hostMemoryMb), but the memory limits of its containers add up to 2560 MiB (a 2048 MiB, b 512 MiB); give the host more memory or lower limits or replicas.",
    ]);
  });
  it("keeps reservedMb for the host itself", async () => {
    expect(await checkStack(hostMemory, stack([...baseline(), host(2560, ["a", "b"])]), { reservedMb: 512 })).toEqual([
      "Host ssh://deploy@shared has 2560 MiB (apps.a.hostMemoryMb), 512 MiB kept for the host, but the memory limits of its containers add up to 2560 MiB (a 2048 MiB, b 512 MiB); give the host more memory or lower limits or replicas.",
    ]);
  });
  it("has nothing to compare with when the host's memory is unknown", async () => {
    expect(await checkStack(hostMemory, stack([...baseline(), host(undefined, ["a", "b"])]))).toEqual([]);
  });

  const planned = async (stackName: string, raw: RawConfig) => {
    const run = await runUnderMocks(parseStackConfig(raw, PROJECT), stackName);
    const levels = resolvePolicyConfig(policies, PACK_ENFORCEMENT_LEVEL, JSON.parse(fs.readFileSync(`${ROOT}/policies/config/${stackName}.json`, "utf8")));
    return (await runPolicies(run.resources, policies, levels)).violations.filter((v) => v.policy === hostMemory.name);
  };
  it.each(["prod", "staging"])("accepts the committed %s stack", async (name) => {
    expect(await planned(name, rawStackConfig(name))).toEqual([]);
  }, 60_000);
  it("refuses the committed staging stack on a host too small for its five apps", async () => {
    const raw = structuredClone(rawStackConfig("staging")) as { apps: Record<string, Record<string, unknown>> };
    raw.apps["fairlens"]!["hostMemoryMb"] = 16384;
    const violations = await planned("staging", raw as unknown as RawConfig);
    expect(violations.map((v) => [v.enforcementLevel, v.message])).toEqual([
      ["mandatory", "Host ssh://deploy@staging.example.com has 16384 MiB (apps.fairlens.hostMemoryMb), 512 MiB kept for the host, but the memory limits of its containers add up to 29312 MiB (fairlens 7296 MiB, fdts 3840 MiB, reference 6272 MiB, lms 7680 MiB, handwork 4224 MiB); give the host more memory or lower limits or replicas."],
    ]);
  }, 60_000);
});
