/**
 * The plan as a command-line tool: help, arguments, and JSON that stays pure under `npm run`
 * while npm's own messages and errors stay visible.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { USAGE, parsePlanArgs } from "../../plan/args";
import type { PlanDocument } from "../../plan/report";
import { ROOT, runPlanCli } from "../helpers";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-cli-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** npm as a user runs it in the project: no npm_* settings inherited from the test's own npm. */
function npm(args: readonly string[]) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  return spawnSync("npm", [...args], { cwd: ROOT, encoding: "utf8", env, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
}

describe("the plan's command line", () => {
  it("-h is --help", () => expect(parsePlanArgs(["-h"], "/x")).toEqual({ kind: "help" }));

  it("--help prints the usage on stdout and exits 0", () => {
    const res = runPlanCli(["--help"]);
    expect(res.status).toBe(0);
    expect(res.stdout).toBe(USAGE);
    expect(res.stderr).toBe("");
    for (const option of ["--stack <name>", "--config-file <path>", "--json [file]", "--sarif <file>", "--policy-config <file>", "-h, --help"]) {
      expect(res.stdout).toContain(option);
    }
  });

  it("exits 2 with the usage on stderr for an unknown option", () => {
    const res = runPlanCli(["--stack", "prod", "--jsn"]);
    expect(res.status).toBe(2);
    expect(res.stdout).toBe("");
    expect(res.stderr).toContain("Unknown option '--jsn'");
    expect(res.stderr).toContain(USAGE);
  });

  it.each([
    [["--stack", "prod", "--json"], { json: true }],
    [["--json", "--stack", "prod"], { json: true }],
    [["--stack", "prod", "--json", "-"], { json: true }],
    [["--stack", "prod", "--json", "out.json"], { json: true, jsonFile: "out.json" }],
    [["--json=out.json", "--stack", "prod"], { json: true, jsonFile: "out.json" }],
    [["--stack", "prod"], { json: false }],
  ])("reads %j", (argv, expected) => {
    const parsed = parsePlanArgs(argv, "/x");
    expect(parsed.kind).toBe("run");
    if (parsed.kind === "run") expect(parsed.options).toEqual({ stack: "prod", cwd: "/x", ...expected });
  });
});

describe("JSON under npm run, with npm's own output left alone", () => {
  it("no .npmrc silences npm", () => {
    const npmrc = path.join(ROOT, ".npmrc");
    const text = fs.existsSync(npmrc) ? fs.readFileSync(npmrc, "utf8") : "";
    expect(text).not.toMatch(/^\s*loglevel\s*=\s*silent/m);
  });

  it("npm's own errors reach the user", () => {
    const res = npm(["run", "no-such-script"]);
    expect(res.status).not.toBe(0);
    expect(res.stderr).toContain('Missing script: "no-such-script"');
  });

  it("npm run plan -- --stack staging --json <file> writes pure JSON to the file and the text report to stdout", () => {
    const file = path.join(dir, "staging.json");
    const res = npm(["run", "plan", "--", "--stack", "staging", "--json", file]);
    expect(res.status, res.stderr).toBe(0);
    const doc = JSON.parse(fs.readFileSync(file, "utf8")) as PlanDocument;
    expect(doc.stack).toBe("staging");
    expect(fs.readFileSync(file, "utf8").startsWith("{")).toBe(true);
    expect(res.stdout).toContain("Offline plan of stack staging (staging)");
  });
});
