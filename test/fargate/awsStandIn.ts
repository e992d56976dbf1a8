/**
 * A stand-in for the AWS CLI on PATH, for the Fargate deploy scripts: it records every call and
 * answers from a scenario with responses shaped as the ECS and RDS APIs return them. `--query` is
 * evaluated with a real JMESPath implementation (the one the CLI's is a port of) and `--output text`
 * printed as the CLI prints it (a list's values tab-separated, null as `None`), so the scripts' own
 * queries are what is tested, not a canned string.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "../helpers";

export interface AwsScenario {
  /** `ecs run-task`'s response. */
  readonly runTask?: unknown;
  /** `ecs describe-tasks` responses in order; the last repeats. */
  readonly describeTasks?: readonly unknown[];
  /** `rds create-db-snapshot`'s response. */
  readonly createSnapshot?: unknown;
  /** Exit status of `rds wait db-snapshot-available` (the CLI's is 255 when the waiter gives up). */
  readonly snapshotWaitStatus?: number;
  /** Exit status of `rds wait db-instance-available`. */
  readonly instanceWaitStatus?: number;
  /** The instance's manual snapshots, as `describe-db-snapshots` lists them (the new one is added when created). */
  readonly snapshots?: readonly { readonly DBSnapshotIdentifier: string; readonly SnapshotCreateTime: string }[];
  /** `ecs describe-services` responses by service name. */
  readonly services?: Readonly<Record<string, unknown>>;
}

export interface AwsStandIn {
  readonly bin: string;
  readonly env: NodeJS.ProcessEnv;
  /** The calls made, argv without `aws`. */
  calls(): string[][];
}

export function awsStandIn(dir: string, scenario: AwsScenario): AwsStandIn {
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin, { recursive: true });
  const log = path.join(dir, "aws-calls.jsonl");
  const state = path.join(dir, "aws-state.json");
  fs.writeFileSync(path.join(dir, "scenario.json"), JSON.stringify(scenario));
  fs.writeFileSync(state, JSON.stringify({ describe: 0 }));
  const script = `#!/usr/bin/env node
const fs = require("fs");
const jmespath = require(${JSON.stringify(path.join(ROOT, "node_modules", "jmespath"))});
const argv = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify(argv) + "\\n");
const scenario = JSON.parse(fs.readFileSync(${JSON.stringify(path.join(dir, "scenario.json"))}, "utf8"));
const state = JSON.parse(fs.readFileSync(${JSON.stringify(state)}, "utf8"));
const opt = (name) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
if (!opt("--region")) { process.stderr.write("You must specify a region.\\n"); process.exit(253); }
const text = (v) => v === null || v === undefined ? "None" : Array.isArray(v) ? v.map((x) => Array.isArray(x) ? x.map(text).join("\\t") : text(x)).join("\\t") : typeof v === "object" ? JSON.stringify(v) : String(v);
const answer = (response) => {
  const q = opt("--query");
  const out = q === undefined ? response : jmespath.search(response, q);
  process.stdout.write((opt("--output") === "text" ? text(out) : JSON.stringify(out)) + "\\n");
};
const [service, op] = argv;
if (service === "ecs" && op === "run-task") answer(scenario.runTask);
else if (service === "ecs" && op === "describe-tasks") {
  const seq = scenario.describeTasks;
  answer(seq[Math.min(state.describe, seq.length - 1)]);
  state.describe += 1;
  fs.writeFileSync(${JSON.stringify(state)}, JSON.stringify(state));
} else if (service === "ecs" && op === "stop-task") answer({ task: { lastStatus: "STOPPING" } });
else if (service === "ecs" && op === "describe-services") answer(scenario.services[opt("--services")] ?? { services: [], failures: [{ reason: "MISSING" }] });
else if (service === "rds" && op === "create-db-snapshot") {
  state.created = opt("--db-snapshot-identifier");
  fs.writeFileSync(${JSON.stringify(state)}, JSON.stringify(state));
  answer(scenario.createSnapshot ?? { DBSnapshot: { DBSnapshotIdentifier: state.created, Status: "creating" } });
} else if (service === "rds" && op === "wait" && argv[2] === "db-instance-available") process.exit(scenario.instanceWaitStatus ?? 0);
else if (service === "rds" && op === "wait" && argv[2] === "db-snapshot-available") process.exit(scenario.snapshotWaitStatus ?? 0);
else if (service === "rds" && op === "describe-db-snapshots") {
  const mine = state.created ? [{ DBSnapshotIdentifier: state.created, SnapshotCreateTime: new Date().toISOString(), SnapshotType: "manual" }] : [];
  answer({ DBSnapshots: [...(scenario.snapshots ?? []).map((s) => ({ ...s, SnapshotType: "manual" })), ...mine] });
} else if (service === "rds" && op === "delete-db-snapshot") answer({ DBSnapshot: { DBSnapshotIdentifier: opt("--db-snapshot-identifier"), Status: "deleted" } });
else { process.stderr.write("aws stand-in: unexpected call " + argv.join(" ") + "\\n"); process.exit(2); }
`;
  fs.writeFileSync(path.join(bin, "aws"), script, { mode: 0o755 });
  return {
    bin,
    env: { PATH: `${bin}:${process.env["PATH"] ?? "/usr/bin:/bin"}` },
    calls: () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as string[]) : []),
  };
}

/** A task as `describe-tasks` returns it (ECS API Task: lastStatus, stoppedReason, containers[].exitCode). */
export function taskResponse(taskArn: string, lastStatus: string, containers: readonly { name: string; exitCode?: number }[] = [], stoppedReason?: string) {
  return { tasks: [{ taskArn, lastStatus, ...(stoppedReason && { stoppedReason }), containers: containers.map((c) => ({ name: c.name, lastStatus, ...(c.exitCode !== undefined && { exitCode: c.exitCode }) })) }], failures: [] };
}
