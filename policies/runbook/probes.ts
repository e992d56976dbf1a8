import type { HealthProbe } from "./requirements";

/** The port and path a health check command calls (python and wget use a URL; node an options object). */
export function probes(command: string, probe: HealthProbe): string[] {
  const missing: string[] = [];
  if (probe.port !== undefined && !new RegExp(`(:|port: )${probe.port}(?![0-9])`).test(command)) missing.push(`port ${probe.port}`);
  if (probe.path !== undefined && !new RegExp(`${probe.path.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}(?=["' ]|$)`).test(command)) missing.push(`path ${probe.path}`);
  for (const word of probe.contains ?? []) if (!command.includes(word)) missing.push(`"${word}"`);
  return missing;
}
