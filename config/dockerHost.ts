/** The Docker host URL of an app (`apps.<id>.host`): which forms are accepted and why others are not. */

/** Why a Docker host URL is not acceptable, or undefined when it is. */
export function hostProblem(host: string): string | undefined {
  const usage = "must be unix:///path/to/docker.sock or ssh://user@host[:port]";
  let url: URL;
  try {
    url = new URL(host);
  } catch {
    return usage;
  }
  if (url.protocol === "unix:") {
    return url.pathname.startsWith("/") && url.pathname.length > 1 && !url.host ? undefined : usage;
  }
  if (url.protocol === "ssh:") {
    if (!url.username) return `${usage} (the ssh user is missing)`;
    if (!url.hostname) return usage;
    if (url.password) return "must not carry a password; use an ssh key in the agent";
    if (url.pathname && url.pathname !== "/" && url.pathname !== "") return `${usage} (no path after the host)`;
    return undefined;
  }
  if (url.protocol === "tcp:" || url.protocol === "http:" || url.protocol === "https:") {
    return `${usage}; a TCP Docker socket is refused (it is root on the host without ssh's authentication)`;
  }
  return usage;
}
