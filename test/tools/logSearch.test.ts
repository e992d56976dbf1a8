/**
 * `npm run logs` end to end on the prod stack's FairLens, against stand-ins: `ssh` (records how it is
 * called, then runs the script here) and the recording `docker` (which finds the log collector by its
 * labels and runs the search inside it, here, on a store laid out as the collector writes it). The
 * search returns exactly the matching lines of the days and service asked for, oldest day first, each
 * with its service; says when nothing matched; and names the option that is wrong.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { LOG_COLLECTOR } from "../../components/logging/collectorConfig";
import { renderLogSearchScript } from "../../components/logging/logSearch";
import { logs } from "../../scripts/logs";
import { ROOT } from "../helpers";
import { dockerStandIn, type StandInContainer } from "./dockerStandIn";
import { requireTool, tempDir } from "./realTools";

const STORE: Record<string, string[]> = {
  "backend/2026-11-24.log": ["2026-11-24T09:00:00Z fairlens-backend-1-1a2b3c4 stderr ERROR payment failed: too old to be asked for"],
  "backend/2026-11-25.log": [
    "2026-11-25T10:00:00Z fairlens-backend-1-1a2b3c4 stdout GET /api/v1/health 200",
    "2026-11-25T10:00:01Z fairlens-backend-1-1a2b3c4 stderr ERROR payment failed: card_declined",
  ],
  "backend/2026-11-26.log": [
    "2026-11-26T08:00:00Z fairlens-backend-2-5e6f7a8 stderr ERROR payment failed: insufficient_funds",
    "2026-11-26T08:00:01Z fairlens-backend-2-5e6f7a8 stdout payment ok",
  ],
  "database/2026-11-26.log": ["2026-11-26T08:00:02Z fairlens-db-9a8b7c6 stderr LOG:  checkpoint starting: time"],
  "worker-rq/2026-11-27.log": ["2026-11-27T00:00:01Z fairlens-worker-rq-1-0a0b0c0 stderr ERROR payment failed: retry"],
};

function setUp(collectorRunning = true) {
  const dir = tempDir("log-search");
  const store = path.join(dir, "store");
  for (const [file, lines] of Object.entries(STORE)) {
    fs.mkdirSync(path.dirname(path.join(store, file)), { recursive: true });
    fs.writeFileSync(path.join(store, file), lines.map((l) => `${l}\n`).join(""));
  }
  const collector: StandInContainer = {
    id: "e".repeat(64), name: "fairlens-logs-collector-9f8e7d6", image: "runbook/log-collector", imageId: "sha256:c",
    labels: { "runbook.app": "fairlens", "runbook.environment": "prod", "runbook.service": LOG_COLLECTOR.service },
  };
  const docker = dockerStandIn(dir, { containers: collectorRunning ? [collector] : [], execEnv: { RUNBOOK_LOGS_ROOT: store } });
  fs.writeFileSync(path.join(dir, "bin", "ssh"), `#!/bin/sh\nprintf '%s\\n' "$@" > ${dir}/ssh.args\nexec sh -s\n`, { mode: 0o755 });
  const run = (...args: string[]) => logs(["--stack", "prod", "--app", "fairlens", ...args], ROOT, { ...process.env, ...docker.env }, "2026-11-26");
  return { dir, docker, run };
}

describe("npm run logs, over ssh to the log collector", () => {
  it("prints exactly the lines that match, of the days asked for, oldest first, each with its service, through the pinned host key", () => {
    const { dir, docker, run } = setUp();
    const r = run("--grep", "payment failed", "--since", "2026-11-25", "--until", "2026-11-27");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split("\n")).toEqual([
      "backend 2026-11-25T10:00:01Z fairlens-backend-1-1a2b3c4 stderr ERROR payment failed: card_declined",
      "backend 2026-11-26T08:00:00Z fairlens-backend-2-5e6f7a8 stderr ERROR payment failed: insufficient_funds",
      "worker-rq 2026-11-27T00:00:01Z fairlens-worker-rq-1-0a0b0c0 stderr ERROR payment failed: retry",
    ]);
    expect(fs.readFileSync(path.join(dir, "ssh.args"), "utf8")).toContain("StrictHostKeyChecking=yes");
    expect(docker.calls()[0]).toEqual(["ps", "-q", "--filter", "label=runbook.app=fairlens", "--filter", `label=runbook.service=${LOG_COLLECTOR.service}`]);
    expect(docker.calls()[1]!.slice(0, 2)).toEqual(["exec", "e".repeat(64)]);
  });

  it("defaults to today, takes one service, and stops at --max lines; --ignore-case as the runbook's grep -i", () => {
    const { run } = setUp();
    expect(run("--grep", "PAYMENT OK").status).toBe(1);
    expect(run("--grep", "PAYMENT OK", "--ignore-case").stdout).toBe(`backend ${STORE["backend/2026-11-26.log"]![1]}\n`);
    expect(run("--service", "database").stdout).toBe("database 2026-11-26T08:00:02Z fairlens-db-9a8b7c6 stderr LOG:  checkpoint starting: time\n");
    const all = run();
    expect(all.stdout.trim().split("\n")).toEqual([...STORE["backend/2026-11-26.log"]!.map((l) => `backend ${l}`), ...STORE["database/2026-11-26.log"]!.map((l) => `database ${l}`)]);
    expect(run("--max", "1").stdout.trim().split("\n")).toEqual([`backend ${STORE["backend/2026-11-26.log"]![0]}`]);
  });

  it("exits 1 with no output when nothing matched, and 2 naming the cause when the search cannot run", () => {
    const { run } = setUp();
    expect(run("--grep", "no such text")).toEqual({ status: 1, stdout: "", stderr: "" });
    expect(run("--since", "2026-11-27", "--until", "2026-11-25")).toMatchObject({ status: 2, stderr: "--since (2026-11-27) must not be after --until (2026-11-25)\n" });
    expect(run("--since", "yesterday")).toMatchObject({ status: 2, stderr: expect.stringContaining("--since must be a day, YYYY-MM-DD (got yesterday)") });
    expect(run("--service", "../etc")).toMatchObject({ status: 2, stderr: expect.stringContaining("--service must be a service directory") });
    expect(run("--max", "0")).toMatchObject({ status: 2, stderr: expect.stringContaining("--max must be a whole number from 1 to 1000000 (got 0)") });
    expect(run("--follow")).toMatchObject({ status: 2, stderr: expect.stringContaining("unknown argument --follow") });
    const none = setUp(false).run();
    expect(none.status).toBe(2);
    expect(none.stderr).toContain("fairlens: no log collector runs on this host");
  });

  it("renders a script shellcheck passes", () => {
    const script = renderLogSearchScript({ appId: "fairlens", since: "2026-11-25", until: "2026-11-26", pattern: "it's \"quoted\" $(not run)", max: 10 });
    const res = spawnSync(requireTool("shellcheck"), ["--shell=sh", "--severity=style", "-"], { input: script, encoding: "utf8" });
    expect(res.stdout).toBe("");
  });
});
