/**
 * A recording `docker` stand-in for the maintenance and diagnostics scripts: put first on PATH, it
 * answers the docker CLI calls those scripts make from a JSON fixture, records every call, and runs
 * `docker exec <container> <cmd...>` as `<cmd...>` here (with the fixture's environment), so a script's
 * psql or sqlite3 reaches the test's real server or file unchanged.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export interface StandInContainer {
  readonly id: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Image reference and id. */
  readonly image: string;
  readonly imageId: string;
  /** Destination -> host source of its mounts. */
  readonly mounts?: Readonly<Record<string, string>>;
  /** `State.Status`, health and the Config.Env lines. */
  readonly status?: string;
  readonly health?: string;
  readonly env?: readonly string[];
  readonly logs?: string;
  /** Its log driver (`docker inspect` `.HostConfig.LogConfig.Type`); json-file when absent. */
  readonly logDriver?: string;
}

export interface StandInFixture {
  readonly containers: readonly StandInContainer[];
  /** `repo:tag` -> { id, created (RFC 3339) }. */
  readonly images?: Readonly<Record<string, { readonly id: string; readonly created: string }>>;
  /** Dangling volumes: name -> runbook.app label ("" for none). */
  readonly danglingVolumes?: Readonly<Record<string, string>>;
  /** Environment of commands run by `docker exec`. */
  readonly execEnv?: Readonly<Record<string, string>>;
}

const SCRIPT = String.raw`#!/usr/bin/env node
const fs = require("node:fs");
const { spawnSync } = require("node:child_process");
const fx = JSON.parse(fs.readFileSync(process.env.DOCKER_STANDIN_FIXTURE, "utf8"));
const args = process.argv.slice(2);
fs.appendFileSync(process.env.DOCKER_STANDIN_LOG, JSON.stringify(args) + "\n");
const out = (lines) => { if (lines.length) process.stdout.write(lines.join("\n") + "\n"); };
const byRef = (ref) => fx.containers.find((c) => c.id === ref || c.name === ref);
const option = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const filters = () => args.flatMap((a, i) => (args[i - 1] === "--filter" ? [a] : []));
const matches = (c) => filters().every((f) => { const m = /^label=([^=]+)(?:=(.*))?$/.exec(f); return m ? (m[2] === undefined ? m[1] in c.labels : c.labels[m[1]] === m[2]) : true; });
const cmd = args[0];
if (cmd === "ps") {
  const cs = fx.containers.filter(matches);
  const format = option("--format");
  if (args.includes("-q") || args.includes("-aq")) out(cs.map((c) => c.id));
  else if (format === "{{.Image}}") out(cs.map((c) => c.image));
  else if (format === "{{.Names}}") out(cs.map((c) => c.name));
  else out(["NAMES IMAGE STATUS", ...cs.map((c) => c.name + " " + c.image + " " + (c.status || "running") + " (" + (c.health || "healthy") + ")")]);
} else if (cmd === "inspect" && (option("--format") || "").includes(".HostConfig.LogConfig.Type")) {
  // The log collector's inputs step: id, log driver, service label, name.
  const c = byRef(args[args.length - 1]);
  if (!c) { process.stderr.write("Error: No such object\n"); process.exit(1); }
  out([c.id + " " + (c.logDriver || "json-file") + " " + (c.labels["runbook.service"] || "unlabelled") + " /" + c.name]);
} else if (cmd === "pause" || cmd === "unpause") {
  // Recorded: the test reads the order of the calls.
} else if (cmd === "restart") {
  // Recorded: the test restarts what stands for the container.
} else if (cmd === "inspect") {
  const format = option("-f") || option("--format") || "";
  const c = byRef(args[args.length - 1]);
  if (!c) { process.stderr.write("Error: No such object\n"); process.exit(1); }
  if (format.includes(".Mounts")) { const dest = /eq \.Destination "([^"]+)"/.exec(format)[1]; out([(c.mounts || {})[dest] || ""]); }
  else if (format === "{{.Image}}") out([c.imageId]);
  else if (format.includes(".Config.Env")) out(c.env || []);
  else if (!format) out([JSON.stringify([{ Name: "/" + c.name, Config: { Env: c.env || [], Labels: c.labels }, State: { Status: c.status || "running" } }], null, 2)]);
  else out([c.name + " status=" + (c.status || "running") + " health=" + (c.health || "healthy") + " restarts=0 oom=false"]);
} else if (cmd === "exec") {
  let i = 1;
  while (args[i] && args[i].startsWith("-")) i++;
  const r = spawnSync(args[i + 1], args.slice(i + 2), { stdio: "inherit", env: { ...process.env, ...(fx.execEnv || {}) } });
  process.exit(r.status === null ? 1 : r.status);
} else if (cmd === "images") {
  const repo = args[1];
  out(Object.entries(fx.images || {}).filter(([ref]) => ref.startsWith(repo + ":")).map(([ref, i]) => ref + " " + i.id));
} else if (cmd === "image" && args[1] === "inspect") {
  out([(fx.images || {})[args[args.length - 1]].created]);
} else if (cmd === "rmi") {
  out(["Untagged: " + args[1]]);
} else if (cmd === "volume" && args[1] === "ls") {
  out(Object.keys(fx.danglingVolumes || {}));
} else if (cmd === "volume" && args[1] === "inspect") {
  out([(fx.danglingVolumes || {})[args[args.length - 1]] || "<no value>"]);
} else if (cmd === "volume" && args[1] === "rm") {
  out([args[2]]);
} else if (cmd === "cp") {
  const [src, dst] = args.slice(1);
  fs.copyFileSync(src.replace(/^[^:]+:/, ""), dst);
} else if (cmd === "logs") {
  const c = byRef(args[args.length - 1]);
  process.stdout.write((c && c.logs) || "");
} else if (cmd === "network" && args[1] === "ls") {
  out(["NETWORK ID NAME DRIVER SCOPE"]);
} else if (cmd === "system" && args[1] === "df") {
  out(["TYPE TOTAL ACTIVE SIZE RECLAIMABLE", "Images 4 3 1.2GB 300MB (25%)"]);
} else {
  process.stderr.write("docker stand-in: unexpected call " + args.join(" ") + "\n");
  process.exit(2);
}
`;

export interface DockerStandIn {
  /** PATH with the stand-in first. */
  readonly path: string;
  readonly env: Record<string, string>;
  /** Every call, as argv. */
  calls(): string[][];
}

export function dockerStandIn(dir: string, fixture: StandInFixture): DockerStandIn {
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(path.join(bin, "docker"), SCRIPT, { mode: 0o755 });
  const fixtureFile = path.join(dir, "docker-fixture.json");
  const log = path.join(dir, "docker-calls.log");
  fs.writeFileSync(fixtureFile, JSON.stringify(fixture));
  fs.writeFileSync(log, "");
  const PATH = `${bin}:${process.env["PATH"] ?? ""}`;
  return {
    path: PATH,
    env: { PATH, DOCKER_STANDIN_FIXTURE: fixtureFile, DOCKER_STANDIN_LOG: log },
    calls: () => fs.readFileSync(log, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as string[]),
  };
}
