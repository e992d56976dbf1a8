/**
 * Reads docs/runbook-coverage.md and says what is wrong with it: every table row's status from the
 * fixed vocabulary, a reason where a machine does not do it, a test for every "done", every cited
 * test existing under its full name (file › describe › … › it), every cited code file existing, and
 * every section of every runbook listed (by its heading and line).
 */
import { namesTest, testNames, type TestName } from "./testTitles";
import { requiredSections, runbookSections } from "./runbookSections";

export const STATUSES = ["done", "partial", "open", "human", "n/a"] as const;
export type Status = (typeof STATUSES)[number];

export interface MatrixRow {
  /** The `## ` heading the table is under. */
  readonly heading: string;
  readonly line: number;
  readonly cells: Readonly<Record<string, string>>;
}

export interface MatrixSources {
  /** Runbook text by its number (`000`...). */
  readonly runbooks: Readonly<Record<string, string>>;
  /** A test file's source by its path under test/, or undefined when there is none. */
  readonly readTest: (file: string) => string | undefined;
  /** Whether a code file (path from the repository root) exists. */
  readonly codeExists: (file: string) => boolean;
}

/** Cells of a markdown table line, `\|` kept as a pipe inside a cell. */
const cellsOf = (line: string) => line.trim().replace(/^\||\|$/g, "").split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, "|"));

/** Every row of every table, keyed by the header's column names. */
export function matrixRows(doc: string): MatrixRow[] {
  const lines = doc.split("\n");
  const rows: MatrixRow[] = [];
  let heading = "";
  let header: string[] | undefined;
  lines.forEach((line, i) => {
    if (line.startsWith("## ")) heading = line.slice(3).trim();
    if (!line.trim().startsWith("|")) {
      header = undefined;
      return;
    }
    const cells = cellsOf(line);
    if (!header) {
      header = cells;
      return;
    }
    if (cells.every((c) => /^:?-+:?$/.test(c))) return;
    rows.push({ heading, line: i + 1, cells: Object.fromEntries(header.map((h, j) => [h, cells[j] ?? ""])) });
  });
  return rows;
}

/** Test citations in a cell: `` `dir/file.test.ts › describe › it` ``. */
export function citations(text: string): { file: string; titles: string[] }[] {
  return [...text.matchAll(/`([\w./-]+\.test\.ts)((?: › [^`]+)+)`/g)].map((m) => ({ file: m[1]!, titles: m[2]!.split(" › ").slice(1) }));
}

const SECTION = /^(.+) \((\d+)\)$/;

export function matrixProblems(doc: string, sources: MatrixSources): string[] {
  const problems: string[] = [];
  const rows = matrixRows(doc);
  const names = new Map<string, TestName[] | undefined>();
  const testsOf = (file: string) => {
    if (!names.has(file)) {
      const source = sources.readTest(file);
      names.set(file, source === undefined ? undefined : testNames(source, file));
    }
    return names.get(file);
  };

  for (const { file, titles } of citations(doc)) {
    const cited = `${file} › ${titles.join(" › ")}`;
    const known = testsOf(file);
    if (!known) problems.push(`cites ${cited}, but test/${file} does not exist`);
    else if (titles.some((t) => t.includes("…"))) problems.push(`cites ${cited} shortened with "…": cite the full name`);
    else if (!namesTest(known, titles)) problems.push(`cites ${cited}, which is not the full name of a test of test/${file} (file › describe › it)`);
  }
  for (const m of doc.matchAll(/`((?:components|config|plan|policies|apps|scripts)\/[\w./-]+\.(?:ts|json|sh))`/g)) {
    if (!sources.codeExists(m[1]!)) problems.push(`cites the code file ${m[1]}, which does not exist`);
  }

  for (const row of rows) {
    const statusCell = row.cells["Status"];
    if (statusCell === undefined) continue; // the requirement tables: no status column
    const where = `line ${row.line} (${row.heading})`;
    const status = STATUSES.find((s) => statusCell === s || statusCell.startsWith(`${s} `) || statusCell.startsWith(`${s}:`) || statusCell.startsWith(`${s},`));
    if (!status) {
      problems.push(`${where}: status "${statusCell}" is not one of ${STATUSES.join(", ")}`);
      continue;
    }
    const test = row.cells["Test"] ?? "";
    const form = (row.cells["New form"] ?? row.cells["Where in code"] ?? "").replace(/^—$/, "");
    if (status === "done" && citations(test).length === 0) problems.push(`${where}: "done" cites no test (file › describe › it)`);
    if ((status === "human" || status === "n/a") && form.trim() === "") problems.push(`${where}: "${status}" gives no reason`);
    if ((status === "partial" || status === "open") && form.trim() === "") problems.push(`${where}: "${status}" does not say what is built and what is not`);
  }

  for (const [number, text] of Object.entries(sources.runbooks)) {
    const heading = `${number} `;
    const own = rows.filter((r) => r.heading.startsWith(heading) && r.cells["Status"] !== undefined);
    if (own.length === 0) {
      problems.push(`runbook ${number} has no table under a "## ${number} ..." heading`);
      continue;
    }
    const headings = runbookSections(text);
    const listed = new Set<number>();
    for (const r of own) {
      const m = SECTION.exec(r.cells["Section"] ?? "");
      if (!m) {
        problems.push(`line ${r.line}: the Section cell must be "<runbook heading> (<line>)", got "${r.cells["Section"] ?? ""}"`);
        continue;
      }
      const h = headings.find((x) => x.line === Number(m[2]));
      if (!h || h.title !== m[1]) problems.push(`line ${r.line}: runbook ${number} has no heading "${m[1]}" on line ${m[2]}`);
      else listed.add(h.line);
    }
    for (const s of requiredSections(text).filter((x) => !listed.has(x.line))) problems.push(`runbook ${number}: section "${s.title}" (line ${s.line}) has no row`);
  }
  return problems;
}
