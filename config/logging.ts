/**
 * Centralized logging (FDTS runbook "Log Management", line 177: "Centralized logging with ELK stack
 * or similar"; "Monitoring Setup", line 303): the stack setting `apps.<id>.logging` and how it
 * resolves. On by default: the app's log collector (components/logging) keeps every container's log
 * lines in one place on the host that outlives the containers (`docker rm` deletes a container's
 * json-file log, and every release replaces the backends), and, where `forward` is set, sends them
 * on to a central syslog receiver (Logstash's syslog input, a Graylog or rsyslog server) over TLS.
 */
import { z } from "zod";
import { IPV4, NAME as DNS_NAME } from "./dns";
import type { RawProblem } from "./schema";

export const LOGGING_DEFAULTS = {
  enabled: true,
  /** Syslog over TLS (RFC 5425). */
  forwardPort: 6514,
} as const;

const PEM_CERTIFICATE = /^\s*(-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\s*)+$/;

const dnsName = z.string({ error: "must be a DNS name string" }).regex(DNS_NAME, { error: "must be a DNS name such as logs.example.com" });

/** `apps.<id>.logging`: the shape; the rule between `address` and `serverName` is in loggingProblems. */
export const loggingSchema = z.strictObject({
  enabled: z.boolean({ error: "must be true or false" }).optional(),
  forward: z
    .strictObject({
      address: z
        .string({ error: "must be the receiver's DNS name or IPv4 address" })
        .refine((a) => DNS_NAME.test(a) || IPV4.test(a), { error: "must be the receiver's DNS name or IPv4 address (no scheme or port)" }),
      port: z.number({ error: "must be a port number from 1 to 65535" }).int({ error: "must be a port number from 1 to 65535" }).min(1).max(65535).optional(),
      caCertificate: z
        .string({ error: "must be the PEM certificate of the CA that signed the receiver's certificate" })
        .regex(PEM_CERTIFICATE, { error: "must be one or more PEM certificates (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)" }),
      serverName: dnsName.optional(),
    })
    .optional(),
});

export const loggingKeys = { logging: loggingSchema.optional() };

/** A central syslog receiver: TLS only, its certificate checked against the CA and the name. */
export interface LogForwardSpec {
  readonly address: string;
  readonly port: number;
  readonly caCertificate: string;
  /** The name the receiver's certificate must carry (subjectAltName or CN). */
  readonly serverName: string;
}

/** The log collector of one app; absent where `logging.enabled` is false. */
export interface LoggingSpec {
  readonly forward?: LogForwardSpec;
}

type Raw = Record<string, unknown>;
const isObject = (v: unknown): v is Raw => v !== null && typeof v === "object" && !Array.isArray(v);

/** A receiver given by IPv4 address needs the name its certificate carries; forwarding needs the collector on. */
export function loggingProblems(appId: string, app: unknown): RawProblem[] {
  const logging = isObject(app) ? app["logging"] : undefined;
  if (!isObject(logging) || !isObject(logging["forward"])) return [];
  const forward = logging["forward"];
  const at = (...rest: string[]) => ["apps", appId, "logging", ...rest];
  if (logging["enabled"] === false) return [{ path: at("forward"), message: "forwarding needs the log collector: remove `forward` or set `enabled: true`" }];
  if (typeof forward["address"] === "string" && IPV4.test(forward["address"]) && forward["serverName"] === undefined) {
    return [{ path: at("forward", "serverName"), message: "must be set when `address` is an IP address: the name the receiver's certificate carries, which the collector checks" }];
  }
  return [];
}

export function resolveLogging(logging: z.infer<typeof loggingSchema> | undefined): { logging?: LoggingSpec } {
  if (!(logging?.enabled ?? LOGGING_DEFAULTS.enabled)) return {};
  const f = logging?.forward;
  return {
    logging: {
      ...(f && {
        forward: { address: f.address, port: f.port ?? LOGGING_DEFAULTS.forwardPort, caCertificate: f.caCertificate.trim() + "\n", serverName: f.serverName ?? f.address },
      }),
    },
  };
}
