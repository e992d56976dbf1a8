/**
 * `npm run logs`: searches an app's log store (components/logging/collectorConfig.ts) from the
 * operator's machine. The host script finds the app's log collector by its labels and runs the search
 * inside it (`docker exec`): the collector is root and mounts the store, so the deploy user needs
 * Docker access only, as for every other step, and no sudo. Pure: renders the script.
 *
 * Output: the matching lines of the days asked for, oldest day first, each prefixed with its service
 * (`backend 2026-11-26T10:00:00.1Z fairlens-backend-1-1a2b3c4 stderr ...`), at most `max` lines.
 * Exit status 0 when a line matched, 1 when none did, 2 when the search could not run.
 */
import { shellQuote } from "../shared/shell";
import { LOG_COLLECTOR } from "./collectorConfig";

export interface LogSearchSpec {
  readonly appId: string;
  /** A service directory of the store (`backend`, `database`, `worker-rq`, `monitoring-prometheus`); all when absent. */
  readonly service?: string;
  /** First and last day, `YYYY-MM-DD` (UTC), both included. */
  readonly since: string;
  readonly until: string;
  /** An extended regular expression (grep -E); every line when absent. */
  readonly pattern?: string;
  /** Most lines printed. */
  readonly max: number;
  /** grep -i, as the runbooks' `grep -i error`. */
  readonly ignoreCase?: boolean;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Problems of a search, each naming its option; empty when it can run. */
export function logSearchProblems(spec: LogSearchSpec): string[] {
  const problems: string[] = [];
  if (spec.service !== undefined && !/^[a-z0-9][a-z0-9-]*$/.test(spec.service)) problems.push(`--service must be a service directory such as backend or worker-rq (got ${spec.service})`);
  for (const [key, value] of [["--since", spec.since], ["--until", spec.until]] as const) {
    if (!DAY.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) problems.push(`${key} must be a day, YYYY-MM-DD (got ${value})`);
  }
  if (DAY.test(spec.since) && DAY.test(spec.until) && spec.since > spec.until) problems.push(`--since (${spec.since}) must not be after --until (${spec.until})`);
  if (!Number.isInteger(spec.max) || spec.max < 1 || spec.max > 1_000_000) problems.push(`--max must be a whole number from 1 to 1000000 (got ${spec.max})`);
  return problems;
}

/** The host script (stdin of the host run). */
export function renderLogSearchScript(spec: LogSearchSpec): string {
  const problems = logSearchProblems(spec);
  if (problems.length) throw new Error(problems.join("; "));
  // Inside the collector: the store is /logs (RUNBOOK_LOGS_ROOT moves it for the tests).
  const inner = [
    "set -u",
    `cd "\${RUNBOOK_LOGS_ROOT:-${LOG_COLLECTOR.store}}" || exit 2`,
    'service=$1; since=$(echo "$2" | tr -d -); until=$(echo "$3" | tr -d -); pattern=$4; max=$5; flags=$6',
    "for dir in */; do",
    '  dir=${dir%/}',
    '  if [ -n "$service" ] && [ "$dir" != "$service" ]; then continue; fi',
    '  for f in "$dir"/*.log; do',
    '    [ -f "$f" ] || continue',
    '    day=$(basename "$f" .log | tr -d -)',
    '    case "$day" in *[!0-9]* | "") continue ;; esac',
    '    if [ "$day" -lt "$since" ] || [ "$day" -gt "$until" ]; then continue; fi',
    '    printf "%s %s\\n" "$day" "$f"',
    "  done",
    "done | sort | while read -r day f; do",
    '  svc=${f%%/*}',
    '  if [ -n "$pattern" ]; then grep -a -E $flags -e "$pattern" "$f"; else cat "$f"; fi | sed "s|^|$svc |"',
    'done | head -n "$max" > /tmp/runbook-log-search.$$',
    'if [ -s /tmp/runbook-log-search.$$ ]; then cat /tmp/runbook-log-search.$$; rm -f /tmp/runbook-log-search.$$; exit 0; fi',
    "rm -f /tmp/runbook-log-search.$$; exit 1",
  ].join("\n");
  const args = [spec.service ?? "", spec.since, spec.until, spec.pattern ?? "", String(spec.max), spec.ignoreCase ? "-i" : "-s"].map(shellQuote).join(" ");
  return `#!/bin/sh
# Log search of ${spec.appId}: rendered by runbook-as-code, do not edit by hand.
set -u
collector=$(docker ps -q --filter label=runbook.app=${spec.appId} --filter label=runbook.service=${LOG_COLLECTOR.service} | head -n 1)
if [ -z "$collector" ]; then echo "${spec.appId}: no log collector runs on this host (apps.${spec.appId}.logging.enabled is false, or the stack has not been deployed with it)" >&2; exit 2; fi
docker exec "$collector" sh -c ${shellQuote(inner)} sh ${args}
`;
}
