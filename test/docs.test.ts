/**
 * docs/runbook-coverage.md must stay true: every test it cites exists, under the name it gives,
 * and every code path it cites is a file of this repository.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers";

const doc = fs.readFileSync(path.join(ROOT, "docs/runbook-coverage.md"), "utf8");

describe("docs/runbook-coverage.md", () => {
  const citations = [...doc.matchAll(/`([a-zA-Z]+\/[\w./]+\.test\.ts) › ([^`]+)`/g)].map((m) => [m[1]!, m[2]!] as const);

  it("cites tests", () => expect(citations.length).toBeGreaterThan(40));

  /** Titles of tests and describes in a test file; a template title's `${...}` matches anything. */
  function titles(source: string): RegExp[] {
    const found = [...source.matchAll(/(?:it|describe|(?:it|describe)\.each\([^)]*\))\(\s*(["'`])((?:\\.|(?!\1).)*)\1/gs)].map((m) => m[2]!);
    return found.map((t) => new RegExp(t.split(/\$\{[^}]*\}|%[sdj]/).map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*")));
  }

  it.each(citations)("cites %s › %s, which exists", (file, name) => {
    const source = fs.readFileSync(path.join(ROOT, "test", file), "utf8");
    const known = titles(source);
    // A citation may shorten a long test name with "…"; each part it keeps must be in one title.
    // A full name (`describe › it`, as vitest reports it) is checked title by title.
    for (const part of name.split(/…| › /).map((p) => p.trim()).filter(Boolean)) {
      expect(
        known.some((re) => re.test(part) || re.source.includes(part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))),
        `${file} has no test or describe named like "${part}"`,
      ).toBe(true);
    }
  });

  it("cites only test files that exist", () => {
    const bare = [...doc.matchAll(/`([a-zA-Z]+\/[\w./]+\.test\.ts)`/g)].map((m) => m[1]!);
    for (const f of bare) expect(fs.existsSync(path.join(ROOT, "test", f)), f).toBe(true);
  });

  it("cites only code files that exist", () => {
    const files = [...doc.matchAll(/`((?:components|config|plan|policies|apps|scripts)\/[\w./-]+(?<!\.test)\.(?:ts|json))`/g)].map((m) => m[1]!);
    expect(files.length).toBeGreaterThan(3);
    for (const f of files) expect(fs.existsSync(path.join(ROOT, f)), f).toBe(true);
  });

  it("has a section for each of the five runbooks", () => {
    for (const heading of ["## 000 FairLens", "## 001 FDTS", "## 002 FastAPI + React reference app", "## 003 Fraction Ball LMS", "## 004 Handwork Marketplace"]) {
      expect(doc).toContain(heading);
    }
  });
});
