/**
 * A small serializer for nginx's configuration syntax: directives and blocks as data, written out
 * with correct quoting, so no config is ever glued together from strings.
 */
export interface NginxDirective {
  readonly name: string;
  readonly args?: readonly (string | number)[];
  /** Present for a block (`http { ... }`), absent for a simple directive (`gzip on;`). */
  readonly block?: readonly NginxDirective[];
}

/** Shorthand for a simple directive. */
export const d = (name: string, ...args: (string | number)[]): NginxDirective => ({ name, args });
/** Shorthand for a block. */
export const block = (name: string, args: (string | number)[], children: readonly NginxDirective[]): NginxDirective => ({
  name,
  args,
  block: children,
});

function quoteArg(arg: string | number): string {
  const s = String(arg);
  if (s === "") return '""';
  if (/[\s;{}"'#\\]/.test(s)) {
    return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\t/g, "\\t")}"`;
  }
  return s;
}

export function serializeNginx(nodes: readonly NginxDirective[], depth = 0): string {
  const pad = "    ".repeat(depth);
  return nodes
    .map((node) => {
      if (!/^[a-z_][a-z0-9_]*$/.test(node.name)) throw new Error(`invalid nginx directive name: ${node.name}`);
      const head = [node.name, ...(node.args ?? []).map(quoteArg)].join(" ");
      if (!node.block) return `${pad}${head};\n`;
      return `${pad}${head} {\n${serializeNginx(node.block, depth + 1)}${pad}}\n`;
    })
    .join("");
}
