/**
 * The deploy steps of monitoring, as POSIX sh rendered by pure functions:
 * - the Alertmanager config (it holds the receivers' secrets) arrives on stdin, is checked with
 *   amtool before it replaces the running one, and Alertmanager reloads it; a refused config leaves
 *   the running one in place and fails `pulumi up`. Nothing the script prints carries the config.
 * - Grafana's admin password arrives on stdin and is set with `grafana cli` (Grafana reads
 *   GF_SECURITY_ADMIN_PASSWORD only when it first creates its database, so a rotated password
 *   needs this step);
 * - the health-check tools: a static BusyBox copied into a volume, so exporters built FROM scratch
 *   (no shell, no wget) can still be probed by a health check.
 */
import { shellJoin, shellQuote } from "../shared/shell";

export interface AlertmanagerConfigScriptSpec {
  readonly app: string;
  /** Argv that runs a command in the Alertmanager container with stdin attached; empty to run here (tests). */
  readonly exec: readonly string[];
  /** The file Alertmanager was started with (`--config.file`). */
  readonly configPath: string;
  /** How to call amtool. */
  readonly amtool?: readonly string[];
  /** How to POST to a URL, quietly (`wget` in the container's BusyBox). */
  readonly post?: readonly string[];
  /** Alertmanager's reload endpoint. */
  readonly reloadUrl: string;
  /** User that must own the file (Alertmanager runs as `nobody`); left as is when undefined. */
  readonly owner?: string;
}

export function renderAlertmanagerConfigScript(spec: AlertmanagerConfigScriptSpec): string {
  if (!spec.configPath.startsWith("/")) throw new Error("`configPath` must be an absolute path");
  const next = shellQuote(`${spec.configPath}.next`);
  const post = spec.post ?? ["wget", "-q", "-O", "/dev/null", "--post-data", ""];
  const inner = [
    "set -eu",
    // The file holds secrets: readable by its owner only.
    "umask 077",
    `cat > ${next}`,
    `if ! ${shellJoin(spec.amtool ?? ["amtool"])} check-config ${next} >/dev/null 2>&1; then`,
    `  rm -f ${next}`,
    `  echo "alertmanager config: amtool refused the new config for ${spec.app}; the running config is unchanged" >&2`,
    "  exit 1",
    "fi",
    ...(spec.owner ? [`chown ${shellQuote(spec.owner)} ${next}`] : []),
    `mv ${next} ${shellQuote(spec.configPath)}`,
    `if ! ${shellJoin([...post, spec.reloadUrl])} >/dev/null 2>&1; then`,
    `  echo "alertmanager config: ${spec.app}'s Alertmanager did not reload the new config" >&2`,
    "  exit 1",
    "fi",
    `echo "alertmanager config: ${spec.app} reloaded with its receivers"`,
  ].join("\n");
  return [
    "#!/bin/sh",
    `# Alertmanager config for ${spec.app}: rendered by runbook-as-code, do not edit by hand. The config is on stdin.`,
    "set -eu",
    spec.exec.length > 0 ? `${shellJoin(spec.exec)} sh -c ${shellQuote(inner)}` : `sh -c ${shellQuote(inner)}`,
    "",
  ].join("\n");
}

/** Sets Grafana's admin password from stdin, in the running Grafana container. */
export function renderGrafanaPasswordScript(app: string, exec: readonly string[]): string {
  return [
    "#!/bin/sh",
    `# Grafana admin password for ${app}: rendered by runbook-as-code. The password is on stdin, never on a command line.`,
    "set -eu",
    `${shellJoin([...exec, "grafana", "cli", "admin", "reset-admin-password", "--password-from-stdin"])} >/dev/null`,
    `echo "grafana: admin password of ${app} set"`,
    "",
  ].join("\n");
}

/** Where exporters built FROM scratch find BusyBox for their health checks. */
export const TOOLS_PATH = "/healthcheck-tools";

/** Copies a static BusyBox from `image` into the tools volume (idempotent). */
export function renderToolsScript(volume: string, image: string): string {
  return [
    "#!/bin/sh",
    "# Health-check tools: rendered by runbook-as-code, do not edit by hand.",
    "set -eu",
    shellJoin(["docker", "run", "--rm", "--network", "none", "-v", `${volume}:${TOOLS_PATH}`, image, "cp", "/bin/busybox", `${TOOLS_PATH}/busybox`]),
    "",
  ].join("\n");
}
