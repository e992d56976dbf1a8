/**
 * FairLens's "Alerting on error patterns" (runbook 000, "Log Management"): its backend's lines, as
 * Docker's json-file driver stores them, counted by Debian's real mtail with the rendered program
 * (one-shot mode), and the alert on them. A database the backend cannot reach is counted once per
 * libpq message, never from a traceback's frames or another service's refused connection.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { renderBackendLogProgram, BACKEND_LOG } from "../../components/monitoring/backendLogProgram";
import { alertRulesSpec, renderAlertRules } from "../../components/monitoring";
import { stackSpec } from "../helpers";
import { requireTool, tempDir } from "./realTools";

const fairlens = stackSpec("prod").apps.find((a) => a.id === "fairlens")!;
const dir = tempDir("fairlens-mtail");
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const json = (log: string, stream = "stderr") => JSON.stringify({ log: `${log}\n`, stream, time: "2026-11-26T09:00:00.000000000Z" });
const LINES = [
  json("INFO:     10.0.0.5:51234 - \"GET /healthz HTTP/1.1\" 200 OK", "stdout"),
  json("ERROR:    Exception in ASGI application"),
  json("Traceback (most recent call last):"),
  json('  File "/app/db.py", line 12, in connect'),
  json('    raise OperationalError("could not connect to server")'),
  json('sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server at "db" (172.18.0.3), port 5432 failed: Connection refused'),
  json("psycopg2.OperationalError: could not connect to server: Connection refused"),
  json('psycopg2.OperationalError: FATAL:  password authentication failed for user "fairlens_user"'),
  // The Algorand node's client refusing: an error line, but not the database.
  json("ERROR:    httpx.ConnectError: [Errno 111] Connection refused (algod)"),
];

function oneShot(lines: readonly string[]): Record<string, number> {
  const progs = path.join(dir, "progs");
  fs.mkdirSync(progs, { recursive: true });
  fs.writeFileSync(path.join(progs, BACKEND_LOG.programFile), renderBackendLogProgram(fairlens.monitoring!.backendLog!, "fairlens"));
  const log = path.join(dir, "container-json.log");
  fs.writeFileSync(log, `${lines.join("\n")}\n`);
  const res = spawnSync(requireTool("mtail"), [`--progs=${progs}`, `--logs=${log}`, "--one_shot", "--one_shot_format=prometheus", "--logtostderr"], { encoding: "utf8", timeout: 30_000 });
  expect(res.status, res.stderr).toBe(0);
  return Object.fromEntries(
    [...res.stdout.matchAll(/^(backend_log_[a-z_]+)(?:\{[^}]*\})? (\d+)/gm)].map((m) => [m[1]!, Number(m[2])]),
  );
}

describe("FairLens's backend log lines counted by Debian's mtail with the rendered program", () => {
  it("counts each libpq connection failure once (not a frame quoting one, not the Algorand client's refusal), and every error line", () => {
    const counts = oneShot(LINES);
    expect(counts["backend_log_database_unreachable_lines_total"]).toBe(3);
    // ERROR x2, the traceback header, and the two psycopg2 lines do not say ERROR: 3 error lines.
    expect(counts["backend_log_error_lines_total"]).toBe(3);
    expect(counts["backend_log_lines_total"]).toBe(LINES.length);
  });

  it("counts nothing for a healthy backend's lines", () => {
    const counts = oneShot([json("INFO:     Application startup complete.", "stdout"), json("INFO:     10.0.0.5:1 - \"GET / HTTP/1.1\" 200 OK", "stdout")]);
    expect([counts["backend_log_database_unreachable_lines_total"] ?? 0, counts["backend_log_error_lines_total"] ?? 0]).toEqual([0, 0]);
  });

  it("pages on the first such line in five minutes: BackendDatabaseUnreachable is a critical rule naming the runbook's procedure", () => {
    const rules = renderAlertRules(alertRulesSpec(fairlens));
    const block = rules.slice(rules.indexOf("alert: BackendDatabaseUnreachable"));
    expect(block).toMatch(/^alert: BackendDatabaseUnreachable\n\s+expr: .*backend_log_database_unreachable_lines_total/);
    expect(block.slice(0, 800)).toContain("severity: critical");
    expect(block.slice(0, 800)).toContain("Database Connection Issues");
  });
});
