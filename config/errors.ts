/** A config problem: the full key path (`runbook:apps.fdts.backend.replicas`) and what would be valid. */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
}

/**
 * Thrown when a stack's config is invalid. Carries every problem at once; its message is one line per
 * problem, so the Pulumi CLI and the offline plan print the same text and no stack trace.
 */
export class ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      `invalid stack config (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  ${p.path}: ${p.message}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

/** Joins a key path the way `pulumi config set --path` spells it. */
export function keyPath(project: string, path: readonly PropertyKey[]): string {
  const [head, ...rest] = path;
  let out = `${project}:${String(head ?? "")}`;
  for (const part of rest) {
    out += typeof part === "number" ? `[${part}]` : `.${String(part)}`;
  }
  return out;
}
