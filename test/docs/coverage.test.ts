/**
 * docs/runbook-coverage.md stays complete and honest: every section of every runbook has a row, every
 * status is from the vocabulary, every "done" cites a test that exists under its full name, and a
 * machine's "no" says why. The unit cases show each check failing on a bad row.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers";
import { catalog, catalogIds } from "../../apps";
import { citations, matrixProblems, matrixRows, type MatrixSources } from "./coverageMatrix";
import { requiredSections } from "./runbookSections";
import { namesTest, testNames } from "./testTitles";

const RUNBOOKS = path.join(ROOT, "..", "shared", "runbooks");
const runbooks = Object.fromEntries(
  fs.readdirSync(RUNBOOKS).filter((f) => /^\d{3}_.*\.txt$/.test(f)).map((f) => [f.slice(0, 3), fs.readFileSync(path.join(RUNBOOKS, f), "utf8")]),
);
const real: MatrixSources = {
  runbooks,
  readTest: (file) => (fs.existsSync(path.join(ROOT, "test", file)) ? fs.readFileSync(path.join(ROOT, "test", file), "utf8") : undefined),
  codeExists: (file) => fs.existsSync(path.join(ROOT, file)),
};
const doc = fs.readFileSync(path.join(ROOT, "docs/runbook-coverage.md"), "utf8");

describe("docs/runbook-coverage.md", () => {
  it("has no problem: every runbook section listed, statuses from the vocabulary, every cited test found by its full name", () => {
    expect(Object.keys(runbooks).sort()).toEqual(["000", "001", "002", "003", "004"]);
    expect(matrixProblems(doc, real)).toEqual([]);
  });

  it("cites tests for most procedures, and counts the rows by status", () => {
    const rows = matrixRows(doc).filter((r) => r.cells["Status"] !== undefined);
    const count = (s: string) => rows.filter((r) => r.cells["Status"]!.startsWith(s)).length;
    const counts = Object.fromEntries(["done", "partial", "open", "human", "n/a"].map((s) => [s, count(s)]));
    console.log(`runbook-coverage.md: ${rows.length} rows; ${JSON.stringify(counts)}; ${citations(doc).length} test citations`);
    expect(rows.length).toBeGreaterThan(150);
    expect(citations(doc).length).toBeGreaterThan(80);
  });
});

describe("docs/operations.md", () => {
  const ops = fs.readFileSync(path.join(ROOT, "docs/operations.md"), "utf8");
  it.each(catalogIds)("%s: names every section of its runbook with the command or setting that replaces it", (id) => {
    const section = ops.split(/^## /m).find((s) => s.startsWith(`${id}\n`));
    expect(section, `## ${id}`).toBeDefined();
    const rows = matrixRows(`## ${section!}`).filter((r) => r.cells["Runbook section"] !== undefined);
    const runbook = runbooks[catalog[id]!.runbook.slice(0, 3)]!;
    for (const s of requiredSections(runbook)) {
      const row = rows.find((r) => r.cells["Runbook section"] === `${s.title} (${s.line})`);
      expect(row, `${id}: ${s.title} (${s.line})`).toBeDefined();
      expect(row!.cells["Now"]!.replace(/^—$/, ""), `${id}: ${s.title}`).not.toBe("");
    }
  });
});

const TEST_FILE = `
describe("AppStack of %s", () => {
  it("runs each service", () => {});
  it.each([1, 2])("keeps volume %d", () => {});
  describe("nested", () => { test(\`names \${x} by app\`, () => {}); });
});
it("stands alone", () => {});
`;
const RUNBOOK = "# Title\n\n## Table of Contents\n- a\n\n## Operations\n\n### Start\nrun it\n\n### Stop\n```\n# not a heading\n```\n";
const GOOD_ROWS = [
  "| Start (8) | start all | done | `AppStack` | `x/a.test.ts › AppStack of lms › runs each service` |",
  "| Stop (11) | stop all | human | stopping prod is a person's call | — |",
];
const fake = (rows: readonly string[]): [string, MatrixSources] => [
  ["## 900 Fake", "", "| Section | Procedure | Status | New form | Test |", "| --- | --- | --- | --- | --- |", ...rows, ""].join("\n"),
  { runbooks: { "900": RUNBOOK }, readTest: (f) => (f === "x/a.test.ts" ? TEST_FILE : undefined), codeExists: (f) => f === "components/app/appStack.ts" },
];

describe("the coverage checks", () => {
  it("accept a matrix that lists every section with valid rows", () => {
    expect(matrixProblems(...fake(GOOD_ROWS))).toEqual([]);
  });

  it.each([
    ["a status outside the vocabulary", ["| Start (8) | start | finished | x | — |", GOOD_ROWS[1]!], 'line 5 (900 Fake): status "finished" is not one of done, partial, open, human, n/a'],
    ["a done row without a test", ["| Start (8) | start | done | `AppStack` | — |", GOOD_ROWS[1]!], 'line 5 (900 Fake): "done" cites no test (file › describe › it)'],
    ["a human row without a reason", [GOOD_ROWS[0]!, "| Stop (11) | stop | human | — | — |"], 'line 6 (900 Fake): "human" gives no reason'],
    ["a test that does not exist", ["| Start (8) | start | done | x | `x/a.test.ts › AppStack of lms › runs nothing` |", GOOD_ROWS[1]!], "cites x/a.test.ts › AppStack of lms › runs nothing, which is not the full name of a test of test/x/a.test.ts (file › describe › it)"],
    ["a test named without its describe", ["| Start (8) | start | done | x | `x/a.test.ts › runs each service` |", GOOD_ROWS[1]!], "cites x/a.test.ts › runs each service, which is not the full name of a test of test/x/a.test.ts (file › describe › it)"],
    ["a shortened test name", ["| Start (8) | start | done | x | `x/a.test.ts › AppStack of lms › runs each…` |", GOOD_ROWS[1]!], 'cites x/a.test.ts › AppStack of lms › runs each… shortened with "…": cite the full name'],
    ["a test file that does not exist", ["| Start (8) | start | done | x | `y/b.test.ts › a › b` |", GOOD_ROWS[1]!], "cites y/b.test.ts › a › b, but test/y/b.test.ts does not exist"],
    ["a missing section", [GOOD_ROWS[0]!], 'runbook 900: section "Stop" (line 11) has no row'],
    ["a section on the wrong line", [GOOD_ROWS[0]!, "| Stop (12) | stop | human | a person | — |"], 'line 6: runbook 900 has no heading "Stop" on line 12'],
    ["a code file that does not exist", ["| Start (8) | start | done | `components/app/nothing.ts` | `x/a.test.ts › stands alone` |", GOOD_ROWS[1]!], "cites the code file components/app/nothing.ts, which does not exist"],
  ])("refuse %s", (_what, rows, problem) => {
    expect(matrixProblems(...fake(rows))).toContain(problem);
  });

  it("read it.each and template titles as patterns, and nested describes as one path", () => {
    const names = testNames(TEST_FILE);
    expect(names.map((n) => n.titles.join(" › "))).toEqual(["AppStack of %s › runs each service", "AppStack of %s › keeps volume %d", "AppStack of %s › nested › names ${} by app", "stands alone"]);
    expect(namesTest(names, ["AppStack of fdts", "keeps volume 2"])).toBe(true);
    expect(namesTest(names, ["AppStack of fdts", "nested", "names lms by app"])).toBe(true);
    expect(namesTest(names, ["AppStack of fdts", "names lms by app"])).toBe(false);
  });
});
