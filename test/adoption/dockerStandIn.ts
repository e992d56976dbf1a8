/**
 * A recording stand-in for the `docker` CLI, put first on PATH: it keeps a table of containers in a
 * JSON file, answers `ps -q` with Docker's filter rules (filters of different keys AND, several
 * `volume=` filters OR; only running containers), `inspect --format` with the health status,
 * applies `update --restart=` and `stop`, and records every call.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { tempDir } from "../tools/realTools";

export interface StandInContainer {
  readonly id: string;
  readonly name: string;
  /** The com.docker.compose.project label, when compose made it. */
  readonly project?: string;
  readonly volumes: readonly string[];
  running: boolean;
  restart: string;
  health?: string;
  /** Ignores `docker stop` (a container that will not stop). */
  readonly stuck?: boolean;
}

const SCRIPT = `#!/usr/bin/env node
const fs = require("node:fs");
const state = process.env.STANDIN_STATE, log = process.env.STANDIN_LOG;
const argv = process.argv.slice(2);
fs.appendFileSync(log, JSON.stringify(argv) + "\\n");
const table = JSON.parse(fs.readFileSync(state, "utf8"));
const save = () => fs.writeFileSync(state, JSON.stringify(table));
const find = (ref) => table.find((c) => c.id === ref || c.name === ref);
const [cmd, ...rest] = argv;
if (cmd === "ps") {
  const filters = [];
  for (let i = 0; i < rest.length; i++) if (rest[i] === "--filter") filters.push(rest[++i]);
  const labels = filters.filter((f) => f.startsWith("label=")).map((f) => f.slice(6));
  const volumes = filters.filter((f) => f.startsWith("volume=")).map((f) => f.slice(7));
  const hit = table.filter((c) => c.running
    && labels.every((l) => l === "com.docker.compose.project=" + c.project)
    && (volumes.length === 0 || volumes.some((v) => c.volumes.includes(v))));
  for (const c of hit) console.log(c.id);
} else if (cmd === "update") {
  const policy = rest.find((a) => a.startsWith("--restart=")).slice(10);
  for (const id of rest.filter((a) => !a.startsWith("-"))) find(id).restart = policy;
  save();
} else if (cmd === "stop") {
  for (const id of rest.filter((a, i) => !a.startsWith("-") && rest[i - 1] !== "-t")) { const c = find(id); if (!c.stuck) c.running = false; }
  save();
} else if (cmd === "inspect") {
  const c = find(rest[rest.length - 1]);
  if (!c) { console.error("Error: No such object"); process.exit(1); }
  console.log(c.health || (c.running ? "running" : "exited"));
} else { console.error("stand-in: unknown command " + cmd); process.exit(2); }
`;

export interface StandInRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Every docker call, argv after `docker`. */
  readonly calls: readonly string[][];
  /** The containers as the script left them. */
  readonly containers: readonly StandInContainer[];
}

/** Runs a rendered script with `sh`, the stand-in first on PATH, over the given containers. */
export function runWithDockerStandIn(script: string, containers: readonly StandInContainer[]): StandInRun {
  const dir = tempDir("docker-standin");
  try {
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, "docker"), SCRIPT, { mode: 0o755 });
    const state = path.join(dir, "state.json");
    const log = path.join(dir, "calls.log");
    fs.writeFileSync(state, JSON.stringify(containers));
    fs.writeFileSync(log, "");
    fs.writeFileSync(path.join(dir, "script.sh"), script);
    // sleep stays real; the tests use a 0 s interval.
    const res = spawnSync("sh", [path.join(dir, "script.sh")], {
      encoding: "utf8",
      timeout: 30_000,
      env: { ...process.env, PATH: `${bin}:${process.env["PATH"] ?? "/usr/bin:/bin"}`, STANDIN_STATE: state, STANDIN_LOG: log },
    });
    const calls = fs.readFileSync(log, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as string[]);
    return { status: res.status, stdout: res.stdout, stderr: res.stderr, calls, containers: JSON.parse(fs.readFileSync(state, "utf8")) as StandInContainer[] };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
