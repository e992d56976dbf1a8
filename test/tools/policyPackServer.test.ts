/**
 * Loads the policy pack the way the Pulumi CLI does (its entry file, from its own folder, as a
 * gRPC analyzer on 127.0.0.1) and asks it what the CLI would ask: which policies it serves, and
 * what it says about a resource. The answers must match the in-process runner's.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as analyzerGrpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzerPb from "@pulumi/pulumi/proto/analyzer_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PlannedResource } from "../../plan/mockRuntime";
import { resolvePolicyConfig, runPolicies } from "../../plan/policyRunner";
import { PACK_ENFORCEMENT_LEVEL, policies } from "../../policies/pack";
import { ROOT } from "../helpers";

let child: ChildProcess;
let client: analyzerGrpc.AnalyzerClient;

beforeAll(async () => {
  child = spawn(process.execPath, ["--import", "tsx", "index.ts"], { cwd: path.join(ROOT, "policies"), stdio: ["ignore", "pipe", "pipe"] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    let err = "";
    const timer = setTimeout(() => reject(new Error(`the pack printed no port: ${err}`)), 30_000);
    child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /^(\d+)\s*$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on("exit", (code) => reject(new Error(`the pack exited ${code}: ${err}`)));
  });
  client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});

afterAll(() => {
  client?.close();
  child?.kill("SIGTERM");
});

const call = <Req, Res>(fn: (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => void, req: Req) =>
  new Promise<Res>((resolve, reject) => fn.call(client, req, (err, res) => (err ? reject(err) : resolve(res))));

describe("the policy pack served as the Pulumi CLI loads it", () => {
  it("serves every policy of the pack, with its description and config schema", async () => {
    const info = await call<Empty, analyzerPb.AnalyzerInfo>(client.getAnalyzerInfo, new Empty());
    expect(info.getName()).toBe("runbook-policies");
    const served = info.getPoliciesList().map((p) => [p.getName(), p.getDescription(), p.hasConfigschema()]);
    expect(served).toEqual(policies.map((p) => [p.name, p.description, p.configSchema !== undefined]));
  });

  it("finds the same violation for a container without a health check as the in-process runner", async () => {
    const props = { restart: "unless-stopped", memory: 256, cpus: "0.5", logOpts: { "max-size": "10m", "max-file": "3" }, envs: ["A=1"] };
    const urn = "urn:pulumi:prod::runbook::docker:index/container:Container::web";
    const req = new analyzerPb.AnalyzeRequest();
    req.setType("docker:index/container:Container");
    req.setName("web");
    req.setUrn(urn);
    req.setProperties(Struct.fromJavaScript(props));
    req.setOptions(new analyzerPb.AnalyzerResourceOptions());
    const res = await call<analyzerPb.AnalyzeRequest, analyzerPb.AnalyzeResponse>(client.analyze, req);
    const fromPack = res.getDiagnosticsList().map((d) => [d.getPolicyname(), d.getMessage()]);

    const planned: PlannedResource = {
      type: "docker:index/container:Container",
      name: "web",
      urn,
      custom: true,
      dependencies: [],
      options: { protect: false, deleteBeforeReplace: false, retainOnDelete: false, ignoreChanges: [], additionalSecretOutputs: [] },
      wireInputs: props,
    };
    const inProcess = (await runPolicies([planned], policies, resolvePolicyConfig(policies, PACK_ENFORCEMENT_LEVEL, {}), false)).violations;
    expect(fromPack.map(([name]) => name)).toEqual(["app-container-healthcheck-required"]);
    expect(fromPack[0]![1]).toContain(inProcess[0]!.message);
    expect(inProcess.map((v) => v.policy)).toEqual(["app-container-healthcheck-required"]);
  });
});
