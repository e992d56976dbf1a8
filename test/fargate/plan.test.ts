/**
 * The offline plan (the README's main job) of a stack file with the LMS on ECS Fargate: it plans with
 * no policy violation, and says where the app runs (its VPC and security groups), not a Docker host.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as yaml from "yaml";
import { runPlan } from "../../plan/cli";
import { ROOT } from "../helpers";
import { tempDir } from "../tools/realTools";
import { FARGATE } from "./fixtures";

let dir: string;
let outcome: Awaited<ReturnType<typeof runPlan>>;

beforeAll(async () => {
  dir = tempDir("fargate-plan");
  const doc = yaml.parse(fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, Record<string, Record<string, unknown>>> };
  const lms = doc.config["runbook:apps"]!["lms"]!;
  for (const key of ["host", "hostKey", "firewall", "maintenance", "hostMemoryMb", "proxy"]) delete lms[key];
  lms["fargate"] = { ...FARGATE };
  const file = path.join(dir, "Pulumi.prod.yaml");
  fs.writeFileSync(file, yaml.stringify(doc));
  outcome = await runPlan({ configFile: file, json: false, cwd: ROOT });
}, 120_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("the offline plan of prod with the LMS on ECS Fargate", () => {
  it("plans with no policy violation, and names the LMS's VPC and security groups where a Docker host's firewall would be", () => {
    expect(outcome.stderr).toBe("");
    expect(outcome.exitCode).toBe(0);
    expect(outcome.stdout).toContain("\nPolicies: no violations.");
    const hosts = outcome.stdout.slice(outcome.stdout.indexOf("Hosts and firewall:"));
    expect(hosts).toContain(
      "  lms: ECS Fargate in vpc-0123456789abcdef0 (no Docker host)\n      load balancer 443, and 80 redirecting to it: anywhere\n      tasks: from the load balancer only; database and cache: from the tasks only\n",
    );
    expect(hosts).not.toContain("lms: unix://");
    expect(outcome.stdout).toMatch(/runbook:fargate:FargateApp {2}lms\n/);
  });
});
