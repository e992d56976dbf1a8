/**
 * How a command run from the operator's machine reaches the app's Docker host: exactly as the deploy
 * steps do (components/app/deployCommand.ts): over ssh to the host's user, port and address, accepting
 * only the pinned host key when the stack pins one (StrictHostKeyChecking=yes, a known_hosts holding
 * that key alone), or locally with DOCKER_HOST for the local socket. The script to run is stdin.
 * The evidence bundle's fetch script (components/firewall/evidence.ts) reads the same variables.
 */
import type { HostSpec } from "../../config/spec";
import { PINNED_SSH } from "../firewall/evidence";

/** The variables the run and fetch scripts read, for a host with a known address. */
export function hostEnvironment(appId: string, host: HostSpec, override: { sshHost?: string; hostKey?: string } = {}): Record<string, string> {
  if (host.kind === "local") {
    if (override.sshHost) throw new Error("`--ssh-host` applies to ssh hosts only; this app's host is the local Docker socket");
    return { RUNBOOK_APP: appId, DOCKER_HOST: host.dockerHost };
  }
  const address = override.sshHost ?? (host.kind === "ssh" && typeof host.host === "string" ? host.host : undefined);
  if (address === undefined) {
    throw new Error(`${appId}'s host is made by the stack: give its address and key with --ssh-host <address> --host-key '<type> <base64>' (pulumi stack output apps --show-secrets: hosting.host)`);
  }
  const key = override.hostKey ?? (host.kind === "ssh" && typeof host.hostKey === "string" ? host.hostKey : undefined);
  return { RUNBOOK_APP: appId, RUNBOOK_SSH_HOST: address, RUNBOOK_SSH_USER: host.user, RUNBOOK_SSH_PORT: String(host.port), ...(key !== undefined && { RUNBOOK_HOST_KEY: key }) };
}

/** Runs stdin on the host and passes its output and exit status through. */
export function renderHostRunScript(): string {
  return `#!/bin/sh
set -eu
if [ -n "\${RUNBOOK_SSH_HOST:-}" ]; then
${PINNED_SSH}
else
  sh -s
fi
`;
}
