/**
 * The plan's command line: options, usage, and what `--json` means. Pure: no I/O.
 *
 * `--json` prints the JSON document on stdout (for `node --import tsx scripts/plan.ts`), and
 * `--json <file>` writes it to a file. Under `npm run plan`, stdout is npm's as much as ours (npm 11
 * prints a `> runbook-as-code@0.1.0 plan` banner there at its default log level), so the README
 * gives the file form: the document is then pure JSON whatever npm prints, and npm's own errors stay
 * visible (the project no longer silences npm in .npmrc).
 */
import { parseArgs } from "node:util";
import { parseClock } from "../config/rotationClock";

export const EXIT = { ok: 0, violation: 1, invalid: 2 } as const;

export interface PlanOptions {
  readonly stack?: string;
  readonly configFile?: string;
  /** Produce the JSON document (on stdout unless `jsonFile` is given). */
  readonly json: boolean;
  /** Write the JSON document here instead of stdout; the text report then goes to stdout. */
  readonly jsonFile?: string;
  /** Write SARIF 2.1.0 here. */
  readonly sarif?: string;
  /** The policy pack config; default policies/config/<environment>.json. */
  readonly policyConfig?: string;
  /** Plan as a first `pulumi preview`: provider outputs unknown. */
  readonly preview?: boolean;
  /** The rotation clock (ms since the Unix epoch): plan the stack as it would be deployed then. Default: now. */
  readonly now?: number;
  readonly cwd: string;
}

export const USAGE = `usage: npm run plan -- --stack <name> | --config-file <path> [options]

Runs the program under Pulumi's mock runtime with a stack's config, prints what \`pulumi up\` would
create, and runs the policy pack over it. Needs no cloud account, Docker host or Pulumi CLI.

  --stack <name>          read Pulumi.<name>.yaml
  --config-file <path>    read any stack file
  --json [file]           the plan as one JSON document, written to <file>; without a file, on stdout
                          (under npm, give a file: npm prints its own lines on stdout)
  --sarif <file>          write the policy results as SARIF 2.1.0
  --policy-config <file>  the policy pack config (default: policies/config/<environment>.json)
  --preview               plan as a first \`pulumi preview\` would: provider outputs unknown; lists the
                          policies that then cannot run (advisory "can't run policy during preview")
  --now <time>            the rotation clock, an ISO 8601 time (2026-04-01T00:00:00Z): which secrets
                          rotate in the window of that time (default: the real time)
  -h, --help              print this help and exit

Exit codes: 0 clean (advisory violations are printed); 1 a mandatory policy violation;
2 invalid config, invalid policy config, bad arguments or a program error.
`;

export type ParsedArgs = { readonly kind: "run"; readonly options: PlanOptions } | { readonly kind: "help" } | { readonly kind: "error"; readonly message: string };

/** `--json` followed by nothing or by another option means stdout. */
function normaliseJson(argv: readonly string[]): string[] {
  return argv.map((a, i) => (a === "--json" && (i === argv.length - 1 || (argv[i + 1]!.startsWith("-") && argv[i + 1] !== "-")) ? "--json=-" : a));
}

export function parsePlanArgs(argv: readonly string[], cwd: string): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: normaliseJson(argv),
      options: {
        stack: { type: "string" },
        "config-file": { type: "string" },
        json: { type: "string" },
        sarif: { type: "string" },
        "policy-config": { type: "string" },
        preview: { type: "boolean" },
        now: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    return { kind: "error", message: (err as Error).message };
  }
  const { stack, "config-file": configFile, json, sarif, "policy-config": policyConfig, preview, now, help } = parsed.values;
  if (help) return { kind: "help" };
  const clock = now === undefined ? undefined : parseClock(now);
  if (now !== undefined && clock === undefined) return { kind: "error", message: `--now: \`${now}\` is not an ISO 8601 time with a zone, such as 2026-04-01T00:00:00Z` };
  if (!stack && !configFile) return { kind: "error", message: "name a stack (--stack prod) or a stack file (--config-file path/to/Pulumi.x.yaml)" };
  if (stack && !/^[A-Za-z0-9_.-]+$/.test(stack)) return { kind: "error", message: `--stack: \`${stack}\` is not a stack name` };
  return {
    kind: "run",
    options: {
      ...(stack && { stack }),
      ...(configFile && { configFile }),
      json: json !== undefined,
      ...(json !== undefined && json !== "-" && { jsonFile: json }),
      ...(sarif && { sarif }),
      ...(policyConfig && { policyConfig }),
      ...(preview && { preview }),
      ...(clock !== undefined && { now: clock }),
      cwd,
    },
  };
}
