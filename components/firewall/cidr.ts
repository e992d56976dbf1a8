/**
 * CIDR blocks, IPv4 and IPv6: parse, explain what is wrong with one, and tell whether two overlap.
 * Pure: the config schema, the security group rules and the host firewall renderer share it.
 */
import { isIPv4, isIPv6 } from "node:net";

export interface Cidr {
  readonly family: 4 | 6;
  /** The network address as an unsigned integer of 32 or 128 bits. */
  readonly network: bigint;
  readonly prefix: number;
  /** Canonical text: `203.0.113.0/24`, `2001:db8::/48`. */
  readonly text: string;
}

const BITS = { 4: 32, 6: 128 } as const;

function ipv4ToBigInt(address: string): bigint {
  return address.split(".").reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

function ipv6ToBigInt(address: string): bigint {
  let text = address;
  // An embedded IPv4 tail (::ffff:192.0.2.1) becomes two hextets.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = ipv4ToBigInt(v4[1]!);
    text = `${text.slice(0, -v4[1]!.length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const missing = 8 - left.length - right.length;
  const hextets = tail === undefined ? left : [...left, ...Array<string>(missing).fill("0"), ...right];
  return hextets.reduce((acc, h) => (acc << 16n) | BigInt(parseInt(h, 16)), 0n);
}

function bigIntToIpv4(n: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => ((n >> s) & 0xffn).toString()).join(".");
}

function bigIntToIpv6(n: bigint): string {
  const hextets = Array.from({ length: 8 }, (_, i) => ((n >> BigInt((7 - i) * 16)) & 0xffffn).toString(16));
  // The longest run of two or more zero hextets becomes "::" (RFC 5952).
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    if (hextets[i] !== "0") {
      i += 1;
      continue;
    }
    let j = i;
    while (j < 8 && hextets[j] === "0") j += 1;
    if (j - i > best.length && j - i > 1) best = { start: i, length: j - i };
    i = j;
  }
  if (best.start < 0) return hextets.join(":");
  return `${hextets.slice(0, best.start).join(":")}::${hextets.slice(best.start + best.length).join(":")}`;
}

const hostMask = (family: 4 | 6, prefix: number) => (1n << BigInt(BITS[family] - prefix)) - 1n;

/** Why `text` is not a CIDR block, or undefined when it is one. */
export function cidrProblem(text: string): string | undefined {
  const usage = "must be a CIDR block such as 203.0.113.0/24 or 2001:db8::/48";
  const m = /^([^/\s]+)\/(\d{1,3})$/.exec(text);
  if (!m) return usage;
  const [, address, prefixText] = m as unknown as [string, string, string];
  const family = isIPv4(address) ? 4 : isIPv6(address) && !address.includes("%") ? 6 : undefined;
  if (!family) return usage;
  if (family === 4 && address.split(".").some((o) => o.length > 1 && o.startsWith("0"))) return `${usage} (no leading zeros in an IPv4 address)`;
  const prefix = Number(prefixText);
  if (prefixText.length > 1 && prefixText.startsWith("0")) return usage;
  if (prefix > BITS[family]) return `${usage} (the prefix length of an IPv${family} block is at most ${BITS[family]})`;
  const n = family === 4 ? ipv4ToBigInt(address) : ipv6ToBigInt(address);
  if ((n & hostMask(family, prefix)) !== 0n) {
    const network = n & ~hostMask(family, prefix);
    return `has host bits set: the block is ${(family === 4 ? bigIntToIpv4 : bigIntToIpv6)(network)}/${prefix}`;
  }
  return undefined;
}

/** Parses a valid CIDR block (check it with `cidrProblem` first); throws on an invalid one. */
export function parseCidr(text: string): Cidr {
  const problem = cidrProblem(text);
  if (problem) throw new Error(`\`${text}\` ${problem}`);
  const [address, prefixText] = text.split("/") as [string, string];
  const family: 4 | 6 = isIPv4(address) ? 4 : 6;
  const network = family === 4 ? ipv4ToBigInt(address) : ipv6ToBigInt(address);
  const prefix = Number(prefixText);
  return { family, network, prefix, text: `${family === 4 ? bigIntToIpv4(network) : bigIntToIpv6(network)}/${prefix}` };
}

/** True when the two blocks share at least one address (one contains the other). */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const prefix = Math.min(a.prefix, b.prefix);
  const mask = ~hostMask(a.family, prefix);
  return (a.network & mask) === (b.network & mask);
}

/** The whole address space of a family: `0.0.0.0/0` or `::/0`. */
export const ANYWHERE = { 4: "0.0.0.0/0", 6: "::/0" } as const;

export const isAnywhere = (c: Cidr): boolean => c.prefix === 0;

/** Text of an address inside a block (for tests and messages): the network address plus `offset`. */
export function addressIn(c: Cidr, offset: bigint): string {
  const n = c.network + (offset & hostMask(c.family, c.prefix));
  return c.family === 4 ? bigIntToIpv4(n) : bigIntToIpv6(n);
}
