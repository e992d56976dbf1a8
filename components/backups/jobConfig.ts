/**
 * jobs.env: the settings of an app's backup jobs on its host, one `KEY=value` per line, each value
 * quoted for POSIX sh (the scripts read the file with `.`). Nothing secret goes here: the writer's
 * credentials are a file of their own, delivered on stdin.
 */
import { shellQuote } from "../shared/shell";

export function renderJobConfig(settings: Readonly<Record<string, string | number>>): string {
  const lines = Object.entries(settings).map(([key, value]) => {
    if (!/^[A-Z][A-Z0-9_]*$/.test(key)) throw new Error(`\`${key}\` is not a shell variable name (A-Z, 0-9, _)`);
    const text = String(value);
    if (/[\r\n]/.test(text)) throw new Error(`\`${key}\` spans several lines`);
    return `${key}=${shellQuote(text)}`;
  });
  return `# Settings of the backup jobs: rendered by runbook-as-code, do not edit by hand.\n${lines.join("\n")}\n`;
}

/** The settings a jobs.env holds, read back (the policies and tests read what the host gets). */
export function parseJobConfig(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^([A-Z][A-Z0-9_]*)=('(?:[^']|'\\'')*'|\S*)$/gm)) {
    const raw = m[2]!;
    out[m[1]!] = raw.startsWith("'") ? raw.slice(1, -1).replace(/'\\''/g, "'") : raw;
  }
  return out;
}
