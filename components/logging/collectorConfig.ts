/**
 * The log collector's rsyslog configuration and the deploy step's script that tells it which
 * container logs to follow. Pure: no resources.
 *
 * Why: the runbooks keep logs in `docker logs` ("Log Management": "For production, consider
 * centralized logging with ELK stack or similar"). A container's json-file log lives only as long as
 * the container (`docker rm` deletes `/var/lib/docker/containers/<id>/`), and every release replaces
 * the backends, so yesterday's errors are gone once a fix ships. The collector copies each line of
 * the app's containers that log with json-file (others are named and skipped by the deploy step), as
 * it is written, into one store on the host, one file per service and day
 * (`/var/log/runbook/<app>/<service>/<YYYY-MM-DD>.log`, the day of Docker's timestamp, UTC), where the
 * maintenance job's 30-day log retention (`find /var/log -name '*.log' -mtime +30`) expires it. With
 * `logging.forward` it also sends each line, as RFC 5424 syslog over TLS (RFC 5425), to a central
 * receiver, with a disk queue while the receiver is down (up to LOG_COLLECTOR.queueMaxDiskMb).
 *
 * How: rsyslog's imfile follows each container's json-file log (through Docker's renames while it
 * runs) and saves its read position per file (by inode) in the store's `.rsyslog/` directory after
 * every batch it submits, so a restart, a kill or a new collector resumes where the old one stopped,
 * and a log Docker truncates in place (max-file 1) is read again from its start (tests:
 * test/tools/logCollectorLive.test.ts). Lost: what the collector had not read of a file when Docker
 * rotated it while the collector was stopped (a release restarts it for about a second). Following
 * the rotated `.1` too would recover that, but stored whole rotated files twice at rotations while
 * running (measured: docs/engine-evidence.md item 21), so it is not done. mmjsonparse reads Docker's
 * `{"log":"...\n","stream":"stderr","time":"..."}`; Docker splits a line longer than 16 KiB into
 * entries, stored as separate lines, and an entry past rsyslog's 64 KiB message size goes to
 * `unparsed.log` as it was. The app's containers are not changed: their logDriver/logOpts are
 * ForceNew in the Docker provider (components/monitoring/backendLogProgram.ts says where), so a log
 * driver would have replaced every container, databases included, and `docker logs` keeps working as
 * before. Which files to follow is written by the deploy step from what runs on the host (`docker ps`
 * by the app's labels), so the outgoing release's containers are followed until Docker removes them.
 *
 * The forward is plain syslog over TLS, which has no acknowledgements: a line in flight when a
 * connection drops may be sent twice or lost (the store has it either way). Control characters are
 * escaped (`#027` for ESC), so nothing in a line can drive a terminal that reads the store.
 */
import type { LogForwardSpec } from "../../config/logging";
import { shellQuote } from "../shared/shell";

/** Paths inside the collector's container, and where the store lives on the host. */
export const LOG_COLLECTOR = {
  /** Docker's containers directory, mounted read-only. */
  dockerContainers: "/var/lib/docker/containers",
  /** The store, mounted from `hostStore(app)`. */
  store: "/logs",
  configDir: "/etc/runbook-logs",
  configFile: "/etc/runbook-logs/rsyslog.conf",
  /** In the store's work directory on the host: a new collector (a replaced container) starts with the last list. */
  inputsFile: "/logs/.rsyslog/inputs.conf",
  caFile: "/etc/runbook-logs/forward-ca.pem",
  pidFile: "/run/rsyslogd.pid",
  /** The collector's own service label: it never follows its own log. */
  service: "logging:collector",
  /** Lines waiting for the receiver, on disk, before the newest are dropped (the store keeps them). */
  queueMaxDiskMb: 1024,
} as const;

/** rsyslog holds a few MiB; the forward's queue spills to disk past its in-memory lines. */
export const LOG_COLLECTOR_LIMITS = { cpus: 0.25, memoryMb: 128 } as const;

/** The store on the host: under /var/log, where the scheduled log retention job looks. */
export const hostStore = (appId: string) => `/var/log/runbook/${appId}`;

export interface CollectorConfigSpec {
  readonly appId: string;
  readonly environment: string;
  readonly forward?: LogForwardSpec;
  /** Overrides for tests (paths on the machine running rsyslogd): the store, the inputs file, the CA file. */
  readonly paths?: { readonly store?: string; readonly inputsFile?: string; readonly caFile?: string };
}

const NAME = /^[a-z][a-z0-9-]*$/;
/** A value inside a RainerScript string literal: no quote, backslash or newline can end it early. */
function literal(value: string, key: string): string {
  if (/["\\\n\r]/.test(value)) throw new Error(`\`${key}\` must not contain quotes, backslashes or newlines (got ${JSON.stringify(value)})`);
  return value;
}

export function renderCollectorConfig(spec: CollectorConfigSpec): string {
  if (!NAME.test(spec.appId)) throw new Error(`\`appId\` must be lowercase letters, digits and '-' (got ${spec.appId})`);
  if (!NAME.test(spec.environment)) throw new Error(`\`environment\` must be lowercase letters, digits and '-' (got ${spec.environment})`);
  const store = literal(spec.paths?.store ?? LOG_COLLECTOR.store, "paths.store");
  const inputs = literal(spec.paths?.inputsFile ?? LOG_COLLECTOR.inputsFile, "paths.inputsFile");
  const f = spec.forward;
  const forward = f
    ? [
        "    # RFC 5424: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG; PRI user.info (14) or user.err (11).",
        '    if $!stream == "stderr" then { set $.pri = "11"; } else { set $.pri = "14"; }',
        // RFC 5424 allows at most 6 digits of a second; Docker writes up to 9.
        '    set $.timestamp = re_extract($!time, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\\\.[0-9]{1,6})?", 0, 0, "-") & "Z";',
        `    action(type="omfwd" name="forward" target="${literal(f.address, "forward.address")}" port="${f.port}" protocol="tcp" template="forward" TCP_Framing="octet-counted"`,
        `      StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/name" StreamDriverPermittedPeers="${literal(f.serverName, "forward.serverName")}"`,
        `      StreamDriver.CAFile="${literal(spec.paths?.caFile ?? LOG_COLLECTOR.caFile, "paths.caFile")}"`,
        // Disk-assisted: lines wait on disk while the receiver is down, and across a restart. When the
        // queue is full, new lines are dropped at once for the forward only (timeoutEnqueue 0), so the
        // store below never waits on the receiver.
        `      queue.type="LinkedList" queue.filename="forward" queue.maxDiskSpace="${LOG_COLLECTOR.queueMaxDiskMb}m" queue.saveOnShutdown="on" queue.timeoutEnqueue="0"`,
        '      action.resumeRetryCount="-1" action.resumeInterval="10")',
      ]
    : [];
  return [
    `# Log collector of ${spec.appId} (${spec.environment}): rendered by runbook-as-code, do not edit by hand.`,
    `global(workDirectory="${store}/.rsyslog" maxMessageSize="64k")`,
    'module(load="imfile" mode="inotify")',
    // Bounded: a new collector reading every container's backlog at once waits for the store instead
    // of holding it all in memory (imfile blocks while the queue is full).
    'main_queue(queue.size="10000")',
    'module(load="mmjsonparse")',
    "",
    'template(name="storeFile" type="list") {',
    `  constant(value="${store}/") property(name="$.service") constant(value="/") property(name="$!time" position.from="1" position.to="10") constant(value=".log")`,
    "}",
    'template(name="storeLine" type="list") {',
    '  property(name="$!time") constant(value=" ") property(name="$.container") constant(value=" ") property(name="$!stream") constant(value=" ")',
    '  property(name="$.line" controlcharacters="escape") constant(value="\\n")',
    "}",
    ...(f
      ? [
          'template(name="forward" type="list") {',
          `  constant(value="<") property(name="$.pri") constant(value=">1 ") property(name="$.timestamp") constant(value=" ${spec.appId}-${spec.environment} ")`,
          '  property(name="$.service") constant(value=" ") property(name="$.container") constant(value=" - - ") property(name="$.line" controlcharacters="escape")',
          "}",
        ]
      : []),
    "",
    // The tag of each input is `<service>/<container name>` (the deploy step writes them); `/` is 47.
    'ruleset(name="container") {',
    "  set $.service = field($syslogtag, 47, 1);",
    "  set $.container = field($syslogtag, 47, 2);",
    '  action(type="mmjsonparse" cookie="" useRawMsg="on")',
    // Docker writes the time; only a well-formed one names a file.
    '  if $parsesuccess == "OK" and re_match($!time, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}") then {',
    '    set $.line = replace($!log, "\\n", "");',
    '    action(type="omfile" name="store" dynaFile="storeFile" template="storeLine" dynaFileCacheSize="100" dirCreateMode="0750" fileCreateMode="0640")',
    ...forward,
    "  } else {",
    `    action(type="omfile" name="unparsed" file="${store}/unparsed.log" fileCreateMode="0640")`,
    "  }",
    "}",
    "",
    `include(file="${inputs}" mode="optional")`,
    "",
  ].join("\n");
}

/**
 * The collector's start command (the container's `sh -c`): rsyslog does not create its work directory,
 * and it refuses to start while its pid file names a live process. After a kill (an OOM kill), the
 * container restarts with its old filesystem, so `/run/rsyslogd.pid` still holds 1, which is the new
 * rsyslogd's own pid as PID 1: without the `rm`, it would refuse to start, over and over.
 */
export function renderCollectorStart(paths: { readonly store?: string; readonly configFile?: string; readonly pidFile?: string; readonly inputsFile?: string } = {}): string {
  const store = paths.store ?? LOG_COLLECTOR.store;
  const pid = paths.pidFile ?? LOG_COLLECTOR.pidFile;
  const inputs = shellQuote(paths.inputsFile ?? LOG_COLLECTOR.inputsFile);
  // Before rsyslogd runs (it rewrites them while running): the read positions (`imfile-state:<inode>:...`)
  // of files the list no longer follows (containers Docker removed) go, since the 30-day retention only
  // expires `*.log`. A followed file's position is kept, by its inode (`.1` after a rotation included).
  const prune = [
    "keep=' '",
    `if [ -f ${inputs} ]; then for p in $(sed -n 's/^input(type="imfile" file="\\([^"]*\\)".*/\\1/p' ${inputs}); do if i=$(stat -c %i "$p" 2>/dev/null); then keep="$keep$i "; fi; done; fi`,
    `for s in ${shellQuote(`${store}/.rsyslog`)}/imfile-state:*; do [ -e "$s" ] || continue; i=\${s##*/imfile-state:}; i=\${i%%:*}; case "$keep" in *" $i "*) ;; *) rm -f "$s" ;; esac; done`,
  ].join("; ");
  return `mkdir -p ${shellQuote(`${store}/.rsyslog`)} && rm -f ${shellQuote(pid)} && { ${prune}; } && exec rsyslogd -n -f ${shellQuote(paths.configFile ?? LOG_COLLECTOR.configFile)} -i ${shellQuote(pid)}`;
}

export interface InputsScriptSpec {
  readonly appId: string;
  readonly environment: string;
  /** The collector's container name (a Pulumi output, interpolated by the caller). */
  readonly collector: string;
  /** Overrides for tests: Docker's containers directory as the collector sees it, the files inside the collector. */
  readonly dockerContainers?: string;
  readonly inputsFile?: string;
  readonly configFile?: string;
}

/**
 * The deploy step: lists the app's containers on the host (by its labels, the outgoing release's
 * included), writes one imfile input per json-file log into the collector's list in the store, checks the result with
 * `rsyslogd -N1` (a refused file is put back as it was, and the step fails), and restarts the
 * collector so it reads the new list (it resumes each file from the position it saved on disk).
 */
export function renderInputsScript(spec: InputsScriptSpec): string {
  if (!NAME.test(spec.appId) || !NAME.test(spec.environment)) throw new Error("`appId` and `environment` must be lowercase letters, digits and '-'");
  const root = spec.dockerContainers ?? LOG_COLLECTOR.dockerContainers;
  const inputs = spec.inputsFile ?? LOG_COLLECTOR.inputsFile;
  const config = spec.configFile ?? LOG_COLLECTOR.configFile;
  // Runs inside the collector: the new list replaces the old one only if rsyslogd accepts it.
  const inner = [
    "set -eu",
    `f=${shellQuote(inputs)}`,
    'cat > "$f.next"',
    'if [ -f "$f" ]; then cp "$f" "$f.prev"; else : > "$f.prev"; fi',
    'mv "$f.next" "$f"',
    `if ! rsyslogd -N1 -f ${shellQuote(config)} >/dev/null 2>"$f.err"; then mv "$f.prev" "$f"; cat "$f.err" >&2; exit 1; fi`,
  ].join("; ");
  return `#!/bin/sh
# Log collector inputs of ${spec.appId} (${spec.environment}): rendered by runbook-as-code, do not edit by hand.
set -eu
collector=${shellQuote(spec.collector)}
root=${shellQuote(root)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
docker ps -aq --no-trunc --filter label=runbook.app=${spec.appId} --filter label=runbook.environment=${spec.environment} > "$work/ids"
while read -r id; do
  # A container removed since the listing is skipped.
  docker inspect --format '{{.Id}} {{.HostConfig.LogConfig.Type}} {{or (index .Config.Labels "runbook.service") "unlabelled"}} {{.Name}}' "$id" 2>/dev/null || true
done < "$work/ids" > "$work/found"
while read -r cid driver service name; do
  name=\${name#/}
  case "$cid" in *[!0-9a-f]* | "") continue ;; esac
  [ \${#cid} -eq 64 ] || continue
  [ "$service" = ${shellQuote(LOG_COLLECTOR.service)} ] && continue
  case "$service$name" in *[!A-Za-z0-9_.:-]*) echo "${spec.appId}: log collector: skipping container $cid: unexpected characters in its name or service label" >&2; continue ;; esac
  if [ "$driver" != json-file ]; then echo "${spec.appId}: log collector: $name logs with $driver, not json-file: not collected" >&2; continue; fi
  svc=$(printf '%s' "$service" | tr ':' '-')
  printf 'input(type="imfile" file="%s/%s/%s-json.log" tag="%s/%s" ruleset="container" persistStateAfterSubmission="on" reopenOnTruncate="on")\\n' "$root" "$cid" "$cid" "$svc" "$name"
done < "$work/found" > "$work/inputs.conf"
if [ ! -s "$work/inputs.conf" ]; then echo "${spec.appId}: log collector: no container of ${spec.appId} (${spec.environment}) logs with json-file on this host" >&2; exit 1; fi
docker exec -i "$collector" sh -c ${shellQuote(inner)} < "$work/inputs.conf"
docker restart -t 30 "$collector" > /dev/null
echo "${spec.appId}: log collector follows $(wc -l < "$work/inputs.conf") container log(s)"
`;
}
