/**
 * A stack with one app on ECS Fargate, loaded the way `pulumi up` loads the project: the nodejs
 * language host's own entry with the config as the engine hands it over (test/program/languageHost.ts).
 * The config reaches the program as JSON strings, and the program declares the Fargate app with none
 * of a Docker host's resources, its secrets only as secrets.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { runLanguageHost, type HostRun } from "../program/languageHost";
import { ROOT, isSecretWire } from "../helpers";
import { FARGATE } from "./fixtures";

describe("index.ts loaded by the nodejs language host, with the LMS on ECS Fargate", () => {
  let run: HostRun;
  beforeAll(() => {
    run = runLanguageHost(
      "staging",
      {
        "runbook:environment": "staging",
        "runbook:apps": { lms: { domain: "lms.example.com", backend: { tag: "1.2.0" }, fargate: FARGATE }, reference: { backend: { tag: "1.0.0" }, frontend: { tag: "1.0.0" } } },
      },
      [],
      ROOT,
      { inputs: true },
    );
  }, 180_000);

  it("declares the LMS as ECS services behind a load balancer, with RDS and ElastiCache, and the reference app on its Docker host", () => {
    expect(run.status, run.stderr).toBe(0);
    const of = (type: string) => run.resources.filter((r) => r.type === type).map((r) => r.name).sort();
    expect(of("aws:ecs/service:Service")).toEqual(["lms-backend", "lms-worker-rq"]);
    expect(of("aws:lb/loadBalancer:LoadBalancer")).toEqual(["lms-alb"]);
    expect(of("aws:rds/instance:Instance")).toEqual(["lms-db"]);
    expect(of("aws:elasticache/replicationGroup:ReplicationGroup")).toEqual(["lms-cache"]);
    expect(of("command:local:Command").filter((n) => n.startsWith("lms-"))).toEqual(["lms-health-gate", "lms-migrate", "lms-pre-deploy-snapshot", "lms-release-check", "lms-release-task"]);
    const containers = run.resources.filter((r) => r.type === "docker:index/container:Container").map((r) => r.name);
    expect(containers.filter((n) => n.startsWith("lms-"))).toEqual([]);
    expect(containers.filter((n) => n.startsWith("reference-backend-"))).toHaveLength(2);
  });

  it("passes the database password and every task secret only as secrets, and prints none", () => {
    const db = run.resources.find((r) => r.type === "aws:rds/instance:Instance")!;
    expect(isSecretWire(db.inputs!["password"])).toBe(true);
    const versions = run.resources.filter((r) => r.type === "aws:secretsmanager/secretVersion:SecretVersion" && r.name.startsWith("lms-"));
    expect(versions.length).toBeGreaterThanOrEqual(4);
    for (const v of versions) expect(isSecretWire(v.inputs!["secretString"]), v.name).toBe(true);
    // The host's mocks give passwords as `x` repeated: never in a task definition or the output.
    const tasks = JSON.stringify(run.resources.filter((r) => r.type === "aws:ecs/taskDefinition:TaskDefinition").map((r) => r.inputs));
    expect(tasks).not.toContain("x".repeat(32));
    expect(`${run.stdout}${run.stderr}`).not.toContain("x".repeat(32));
    const outputs = run.stackOutputs as { fargate?: Record<string, { endpoint: string }> };
    expect(outputs.fargate?.["lms"]?.endpoint).toBe("https://lms.example.com");
  });
});
