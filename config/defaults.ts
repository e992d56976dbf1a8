/**
 * Every default of the stack config, in one place. Secure by default: state protected in prod,
 * log rotation on, a request rate limit on, maintenance off, only ports 80/443 published.
 */
export const PROJECT = "runbook";

export const DEFAULTS = {
  /** The local Docker socket. */
  host: "unix:///var/run/docker.sock",
  /** Host name health probes send when a stack names no `domain`. */
  publicHost: "localhost",
  /** Docker's json-file log rotation (FairLens runbook: "Log rotation to prevent disk space issues"). */
  logRotation: { maxSize: "10m", maxFile: 3 },
  proxy: {
    image: "nginx",
    tag: "1.27.3-alpine",
    httpPort: 80,
    httpsPort: 443,
    maintenance: false,
    // Handwork runbook: "Enable rate limiting if under attack" - on from the start here.
    rateLimit: { requestsPerSecond: 10, burst: 20 },
    clientMaxBodyMb: 25,
    limits: { cpus: 0.5, memoryMb: 256 },
  },
  healthGate: { attempts: 30, intervalSeconds: 2 },
} as const;

/** Environments where state volumes are protected and `latest` image tags are refused. */
export const PROTECTED_ENVIRONMENTS: readonly string[] = ["prod"];
