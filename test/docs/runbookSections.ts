/**
 * The sections of a runbook, as the coverage matrix must list them: markdown headings (`##` and
 * deeper) outside code fences, each with its line number. A heading whose body is empty (the next
 * non-blank line is another heading) is only a container and need not be listed; the title and
 * the table of contents are not sections.
 */
export interface RunbookSection {
  readonly line: number;
  readonly level: number;
  readonly title: string;
  /** False for a heading with no text of its own before the next heading. */
  readonly hasBody: boolean;
}

export function runbookSections(text: string): RunbookSection[] {
  const lines = text.split("\n");
  const found: { line: number; level: number; title: string }[] = [];
  let fenced = false;
  lines.forEach((raw, i) => {
    if (/^\s*```/.test(raw)) fenced = !fenced;
    const m = !fenced && /^(#{2,6})\s+(.+?)\s*$/.exec(raw);
    if (m) found.push({ line: i + 1, level: m[1]!.length, title: m[2]! });
  });
  return found
    .filter((h) => !/^table of contents$/i.test(h.title))
    .map((h) => {
      const next = found.find((x) => x.line > h.line);
      const body = lines.slice(h.line, (next?.line ?? lines.length + 1) - 1).filter((l) => l.trim() !== "" && l.trim() !== "---");
      return { ...h, hasBody: body.length > 0 };
    });
}

/** The sections the matrix must have a row for. */
export const requiredSections = (text: string): RunbookSection[] => runbookSections(text).filter((s) => s.hasBody);
