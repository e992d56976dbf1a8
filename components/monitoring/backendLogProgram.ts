/**
 * The backend log exporter: an mtail program, rendered from the app's catalog patterns, that counts
 * the backend's log lines the runbook greps for (payment lines and the failed ones, database errors,
 * `error|exception|timeout`), and where mtail reads them.
 *
 * Where the lines come from: the backend's containers log with Docker's json-file driver
 * (containerDefaults.ts `logOptions`), one file per container at
 * `/var/lib/docker/containers/<id>/<id>-json.log`, each line a JSON object (`{"log":"...\n",
 * "stream":"stderr","time":"..."}`). mtail tails those files of the backend's replicas only, from a
 * read-only mount; it follows Docker's rename-based rotation. The backend container is not changed, so
 * `docker logs` works as before and nothing of the app is replaced. The patterns match inside the
 * JSON-encoded line, so they must not rely on `"` or `\` (JSON escapes them) nor anchor at ^ or $.
 *
 * Why not a log driver: `syslog` or `fluentd` to a listener beside mtail would change the backend's
 * `logDriver`/`logOpts`, which the Docker provider marks ForceNew (kreuzwerker/terraform-provider-docker
 * internal/provider/resource_docker_container.go, `log_driver` and `log_opts`): every replica replaced,
 * json-file's `max-size`/`max-file` traded for the dual-logging cache's `cache-max-*` options (Docker's
 * "Use docker logs with remote logging drivers": `docker logs` keeps working through a local cache, 5 x
 * 20 MB by default), and a listener the daemon (on the host) must reach. Docker's json-file page calls
 * the files the daemon's own and warns that other tools may interfere with them; mtail only opens
 * them read-only and follows Docker's renames, and the mount is read-only. The mount shows every
 * container's directory (its config.v2.json holds its environment): cAdvisor's `/var/lib/docker` and
 * the node exporter's `/` mounts already do; mtail serves counters only.
 *
 * Secrets: a log line may hold a card token, an API key, an e-mail address. The program only adds 1
 * to counters without labels; nothing of a line (no capture group) becomes a label or a value, so what
 * Prometheus scrapes is counts alone. Pure: no resources.
 */
import type { BackendLogMetricsDefinition, LogLinePattern } from "../../apps/types";

/** mtail's port, the program's file (the `prog` label of every series), and where Docker keeps container logs. */
export const BACKEND_LOG = {
  port: 3903,
  programDir: "/etc/mtail",
  programFile: "backend.mtail",
  dockerContainers: "/var/lib/docker/containers",
} as const;

/** The image's build context, relative to the project root (stable across checkouts: components/logging/logCollector.ts says why): mtail-image/Dockerfile, Debian 12's mtail package. */
export const BACKEND_LOG_IMAGE = { context: "components/monitoring/mtail-image" } as const;

/** Counters without labels: mtail exports them at 0 from the start, so `increase()` sees the first line. */
export const BACKEND_LOG_METRICS = {
  lines: "backend_log_lines_total",
  errors: "backend_log_error_lines_total",
  /** Failed logins (the runbook's grep for them). */
  authFailures: "backend_log_auth_failed_lines_total",
  /** Every payment line, as the runbook's grep shows them. */
  payments: "backend_log_payment_lines_total",
  paymentFailed: "backend_log_payment_failed_lines_total",
  paymentSucceeded: "backend_log_payment_succeeded_lines_total",
  /** Indented lines (a Python traceback's frames and source lines): counted as lines, matched by nothing else. */
  continuation: "backend_log_continuation_lines_total",
} as const;

/**
 * An indented line as Docker's json-file driver stores it (`{"log":"  File ...`, `{"log":"\t...`): a
 * traceback's frame or source line, whose code (`stripe.PaymentIntent.create(...)`, `raise CardError`)
 * would otherwise count as a payment line or a failure once per frame.
 */
const CONTINUATION = String.raw`^\{"log":"( |\\t)`;

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The counter of database error `name` (lower camel case): `poolExhausted` -> backend_log_database_pool_exhausted_lines_total. */
export const databaseErrorMetric = (name: string) => `backend_log_database_${snake(name)}_lines_total`;

/** The json-file log of each backend container, by container id, as mtail's `--logs` list (`root`: Docker's containers directory). */
export function backendLogFiles(containerIds: readonly string[], root: string = BACKEND_LOG.dockerContainers): string[] {
  return containerIds.map((id) => `${root}/${id}/${id}-json.log`);
}

/** Problems of the catalog's patterns, each naming its key; empty when mtail can compile them all. */
export function backendLogProblems(def: BackendLogMetricsDefinition): string[] {
  const problems: string[] = [];
  const check = (key: string, p: LogLinePattern) => {
    if (p.pattern.length === 0) problems.push(`${key}.pattern must not be empty`);
    if (/[\n\r]/.test(p.pattern)) problems.push(`${key}.pattern must be one line`);
    if (/^\^|[^\\]\$$/.test(p.pattern)) problems.push(`${key}.pattern must not be anchored: it matches inside the JSON line Docker writes`);
    if (p.pattern.includes('"') || p.pattern.includes("\\\\")) problems.push(`${key}.pattern must not match a quote or a backslash: JSON escapes them in the stored line`);
    if (/\(\?[a-zA-Z]/.test(p.pattern)) {
      problems.push(`${key}.pattern must not set flags: use ignoreCase`);
      return;
    }
    try {
      new RegExp(p.pattern);
    } catch (e) {
      problems.push(`${key}.pattern is not a regular expression: ${(e as Error).message}`);
    }
  };
  if (def.payments) {
    check("payments.line", def.payments.line);
    check("payments.failure", def.payments.failure);
    check("payments.success", def.payments.success);
    const t = def.payments.errorRate.thresholdPercent;
    if (!(t > 0 && t < 100)) problems.push(`payments.errorRate.thresholdPercent must be above 0 and below 100 (got ${t})`);
  }
  if (def.errors) check("errors", def.errors);
  if (def.authFailures) check("authFailures", def.authFailures);
  const names = new Set<string>();
  for (const [i, d] of (def.database ?? []).entries()) {
    if (!/^[a-z][a-zA-Z0-9]*$/.test(d.name)) problems.push(`database[${i}].name must be lower camel case letters and digits (got ${JSON.stringify(d.name)})`);
    if (names.has(d.name)) problems.push(`database[${i}].name ${d.name} is given twice`);
    names.add(d.name);
    if (!/^[A-Z][A-Za-z0-9]*$/.test(d.alert)) problems.push(`database[${i}].alert must be an alert name in upper camel case (got ${JSON.stringify(d.alert)})`);
    check(`database[${i}].line`, d.line);
  }
  return problems;
}

/** A pattern as an mtail regular expression literal: `/.../`, with `/` escaped and `(?i)` for ignoreCase. */
function regex(p: LogLinePattern): string {
  return `/${p.ignoreCase ? "(?i)" : ""}${p.pattern.replace(/\//g, "\\/")}/`;
}

export function renderBackendLogProgram(def: BackendLogMetricsDefinition, app: string): string {
  const problems = backendLogProblems(def);
  if (problems.length > 0) throw new Error(`\`backendLogMetrics\` of ${app}: ${problems.join("; ")}`);
  const M = BACKEND_LOG_METRICS;
  const counters: string[] = [M.lines, M.continuation];
  const blocks: string[][] = [];
  if (def.errors) {
    counters.push(M.errors);
    blocks.push([`# ${def.errors.source.quote} (runbook line ${def.errors.source.line})`, `${regex(def.errors)} {`, `  ${M.errors}++`, "}"]);
  }
  if (def.authFailures) {
    counters.push(M.authFailures);
    blocks.push([`# Failed logins: ${def.authFailures.source.quote} (runbook line ${def.authFailures.source.line})`, `${regex(def.authFailures)} {`, `  ${M.authFailures}++`, "}"]);
  }
  if (def.payments) {
    const p = def.payments;
    counters.push(M.payments, M.paymentFailed, M.paymentSucceeded);
    blocks.push([
      `# ${p.line.source.quote} (runbook line ${p.line.source.line}); failed: ${p.failure.source.quote} (line ${p.failure.source.line})`,
      `${regex(p.line)} {`,
      `  ${M.payments}++`,
      `  ${regex(p.failure)} {`,
      `    ${M.paymentFailed}++`,
      "  } else {",
      `    ${regex(p.success)} {`,
      `      ${M.paymentSucceeded}++`,
      "    }",
      "  }",
      "}",
    ]);
  }
  for (const d of def.database ?? []) {
    counters.push(databaseErrorMetric(d.name));
    blocks.push([`# ${d.what}: ${d.line.source.quote} (runbook line ${d.line.source.line})`, `${regex(d.line)} {`, `  ${databaseErrorMetric(d.name)}++`, "}"]);
  }
  return [
    `# mtail program of ${app}'s backend log lines: rendered by runbook-as-code, do not edit by hand.`,
    "# Counters only, without labels: no text of a log line is ever exported.",
    ...counters.map((c) => `counter ${c}`),
    "",
    "# Every line the backend writes (stdout and stderr), as Docker's json-file driver stores it.",
    "/./ {",
    `  ${M.lines}++`,
    "}",
    "",
    "# An indented line (a traceback's frames and source lines) is matched by nothing else.",
    `/${CONTINUATION}/ {`,
    `  ${M.continuation}++`,
    "} else {",
    ...blocks.flatMap((b, i) => [...(i > 0 ? [""] : []), ...b]).map((l) => (l === "" ? l : `  ${l}`)),
    "}",
    "",
  ].join("\n");
}
