/**
 * Network namespaces for a real packet-filtering test: a "host" with listeners and Docker's own
 * published-port rules, a "container" behind a Docker-style bridge interface, and a "client" with
 * several source addresses. Every address lives inside the test's namespaces; every connection
 * attempt is bounded. Needs root, iproute2 and iptables (CI runs as root and installs both).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { requireTool, tempDir } from "../tools/realTools";

export const ADDRESSES = {
  /** The host's own address (sshd, host listeners). */
  host: "10.99.0.1",
  /** The address Docker publishes container ports on (DNAT). */
  published: "10.99.0.10",
  container: "172.30.0.2",
  /** Client source addresses. */
  public: "10.99.0.2",
  admin: "10.99.0.66",
  blocked: "10.99.0.130",
} as const;
export const ADMIN_CIDR = "10.99.0.64/27";
export const BLOCKED_CIDR = "10.99.0.128/28";
/** Published container ports: host port -> container port (80 -> 8080, 443 -> 8443, 5432 -> 5432). */
export const PUBLISHED: Readonly<Record<number, number>> = { 80: 8080, 443: 8443, 5432: 5432 };
export const HOST_PORTS = [22, 80, 443, 5432];

const SERVER = `
const net = require("node:net");
const [address, ...ports] = process.argv.slice(2);
let ready = 0;
for (const port of ports) {
  net.createServer((s) => { s.on("error", () => {}); s.on("data", (d) => s.write(d)); s.write("ok\\n"); }).listen(Number(port), address, () => { if (++ready === ports.length) console.log("ready"); });
}
`;

const PROBE = `
const net = require("node:net");
const probes = JSON.parse(process.argv[2]);
const one = (p) => new Promise((resolve) => {
  const s = net.connect({ host: p.host, port: p.port, localAddress: p.from });
  const done = (open) => { s.destroy(); resolve(open); };
  s.setTimeout(${"${TIMEOUT}"}, () => done(false));
  s.on("data", () => done(true));
  s.on("error", () => done(false));
});
Promise.all(probes.map(one)).then((r) => console.log(JSON.stringify(r)));
`;

/** One connection held open from the client: `ping` sends a line and says whether it comes back in time. */
const HOLD = `
const net = require("node:net");
const readline = require("node:readline");
const [from, host, port, timeout] = process.argv.slice(2);
const s = net.connect({ host, port: Number(port), localAddress: from });
let waiting;
s.on("error", () => {});
s.once("data", () => {
  console.log("connected");
  s.on("data", (d) => { if (waiting && d.toString().includes("ping")) { clearTimeout(waiting); waiting = undefined; console.log("echo"); } });
});
readline.createInterface({ input: process.stdin }).on("line", () => {
  waiting = setTimeout(() => { waiting = undefined; console.log("silent"); }, Number(timeout));
  s.write("ping\\n");
});
`;

export interface HeldConnection {
  ping(): Promise<boolean>;
  close(): void;
}

export interface Probe {
  readonly from: string;
  readonly host: string;
  readonly port: number;
}

export class Namespaces {
  readonly names: { host: string; client: string; container: string };
  private readonly servers: ChildProcess[] = [];
  private readonly dir = tempDir("netns");
  private readonly ip = requireTool("ip");

  constructor(readonly probeTimeoutMs = 700) {
    const tag = `rbfw${process.pid}`;
    this.names = { host: `${tag}h`, client: `${tag}c`, container: `${tag}k` };
  }

  run(argv: readonly string[], input?: string, env: Record<string, string> = {}): string {
    const res = spawnSync(argv[0]!, argv.slice(1), { input, encoding: "utf8", timeout: 30_000, env: { ...process.env, ...env } });
    if (res.status !== 0) throw new Error(`${argv.join(" ")} exited ${res.status}: ${res.stderr}${res.stdout}`);
    return res.stdout;
  }

  exec(ns: string, argv: readonly string[], input?: string, env: Record<string, string> = {}): string {
    return this.run([this.ip, "netns", "exec", ns, ...argv], input, env);
  }

  async setUp(): Promise<void> {
    const { host, client, container } = this.names;
    const ip = (...a: string[]) => this.run([this.ip, ...a]);
    for (const ns of [host, client, container]) ip("netns", "add", ns);
    ip("link", "add", `${host}-c`, "type", "veth", "peer", "name", `${client}-h`);
    ip("link", "set", `${host}-c`, "netns", host);
    ip("link", "set", `${client}-h`, "netns", client);
    // The container's link: named like a Docker bridge on the host side (br-...).
    ip("link", "add", "br-rbfw0", "netns", host, "type", "veth", "peer", "name", "eth0", "netns", container);
    ip("-n", host, "addr", "add", `${ADDRESSES.host}/24`, "dev", `${host}-c`);
    ip("-n", host, "addr", "add", `${ADDRESSES.published}/24`, "dev", `${host}-c`);
    ip("-n", host, "addr", "add", "172.30.0.1/24", "dev", "br-rbfw0");
    for (const a of [ADDRESSES.public, ADDRESSES.admin, ADDRESSES.blocked]) ip("-n", client, "addr", "add", `${a}/24`, "dev", `${client}-h`);
    ip("-n", container, "addr", "add", `${ADDRESSES.container}/24`, "dev", "eth0");
    for (const [ns, dev] of [[host, `${host}-c`], [host, "br-rbfw0"], [client, `${client}-h`], [container, "eth0"], [host, "lo"], [client, "lo"], [container, "lo"]] as const) {
      ip("-n", ns, "link", "set", dev, "up");
    }
    ip("-n", container, "route", "add", "default", "via", "172.30.0.1");
    this.exec(host, [requireTool("sh"), "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"]);
    this.dockerRules();
    await this.serve(host, ADDRESSES.host, HOST_PORTS);
    await this.serve(container, ADDRESSES.container, Object.values(PUBLISHED));
  }

  /** What Docker itself sets up for a container publishing ports (nat DOCKER chain, FORWARD DROP...). */
  private dockerRules(): void {
    const dnat = Object.entries(PUBLISHED).map(
      ([hostPort, port]) => `-A DOCKER -d ${ADDRESSES.published}/32 ! -i br-rbfw0 -p tcp -m tcp --dport ${hostPort} -j DNAT --to-destination ${ADDRESSES.container}:${port}`,
    );
    const accept = Object.values(PUBLISHED).map((port) => `-A DOCKER -d ${ADDRESSES.container}/32 ! -i br-rbfw0 -o br-rbfw0 -p tcp -m tcp --dport ${port} -j ACCEPT`);
    const rules = [
      "*nat", ":DOCKER - [0:0]", "-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER", "-A POSTROUTING -s 172.30.0.0/24 ! -o br-rbfw0 -j MASQUERADE", ...dnat, "COMMIT",
      "*filter", ":FORWARD DROP [0:0]", ":DOCKER - [0:0]", ":DOCKER-USER - [0:0]",
      "-A FORWARD -j DOCKER-USER", "-A FORWARD -o br-rbfw0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT", "-A FORWARD -o br-rbfw0 -j DOCKER",
      "-A FORWARD -i br-rbfw0 ! -o br-rbfw0 -j ACCEPT", "-A FORWARD -i br-rbfw0 -o br-rbfw0 -j ACCEPT", "-A DOCKER-USER -j RETURN", ...accept, "COMMIT", "",
    ].join("\n");
    this.exec(this.names.host, [requireTool("iptables-restore")], rules);
  }

  private async serve(ns: string, address: string, ports: readonly number[]): Promise<void> {
    const file = path.join(this.dir, "server.js");
    fs.writeFileSync(file, SERVER);
    const proc = spawn(this.ip, ["netns", "exec", ns, process.execPath, file, address, ...ports.map(String)], { stdio: ["ignore", "pipe", "pipe"] });
    this.servers.push(proc);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`listeners in ${ns} did not start within 10 s`)), 10_000);
      proc.stdout!.on("data", (c: Buffer) => {
        if (c.toString().includes("ready")) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once("exit", (code) => reject(new Error(`listeners in ${ns} exited ${code}`)));
    });
  }

  /** Which of `probes` connect (and get the listener's answer) from the client namespace. */
  probe(probes: readonly Probe[]): boolean[] {
    const file = path.join(this.dir, "probe.js");
    fs.writeFileSync(file, PROBE.replace("${TIMEOUT}", String(this.probeTimeoutMs)));
    return JSON.parse(this.exec(this.names.client, [process.execPath, file, JSON.stringify(probes)])) as boolean[];
  }

  /** Opens a connection from the client namespace and keeps it; resolves once the listener has answered. */
  async hold(probe: Probe): Promise<HeldConnection> {
    const file = path.join(this.dir, "hold.js");
    fs.writeFileSync(file, HOLD);
    const proc = spawn(this.ip, ["netns", "exec", this.names.client, process.execPath, file, probe.from, probe.host, String(probe.port), String(this.probeTimeoutMs)], { stdio: ["pipe", "pipe", "pipe"] });
    this.servers.push(proc);
    const lines: string[] = [];
    let notify: (() => void) | undefined;
    proc.stdout!.on("data", (c: Buffer) => {
      lines.push(...c.toString().split("\n").filter(Boolean));
      notify?.();
    });
    const next = (timeoutMs: number) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("the held connection said nothing in time")), timeoutMs);
        const check = () => {
          if (lines.length === 0) return;
          clearTimeout(timer);
          notify = undefined;
          resolve(lines.shift()!);
        };
        notify = check;
        check();
      });
    if ((await next(5000)) !== "connected") throw new Error("the held connection did not connect");
    return {
      ping: async () => {
        proc.stdin!.write("ping\n");
        return (await next(this.probeTimeoutMs + 3000)) === "echo";
      },
      close: () => proc.kill("SIGKILL"),
    };
  }

  /** `iptables-save` and `ip6tables-save` of the host, counters and timestamps left out. */
  ruleset(): string {
    const strip = (text: string) => text.split("\n").filter((l) => !l.startsWith("#")).map((l) => l.replace(/ \[\d+:\d+\]$/, "")).join("\n");
    return `${strip(this.exec(this.names.host, [requireTool("iptables-save")]))}\n${strip(this.exec(this.names.host, [requireTool("ip6tables-save")]))}`;
  }

  /** Stops the listeners and deletes the namespaces (their veths go with them). Never throws. */
  async tearDown(): Promise<void> {
    for (const s of this.servers) {
      if (s.exitCode === null) {
        const exited = new Promise((r) => s.once("exit", r));
        s.kill("SIGKILL");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
      }
    }
    for (const ns of Object.values(this.names)) spawnSync(this.ip, ["netns", "del", ns]);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Fails with what to install when the test cannot make namespaces here (never skips silently). */
export function requireNamespaceSupport(): void {
  if (process.getuid?.() !== 0) throw new Error("the packet-filtering test needs root (network namespaces and iptables); CI runs as root");
  for (const t of ["ip", "iptables", "iptables-restore", "iptables-save", "ip6tables-save", "sh"]) requireTool(t);
}
