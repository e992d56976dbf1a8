/**
 * renderProxyConfigScript: the deploy step that delivers a rendered nginx.conf to a running proxy
 * without recreating its container. The proxy publishes the host's ports, so a recreate would leave
 * no listener for the seconds nginx takes to start; a reload is graceful (old workers finish the
 * requests they hold, https://nginx.org/en/docs/control.html). The new config arrives on stdin,
 * is checked with `nginx -t` before it replaces the old one, and a refused config leaves the
 * running one untouched and fails `pulumi up`.
 *
 * `nginx -s reload` only signals the master and returns at once; until the old workers have
 * stopped, new connections may still reach them, and they still send to the old upstreams. So the
 * step returns only when every worker that ran before the reload has exited (bounded by the
 * proxy's read timeout): after it, nothing reaches the containers the new config no longer names,
 * and the engine may delete them.
 */
import { shellJoin, shellQuote } from "../shared/shell";

export interface ProxyConfigScriptSpec {
  readonly appName: string;
  /**
   * Argv that runs a command inside the proxy with stdin attached: `docker exec -i <container>` on a
   * Docker host; empty where nginx runs beside the script (the tests' nginx on 127.0.0.1).
   */
  readonly exec: readonly string[];
  /** Path of the config nginx was started with. */
  readonly configPath: string;
  /** How to call nginx: `["nginx"]` in the container; a binary and `-p <prefix>` in tests. */
  readonly nginx?: readonly string[];
  /** nginx's pid file (the config's `pid`): the master whose old workers the step waits for. */
  readonly pidFile?: string;
  /** Longest wait for the old workers, in seconds: the proxy's read timeout and a margin. */
  readonly drainSeconds?: number;
}

/** Workers of the nginx master: children of the pid in the pid file, read from /proc (no ps needed). */
const WORKERS = [
  "workers() {",
  "  for stat in /proc/[0-9]*/stat; do",
  "    [ -r \"$stat\" ] || continue",
  "    ppid=$(sed 's/^.*) [A-Za-z] \\([0-9]*\\).*$/\\1/' \"$stat\" 2>/dev/null) || continue",
  "    if [ \"$ppid\" = \"$master\" ]; then pid=${stat#/proc/}; echo \"${pid%/stat}\"; fi",
  "  done",
  "}",
];

export function renderProxyConfigScript(spec: ProxyConfigScriptSpec): string {
  if (!spec.configPath.startsWith("/")) throw new Error("`configPath` must be an absolute path");
  const nginx = shellJoin(spec.nginx ?? ["nginx"]);
  const config = shellQuote(spec.configPath);
  const next = shellQuote(`${spec.configPath}.next`);
  const drain = spec.drainSeconds ?? 65;
  if (!Number.isInteger(drain) || drain < 1) throw new Error("`drainSeconds` must be a whole number of at least 1");
  const inner = [
    "set -eu",
    ...WORKERS,
    `master=$(cat ${shellQuote(spec.pidFile ?? "/var/run/nginx.pid")})`,
    "old=$(workers)",
    `cat > ${next}`,
    `if ! ${nginx} -t -q -c ${next}; then`,
    `  rm -f ${next}`,
    `  echo "proxy config: nginx -t refused the new config for ${spec.appName}; the running config is unchanged" >&2`,
    "  exit 1",
    "fi",
    `mv ${next} ${config}`,
    `${nginx} -c ${config} -s reload`,
    // Wait until the workers of the old config are gone: 5 checks a second.
    "tries=0",
    "for pid in $old; do",
    `  while [ -d "/proc/$pid" ] && [ "$tries" -lt ${drain * 5} ]; do sleep 0.2; tries=$((tries + 1)); done`,
    "done",
    `if [ "$tries" -ge ${drain * 5} ]; then echo "proxy config: old nginx workers still finish requests after ${drain}s; continuing" >&2; fi`,
    `echo "proxy config: ${spec.appName} reloaded with the new config"`,
  ].join("\n");
  return [
    "#!/bin/sh",
    `# Proxy config for ${spec.appName}: rendered by runbook-as-code, do not edit by hand. The config is on stdin.`,
    "set -eu",
    spec.exec.length > 0 ? `${shellJoin(spec.exec)} sh -c ${shellQuote(inner)}` : `sh -c ${shellQuote(inner)}`,
    "",
  ].join("\n");
}
