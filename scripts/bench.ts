/**
 * `npm run bench`: the offline plan's wall time for the prod stack beside the floor (node just
 * loading the Pulumi SDKs the program uses), and their ratio. Figures, not assertions.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { performance } from "node:perf_hooks";

const ROOT = path.resolve(__dirname, "..");
const RUNS = Number(process.env["BENCH_RUNS"] ?? 5);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(label: string, args: string[]): number {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const res = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    samples.push(performance.now() - t0);
    if (res.status !== 0) throw new Error(`${label} exited ${res.status}: ${res.stderr}`);
  }
  const m = median(samples);
  console.log(`${label.padEnd(44)} median ${m.toFixed(0).padStart(6)} ms   (min ${Math.min(...samples).toFixed(0)}, max ${Math.max(...samples).toFixed(0)}, ${RUNS} runs)`);
  return m;
}

const sdks = ["@pulumi/pulumi", "@pulumi/docker", "@pulumi/command", "@pulumi/random", "@pulumi/aws/kms", "@pulumi/aws/secretsmanager"];
const floor = time("floor: node loads the Pulumi SDKs", ["-e", sdks.map((m) => `require(${JSON.stringify(m)});`).join("")]);
const plan = time("offline plan: --stack prod --json", ["--import", "tsx", "scripts/plan.ts", "--stack", "prod", "--json"]);
console.log(`ratio plan / floor: ${(plan / floor).toFixed(2)}x   (plan overhead ${(plan - floor).toFixed(0)} ms)`);

// In-process: the plan's own work once the modules are loaded, and its memory.
async function inProcess(): Promise<void> {
  process.setSourceMapsEnabled(false); // as scripts/plan.ts does
  const { parseStackConfig } = await import("../config/resolve");
  const { readStackFile } = await import("../config/sources");
  const { runUnderMocks } = await import("../plan/mockRuntime");
  const spec = parseStackConfig(readStackFile(path.join(ROOT, "Pulumi.prod.yaml"), "runbook"));
  const samples: number[] = [];
  let count = 0;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    count = (await runUnderMocks(spec, `bench-${i}`)).resources.length;
    samples.push(performance.now() - t0);
  }
  const rss = process.memoryUsage().rss / 1024 / 1024;
  console.log(`in-process plan of prod (${count} resources)       median ${median(samples).toFixed(0).padStart(6)} ms   rss ${rss.toFixed(0)} MiB`);
}
inProcess().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
