/**
 * `npm run bench`: the offline plan's wall time for the prod stack beside the floor (node just
 * loading the Pulumi SDKs the program uses), and their ratio. Figures, not assertions.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
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
/**
 * Backups: the backup and restore scripts (test/backups) on a generated PostgreSQL database of
 * BENCH_BACKUP_ROWS rows (1,000,000 by default, about 180 MB on disk), beside pg_dump and
 * pg_restore run directly on the same data: the floor, without manifest, row counts and upload.
 */
async function backupBench(): Promise<void> {
  const { installJobs, startPostgres, startS3 } = await import("../test/backups/servers");
  const rows = Number(process.env["BENCH_BACKUP_ROWS"] ?? 1_000_000);
  const [pg, s3] = await Promise.all([startPostgres(), startS3()]);
  try {
    pg.psql("postgres", "CREATE DATABASE bench");
    pg.psql("bench", `CREATE TABLE events (id bigserial PRIMARY KEY, user_id int, kind text, payload text, at timestamptz DEFAULT now());
      INSERT INTO events (user_id, kind, payload) SELECT g % 5000, 'kind-' || (g % 17), md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text) FROM generate_series(1, ${rows}) g;
      CREATE TABLE users (id int PRIMARY KEY, email text); INSERT INTO users SELECT g, 'u' || g || '@example.com' FROM generate_series(1, 5000) g;`);
    const mb = Number(pg.psql("bench", "SELECT pg_database_size('bench')")) / 1e6;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-backup-"));
    const timed = (argv: string[]) => {
      const t0 = performance.now();
      const res = spawnSync(argv[0]!, argv.slice(1), { env: pg.env, encoding: "utf8" });
      if (res.status !== 0) throw new Error(`${argv.join(" ")}: ${res.stderr}`);
      return (performance.now() - t0) / 1000;
    };
    const dump = timed(["pg_dump", "--format=custom", "-d", "bench", "-f", path.join(dir, "floor.dump")]);
    pg.psql("postgres", "CREATE DATABASE floor");
    const restoreFloor = timed(["pg_restore", "--no-owner", "--single-transaction", "-d", "floor", path.join(dir, "floor.dump")]);
    const jobs = installJobs({ appId: "bench", engine: "postgres", uploads: false, configDir: "/etc/runbook-backup/bench" }, s3, { PG_DATABASE: "bench", PG_USER: "postgres" }, pg.env);
    const backup = jobs.run("backup", ["--reason", "manual"]);
    if (backup.status !== 0) throw new Error(`backup.sh: ${backup.stderr}`);
    pg.psql("postgres", "DROP DATABASE bench");
    pg.psql("postgres", "CREATE DATABASE bench");
    const restore = jobs.run("restore", ["--latest"]);
    if (restore.status !== 0) throw new Error(`restore.sh: ${restore.stderr}`);
    const line = (label: string, seconds: number) => console.log(`${label.padEnd(52)} ${seconds.toFixed(1).padStart(6)} s   ${(mb / seconds).toFixed(1).padStart(6)} MB/s`);
    console.log(`backups of a generated PostgreSQL database: ${rows} + 5000 rows, ${mb.toFixed(0)} MB`);
    line("floor: pg_dump --format=custom", dump);
    line("backup.sh (dump, row counts, manifest, upload)", backup.seconds);
    line("floor: pg_restore --single-transaction", restoreFloor);
    line("restore.sh (download, checksums, restore, counts)", restore.seconds);
    console.log(`ratio backup / pg_dump: ${(backup.seconds / dump).toFixed(2)}x   restore / pg_restore: ${(restore.seconds / restoreFloor).toFixed(2)}x`);
    fs.rmSync(dir, { recursive: true, force: true });
  } finally {
    pg.stop();
    await s3.stop();
  }
}

inProcess().then(backupBench).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
