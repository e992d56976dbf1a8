/**
 * The Fargate deploy steps' scripts, run by /bin/sh against a stand-in AWS CLI (awsStandIn.ts) whose
 * answers have the shape of the ECS and RDS APIs and whose `--query` is evaluated by JMESPath: a
 * one-off task (migrations) passes only when its container exited 0, and fails naming why otherwise;
 * the pre-deploy snapshot is waited for. Both pass shellcheck.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { renderOneOffTaskScript, renderReleaseCheckScript, renderSnapshotScript, type OneOffTaskScriptSpec } from "../../components/fargate/deployScripts";
import { requireTool, tempDir } from "../tools/realTools";
import { awsStandIn, taskResponse, type AwsScenario } from "./awsStandIn";

const CLUSTER = "arn:aws:ecs:eu-central-1:111122223333:cluster/lms-cluster-1a2b3c4";
const TASK_DEFINITION = "arn:aws:ecs:eu-central-1:111122223333:task-definition/lms-prod-migrate:7";
const TASK = "arn:aws:ecs:eu-central-1:111122223333:task/lms-cluster-1a2b3c4/0f1e2d3c4b5a69788796a5b4c3d2e1f0";
const SPEC: OneOffTaskScriptSpec = { what: "migrations", container: "migrate", logGroup: "/runbook/runbook/prod/lms", streamPrefix: "migrate", timeoutSeconds: 30, pollSeconds: 1 };
const ENV = { CLUSTER, TASK_DEFINITION, SUBNETS: "subnet-0b0000000000000b1,subnet-0b0000000000000b2", SECURITY_GROUP: "sg-0123456789abcdef0" };

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function run(script: string, scenario: AwsScenario, env: Record<string, string>) {
  const dir = tempDir("fargate-steps");
  dirs.push(dir);
  const aws = awsStandIn(dir, scenario);
  const res = spawnSync("/bin/sh", ["-c", script], { env: { ...aws.env, ...env }, encoding: "utf8", timeout: 60_000 });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr, calls: aws.calls() };
}

const started = { tasks: [{ taskArn: TASK, lastStatus: "PROVISIONING" }], failures: [] };
const stopped = (exitCode: number | undefined, reason = "Essential container in task exited") => taskResponse(TASK, "STOPPED", [{ name: "migrate", ...(exitCode !== undefined && { exitCode }) }], reason);

describe("a Fargate release's one-off task (migrations), against a stand-in AWS CLI", () => {
  it("runs the task definition once on Fargate in the private subnets, waits for it to stop, and passes when its container exited 0", () => {
    const r = run(renderOneOffTaskScript(SPEC), { runTask: started, describeTasks: [taskResponse(TASK, "PENDING"), taskResponse(TASK, "RUNNING"), stopped(0)] }, ENV);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("migrations: task 0f1e2d3c4b5a69788796a5b4c3d2e1f0 exited 0");
    const [first, ...rest] = r.calls;
    expect(first!.slice(0, 2)).toEqual(["ecs", "run-task"]);
    const opt = (call: string[], name: string) => call[call.indexOf(name) + 1];
    // The region is the cluster's, from its ARN: the machine's default region is not asked.
    expect(r.calls.every((c) => opt(c, "--region") === "eu-central-1")).toBe(true);
    expect([opt(first!, "--cluster"), opt(first!, "--task-definition"), opt(first!, "--launch-type"), opt(first!, "--count")]).toEqual([CLUSTER, TASK_DEFINITION, "FARGATE", "1"]);
    expect(opt(first!, "--network-configuration")).toBe("awsvpcConfiguration={subnets=[subnet-0b0000000000000b1,subnet-0b0000000000000b2],securityGroups=[sg-0123456789abcdef0],assignPublicIp=DISABLED}");
    // Three polls of its state (the last STOPPED), then one read of its result: nothing stopped, nothing run twice.
    expect(rest.map((c) => c[1])).toEqual(["describe-tasks", "describe-tasks", "describe-tasks", "describe-tasks"]);
    expect(rest.every((c) => opt(c, "--tasks") === TASK)).toBe(true);
  });

  it("fails when the migration exits non-zero, naming the task, its exit code, the stop reason and its log stream", () => {
    const r = run(renderOneOffTaskScript(SPEC), { runTask: started, describeTasks: [stopped(1)] }, ENV);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      "migrations: task 0f1e2d3c4b5a69788796a5b4c3d2e1f0 exited 1 (Essential container in task exited); its output: aws logs tail /runbook/runbook/prod/lms --log-stream-names migrate/migrate/0f1e2d3c4b5a69788796a5b4c3d2e1f0; the services still run the previous release\n",
    );
  });

  it("fails when the container never ran (no exit code: an image that cannot be pulled)", () => {
    const r = run(renderOneOffTaskScript(SPEC), { runTask: started, describeTasks: [stopped(undefined, "CannotPullContainerError: pull image manifest has been retried 5 time(s)")] }, ENV);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("stopped without an exit code (CannotPullContainerError: pull image manifest has been retried 5 time(s))");
  });

  it("reads the exit code of the named container only, not another container's", () => {
    const response = taskResponse(TASK, "STOPPED", [{ name: "log-router", exitCode: 0 }, { name: "migrate", exitCode: 3 }], "Essential container in task exited");
    const r = run(renderOneOffTaskScript(SPEC), { runTask: started, describeTasks: [response] }, ENV);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("exited 3");
  });

  it("fails without waiting when ECS starts no task, naming ECS's reason", () => {
    const r = run(renderOneOffTaskScript(SPEC), { runTask: { tasks: [], failures: [{ arn: "arn:aws:ecs:eu-central-1:111122223333:container-instance/x", reason: "RESOURCE:ENI" }] }, describeTasks: [] }, ENV);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("migrations: ECS started no task (RESOURCE:ENI); nothing ran, the release stops here\n");
    expect(r.calls.map((c) => c[1])).toEqual(["run-task"]);
  });

  it("stops a task that runs past its timeout and fails", () => {
    const r = run(renderOneOffTaskScript({ ...SPEC, timeoutSeconds: 2 }), { runTask: started, describeTasks: [taskResponse(TASK, "RUNNING")] }, ENV);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("migrations: task 0f1e2d3c4b5a69788796a5b4c3d2e1f0 still RUNNING after 2 s; stopped it");
    const stop = r.calls.find((c) => c[1] === "stop-task")!;
    expect(stop[stop.indexOf("--task") + 1]).toBe(TASK);
  });

  it("refuses to run without its environment, naming the missing variable", () => {
    const rest = Object.fromEntries(Object.entries(ENV).filter(([k]) => k !== "CLUSTER"));
    const r = run(renderOneOffTaskScript(SPEC), { runTask: started, describeTasks: [stopped(0)] }, rest);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/CLUSTER/);
    expect(r.calls).toEqual([]);
  });
});

describe("a Fargate release's pre-deploy snapshot, against a stand-in AWS CLI", () => {
  const env = { DB_INSTANCE: "lms-prod-6820a7f", DB_ARN: "arn:aws:rds:eu-central-1:111122223333:db:lms-prod-6820a7f", SNAPSHOT_PREFIX: "lms-prod-pre-deploy" };

  it("waits for the instance, takes a manual snapshot, waits until it is available, and prints its identifier", () => {
    const r = run(renderSnapshotScript(), {}, env);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const id = r.stdout.trim();
    expect(id).toMatch(/^lms-prod-pre-deploy-\d{8}-\d{6}$/);
    expect(r.calls.map((c) => c.slice(0, 3).join(" "))).toEqual(["rds wait db-instance-available", "rds create-db-snapshot --region", "rds wait db-snapshot-available", "rds describe-db-snapshots --region"]);
    const [, create, wait] = r.calls as [string[], string[], string[]];
    expect(create[create.indexOf("--db-instance-identifier") + 1]).toBe("lms-prod-6820a7f");
    expect(create[create.indexOf("--db-snapshot-identifier") + 1]).toBe(id);
    expect(wait[wait.indexOf("--db-snapshot-identifier") + 1]).toBe(id);
    expect(r.calls.every((c) => c[c.indexOf("--region") + 1] === "eu-central-1")).toBe(true);
  });

  it("fails the release before any snapshot when the instance never becomes available (RDS refuses a snapshot while it is backing up)", () => {
    const r = run(renderSnapshotScript(), { instanceWaitStatus: 255 }, env);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("pre-deploy backup: lms-prod-6820a7f is not available for a snapshot; the release stops before its migrations\n");
    expect(r.calls.map((c) => c[1])).toEqual(["wait"]);
  });

  it("fails the release when the snapshot never becomes available", () => {
    const r = run(renderSnapshotScript(), { snapshotWaitStatus: 255 }, env);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^pre-deploy backup: snapshot lms-prod-pre-deploy-\d{8}-\d{6} of lms-prod-6820a7f is not available; the release stops before its migrations\n$/);
  });

  it("keeps the newest five pre-deploy snapshots, the new one included, and deletes only older ones of its own prefix", () => {
    const at = (day: number) => new Date(Date.UTC(2026, 10, day, 3)).toISOString();
    const snapshots = [
      ...[1, 2, 3, 4, 5, 6].map((day) => ({ DBSnapshotIdentifier: `lms-prod-pre-deploy-202611${String(day).padStart(2, "0")}-030000`, SnapshotCreateTime: at(day) })),
      // Another prefix's and an operator's own: never touched.
      { DBSnapshotIdentifier: "lms-staging-pre-deploy-20261101-030000", SnapshotCreateTime: at(1) },
      { DBSnapshotIdentifier: "before-the-big-import", SnapshotCreateTime: at(1) },
    ];
    const r = run(renderSnapshotScript(), { snapshots }, env);
    expect(r.status, r.stderr).toBe(0);
    const deleted = r.calls.filter((c) => c[1] === "delete-db-snapshot").map((c) => c[c.indexOf("--db-snapshot-identifier") + 1]);
    // Seven of its prefix (six and the new one): the two oldest go.
    expect(deleted).toEqual(["lms-prod-pre-deploy-20261102-030000", "lms-prod-pre-deploy-20261101-030000"]);
  });
});

describe("a Fargate release's check that each service runs its new revision, against a stand-in AWS CLI", () => {
  const CLUSTER_ARN = CLUSTER;
  const revision = (n: number) => `arn:aws:ecs:eu-central-1:111122223333:task-definition/lms-prod-backend:${n}`;
  const services = (primary: string, rolloutState: string, rolloutStateReason: string) => ({
    services: [{ serviceName: "lms-backend-1a2b3c4", deployments: [{ status: "PRIMARY", taskDefinition: primary, rolloutState, rolloutStateReason }, { status: "ACTIVE", taskDefinition: revision(6), rolloutState: "COMPLETED" }] }],
  });
  const env = { CLUSTER: CLUSTER_ARN, SERVICES: `lms-backend-1a2b3c4=${revision(7)}\nlms-worker-rq-5d6e7f8=arn:aws:ecs:eu-central-1:111122223333:task-definition/lms-prod-worker-rq:3\n` };
  const worker = { services: [{ serviceName: "lms-worker-rq-5d6e7f8", deployments: [{ status: "PRIMARY", taskDefinition: "arn:aws:ecs:eu-central-1:111122223333:task-definition/lms-prod-worker-rq:3", rolloutState: "COMPLETED", rolloutStateReason: "ECS deployment ecs-svc/1 completed." }] }] };

  it("passes when every service's primary deployment is the release's revision, completed", () => {
    const r = run(renderReleaseCheckScript(), { services: { "lms-backend-1a2b3c4": services(revision(7), "COMPLETED", "ECS deployment ecs-svc/2 completed."), "lms-worker-rq-5d6e7f8": worker } }, env);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("release check: lms-backend-1a2b3c4 runs lms-prod-backend:7\nrelease check: lms-worker-rq-5d6e7f8 runs lms-prod-worker-rq:3\n");
    expect(r.calls.map((c) => c[c.indexOf("--services") + 1])).toEqual(["lms-backend-1a2b3c4", "lms-worker-rq-5d6e7f8"]);
  });

  it("fails when the circuit breaker rolled a service back to the previous revision, naming both and the reason", () => {
    const rolledBack = services(revision(6), "COMPLETED", "ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1.");
    const r = run(renderReleaseCheckScript(), { services: { "lms-backend-1a2b3c4": rolledBack, "lms-worker-rq-5d6e7f8": worker } }, env);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("release check: lms-backend-1a2b3c4 runs lms-prod-backend:6, not lms-prod-backend:7: the rollout was rolled back (ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1.); the release failed\n");
  });

  it("fails while a rollout has not completed", () => {
    const r = run(renderReleaseCheckScript(), { services: { "lms-backend-1a2b3c4": services(revision(7), "IN_PROGRESS", "ECS deployment ecs-svc/2 in progress."), "lms-worker-rq-5d6e7f8": worker } }, env);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("release check: lms-backend-1a2b3c4 rollout of lms-prod-backend:7 is IN_PROGRESS (ECS deployment ecs-svc/2 in progress.)\n");
  });
});

describe("the Fargate deploy scripts under shellcheck", () => {
  it.each([
    ["the one-off task", renderOneOffTaskScript(SPEC)],
    ["the pre-deploy snapshot", renderSnapshotScript()],
    ["the release check", renderReleaseCheckScript()],
  ])("%s passes", (_, script) => {
    const res = spawnSync(requireTool("shellcheck"), ["--shell=sh", "--severity=style", "-"], { input: script, encoding: "utf8" });
    expect(res.stdout).toBe("");
    expect(res.status).toBe(0);
  });
});
