/**
 * The commands a POSIX sh script calls on the machine it runs on, read from its syntax tree with
 * mvdan-sh (the parser behind shfmt), not with patterns:
 * - a call's first word, when it is a literal (`"$SYSTEMCTL"`, `"$@"` and `"$dir/backup.sh"` are not:
 *   they are skipped, and the caller lists what they may stand for);
 * - through wrappers that run their arguments on the same machine (`sudo -n X`, the scripts' own
 *   `as_root X`, `exec X`, `timeout 5 X`, `nice X`, `env A=b X`, `xargs X`);
 * - into `sh -c '<script>'` and into heredocs that are scripts (`#!/bin/sh`: what an installer writes);
 * - never into `docker ...` (what runs in a container needs nothing on the host) nor `command -v X`
 *   (a probe, not a call);
 * - leaving out shell builtins and the functions the script defines.
 * Paths: a command under /bin, /usr/bin, /sbin or /usr/sbin counts by its name; any other path is the
 * program's own script (its own calls are read where it is written, as a heredoc).
 */
import * as path from "node:path";
import { syntax, type ShNode } from "mvdan-sh";

const BUILTINS = new Set([
  ".", ":", "break", "continue", "eval", "exec", "exit", "export", "readonly", "return", "set", "shift", "times", "trap", "unset",
  "alias", "cd", "command", "false", "getopts", "hash", "jobs", "kill", "pwd", "read", "true", "type", "ulimit", "umask", "unalias",
  "wait", "echo", "printf", "test", "[", "local",
]);
const WRAPPERS = new Set(["sudo", "as_root", "exec", "timeout", "nice", "env", "xargs"]);
const OPTION_VALUES = new Set(["nice -n", "sudo -u", "sudo -g", "timeout -s", "timeout -k", "xargs -n", "xargs -I", "xargs -P", "xargs -d"]);
const SYSTEM_PATH = /^\/(usr\/)?s?bin\/[^/]+$/;
const SHELLS = new Set(["sh", "bash", "dash"]);

const type = (n: ShNode) => syntax.NodeType(n);
const children = (n: ShNode, key: string) => (n[key] as ShNode[] | null | undefined) ?? [];

/** A word's text when it has no expansion in it, else undefined. */
export function literal(word: ShNode | null | undefined, quoting: "none" | "double" | "heredoc" = "none"): string | undefined {
  if (!word) return undefined;
  let text = "";
  for (const part of children(word, "Parts")) {
    const t = type(part);
    // The parser keeps a literal's backslashes as written: undo the quoting the shell would.
    if (t === "Lit") {
      const value = String(part["Value"]);
      text += quoting === "heredoc" ? value : value.replace(quoting === "double" ? /\\([$`"\\\n])/g : /\\(.|\n)/g, (_, c: string) => (c === "\n" ? "" : c));
    }
    else if (t === "SglQuoted") text += String(part["Value"]);
    else if (t === "DblQuoted") {
      const inner = literal(part, "double");
      if (inner === undefined) return undefined;
      text += inner;
    } else return undefined;
  }
  return text;
}

/** How an expanded command word reads: `$NAME` for one parameter, else `<expansion>`. */
function expansionOf(word: ShNode): string {
  const parts = children(word, "Parts");
  const only = parts.length === 1 && type(parts[0]!) === "DblQuoted" ? children(parts[0]!, "Parts") : parts;
  if (only.length === 1 && type(only[0]!) === "ParamExp") return `$${String((only[0]!["Param"] as ShNode)["Value"])}`;
  return "<expansion>";
}

export interface ScriptCommands {
  /** External commands called on this machine. */
  readonly commands: Set<string>;
  /** Calls whose command is an expansion (`"$SYSTEMCTL"`), as written, for the caller to account for. */
  readonly dynamic: Set<string>;
}

/** The external commands `script` calls (and those of the scripts it carries), added to `into`. */
export function scriptCommands(script: string, into: ScriptCommands = { commands: new Set(), dynamic: new Set() }): ScriptCommands {
  const file = syntax.NewParser(syntax.Variant(syntax.LangPOSIX)).Parse(script, "script");
  const functions = new Set<string>();
  const calls: ShNode[][] = [];
  const nested: string[] = [];
  syntax.Walk(file, (node) => {
    if (!node) return true;
    const t = type(node);
    if (t === "FuncDecl") functions.add(String((node["Name"] as ShNode)["Value"]));
    if (t === "CallExpr") calls.push(children(node, "Args"));
    if (t === "Redirect") {
      const body = literal(node["Hdoc"] as ShNode | null, "heredoc");
      if (body?.startsWith("#!/bin/sh")) nested.push(body);
    }
    return true;
  });
  for (const args of calls) {
    const words = args.map((a) => literal(a));
    let i = 0;
    while (i < words.length) {
      const word = words[i];
      if (word === undefined) {
        into.dynamic.add(expansionOf(args[i]!));
        break;
      }
      if (word.includes("/") && !SYSTEM_PATH.test(word)) break;
      const name = path.basename(word);
      if (name === "command" && words[i + 1]?.startsWith("-")) break;
      if (SHELLS.has(name) && words[i + 1] === "-c") {
        const text = words[i + 2];
        if (text !== undefined) scriptCommands(text, into);
        into.commands.add(name);
        break;
      }
      if (functions.has(name) && !WRAPPERS.has(name)) break;
      if (WRAPPERS.has(name) || name === "command") {
        if (!functions.has(name) && !BUILTINS.has(name)) into.commands.add(name);
        i += 1;
        while (i < words.length && (words[i]?.startsWith("-") || (name === "timeout" && /^\d/.test(words[i] ?? "")) || (name === "env" && words[i]?.includes("=")))) {
          // Options that take a value: `nice -n 10`, `sudo -u user`, `timeout -s KILL 5`.
          i += OPTION_VALUES.has(`${name} ${words[i]}`) ? 2 : 1;
        }
        continue;
      }
      if (!BUILTINS.has(name)) into.commands.add(name);
      break;
    }
  }
  for (const body of nested) scriptCommands(body, into);
  return into;
}
