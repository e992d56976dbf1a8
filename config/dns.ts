/**
 * Config of DNS: `apps.<id>.dns`, an A record in a Route 53 hosted zone that points the app's name at
 * its host's public address (the elastic IP of a host the stack creates, or the address of an existing
 * host). A recovery stack with the same setting points the name at the new host (runbooks' Disaster
 * Recovery, "DNS update"). Pure: no Pulumi runtime.
 */
import { z } from "zod";
import type { RawProblem } from "./schema";
import type { DnsSpec } from "./spec";

/** Every default of this area, in one place. */
export const DNS_DEFAULTS = {
  /** Short, so a recovery's change of address reaches resolvers within a minute. */
  ttl: 60,
  /** A record someone else made (another stack, by hand) is not taken over unless a stack says so. */
  allowOverwrite: false,
} as const;

/** A dotted IPv4 address. */
export const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
/** A DNS name: labels of letters, digits and '-', dot-separated, at most 253 characters. */
export const NAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

const dns = z.strictObject({
  zoneId: z
    .string({ error: "must be a Route 53 hosted zone id string" })
    .regex(/^Z[A-Z0-9]{1,31}$/, { error: "must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ (from your AWS account; the program looks nothing up)" }),
  name: z.string({ error: "must be a host name string" }).regex(NAME, { error: "must be a DNS host name such as app.example.com (no scheme, port or path)" }).optional(),
  ttl: z.number({ error: "must be a number of seconds" }).int({ error: "must be a whole number of seconds" }).min(1, { error: "must be at least 1 second" }).max(172_800, { error: "must be at most 172800 seconds (two days)" }).optional(),
  address: z.string({ error: "must be an IPv4 address string" }).regex(IPV4, { error: "must be an IPv4 address such as 198.51.100.7" }).optional(),
  allowOverwrite: z.boolean({ error: "must be true or false" }).optional(),
});

/** The keys this area adds to `apps.<id>` (spread into the app schema in config/schema.ts). */
export const dnsKeys = { dns: dns.optional() };

type Raw = Record<string, unknown>;
const isObject = (v: unknown): v is Raw => v !== null && typeof v === "object" && !Array.isArray(v);

/** The IPv4 address in an `ssh://user@host[:port]` URL, when its host is one. */
function sshAddress(host: unknown): string | undefined {
  if (typeof host !== "string" || !host.startsWith("ssh://")) return undefined;
  try {
    const name = new URL(host).hostname;
    return IPV4.test(name) ? name : undefined;
  } catch {
    return undefined;
  }
}

/** What the schema cannot see: a name to use, and an address for a host the stack does not create. */
export function dnsProblems(raw: unknown, defaultHost: string): RawProblem[] {
  const problems: RawProblem[] = [];
  const apps = isObject(raw) && isObject(raw["apps"]) ? raw["apps"] : {};
  for (const [appId, app] of Object.entries(apps)) {
    if (!isObject(app) || !isObject(app["dns"])) continue;
    const d = app["dns"];
    const at = (key: string) => ["apps", appId, "dns", key];
    if (d["name"] === undefined && app["domain"] === undefined) add(at("name"), `is required: apps.${appId}.domain is not set, and the record needs a name`);
    const created = app["aws"] !== undefined;
    const host = app["host"] ?? defaultHost;
    if (created && d["address"] !== undefined) add(at("address"), "must not be set: the record points at the elastic IP of the host the stack creates");
    if (!created && d["address"] === undefined && sshAddress(host) === undefined) {
      add(at("address"), `is required: the app's host (${String(host)}) is not an IPv4 address, and an A record needs the host's public IPv4 address`);
    }
  }
  return problems;

  function add(path: PropertyKey[], message: string) {
    problems.push({ path, message });
  }
}

/** The app's record, when `apps.<id>.dns` is set; `address` is absent for a host the stack creates (its elastic IP). */
export function resolveDns(app: Raw, domain: string | undefined, defaultHost: string): { dns?: DnsSpec } {
  if (!isObject(app["dns"])) return {};
  const d = app["dns"] as z.infer<typeof dns>;
  const address = app["aws"] !== undefined ? undefined : (d.address ?? sshAddress(app["host"] ?? defaultHost));
  return {
    dns: {
      zoneId: d.zoneId,
      name: d.name ?? domain!,
      ttl: d.ttl ?? DNS_DEFAULTS.ttl,
      allowOverwrite: d.allowOverwrite ?? DNS_DEFAULTS.allowOverwrite,
      ...(address !== undefined && { address }),
    },
  };
}
