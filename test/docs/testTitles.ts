/**
 * The full names of a test file's tests as vitest reports them (describe › … › it), read from the
 * file's syntax tree with the TypeScript compiler: `describe`/`it`/`test` with their `.skip`,
 * `.only`, `.concurrent` forms, and `.each(...)` tables, whose titles are templates (`%s`, `$name`,
 * `${...}`) that match any value.
 */
import ts from "typescript";

export interface TestName {
  /** Titles from the outermost describe to the test. */
  readonly titles: readonly string[];
}

type Kind = "describe" | "test";

function kindOf(callee: ts.Expression): Kind | undefined {
  // describe.each(table)(title, fn) / it.each(table)(title, fn)
  if (ts.isCallExpression(callee) && ts.isPropertyAccessExpression(callee.expression) && ["each", "for"].includes(callee.expression.name.text)) {
    return kindOf(callee.expression.expression);
  }
  if (ts.isPropertyAccessExpression(callee) && ["skip", "only", "concurrent", "sequential", "todo", "fails"].includes(callee.name.text)) {
    return kindOf(callee.expression);
  }
  if (ts.isIdentifier(callee)) {
    if (callee.text === "describe" || callee.text === "suite") return "describe";
    if (callee.text === "it" || callee.text === "test") return "test";
  }
  return undefined;
}

function titleOf(arg: ts.Expression | undefined): string {
  if (!arg) return "${}";
  if (ts.isStringLiteral(arg) || ts.isNoSubstitutionTemplateLiteral(arg)) return arg.text;
  if (ts.isTemplateExpression(arg)) return arg.head.text + arg.templateSpans.map((s) => "${}" + s.literal.text).join("");
  return "${}"; // a title computed at run time: matches anything
}

/** Every test of a file with its describe path. */
export function testNames(source: string, fileName = "test.ts"): TestName[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const names: TestName[] = [];
  const visit = (node: ts.Node, path: readonly string[]): void => {
    if (ts.isCallExpression(node)) {
      const kind = kindOf(node.expression);
      if (kind) {
        const title = titleOf(node.arguments[0]);
        if (kind === "test") {
          names.push({ titles: [...path, title] });
          return;
        }
        for (const arg of node.arguments.slice(1)) visit(arg, [...path, title]);
        return;
      }
    }
    ts.forEachChild(node, (child) => visit(child, path));
  };
  visit(file, []);
  return names;
}

/** A title as a pattern: the template's placeholders (`${}`, printf `%s`, `$name`) match anything. */
export function titlePattern(title: string): RegExp {
  const parts = title.split(/\$\{\}|%[sdifjo#%]|\$[A-Za-z_][\w.]*/);
  return new RegExp(`^${parts.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("[\\s\\S]*")}$`);
}

/** Whether a cited full name (titles after the file) names a test of the file. */
export function namesTest(names: readonly TestName[], cited: readonly string[]): boolean {
  return names.some((n) => n.titles.length === cited.length && n.titles.every((t, i) => titlePattern(t).test(cited[i]!)));
}
