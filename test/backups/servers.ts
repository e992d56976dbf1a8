/**
 * Real servers for the backup scripts, on 127.0.0.1: PostgreSQL 15 (Debian's postgresql package, run
 * as the postgres user) and a local S3 API (s3rver, from npm). Each is stopped by the test that
 * started it, and every wait is bounded. The scripts are rendered into a directory with a jobs.env,
 * as the host install step lays them out, and run with `sh`.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { renderBackupScript } from "../../components/backups/backupScript";
import { renderPruneScript } from "../../components/backups/pruneScript";
import { renderRestoreScript } from "../../components/backups/restoreScript";
import type { ScriptSpec } from "../../components/backups/scriptCommon";
import { renderVerifyScript } from "../../components/backups/verifyScript";
import { renderJobConfig } from "../../components/backups/jobConfig";
import { ROOT } from "../helpers";
import { freePort, tempDir } from "../tools/realTools";

const PG_BIN = "/usr/lib/postgresql/15/bin";
export const AWS = "/usr/bin/aws";

function bounded<T>(what: string, ms: number, poll: () => T | undefined): Promise<T> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => {
      const v = poll();
      if (v !== undefined) return resolve(v);
      if (Date.now() > deadline) return reject(new Error(`${what} did not happen within ${ms / 1000} s`));
      setTimeout(tick, 100);
    };
    tick();
  });
}

export interface Postgres {
  readonly port: number;
  readonly env: NodeJS.ProcessEnv;
  /** psql as the superuser, on a database; returns stdout. */
  psql(database: string, sql: string): string;
  stop(): void;
}

/**
 * A PostgreSQL 15 server of its own, on 127.0.0.1, trusting local connections. With `hostAuth:
 * "scram-sha-256"`, TCP connections need a password (as in the postgres image) and `psql`/`env` use
 * the server's socket directory as the superuser instead.
 */
export async function startPostgres(options: { readonly hostAuth?: "trust" | "scram-sha-256" } = {}): Promise<Postgres> {
  if (!fs.existsSync(`${PG_BIN}/initdb`)) throw new Error("PostgreSQL 15 is not installed: apt-get install postgresql (bash .ci/run does)");
  const dir = tempDir("pg");
  fs.chmodSync(dir, 0o777);
  const data = path.join(dir, "data");
  const asPostgres = (args: string[]) => spawnSync("runuser", ["-u", "postgres", "--", ...args], { encoding: "utf8" });
  const auth = options.hostAuth === "scram-sha-256" ? ["--auth-local=trust", "--auth-host=scram-sha-256"] : ["-A", "trust"];
  const init = asPostgres([`${PG_BIN}/initdb`, "-D", data, ...auth, "-U", "postgres", "--no-sync"]);
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const start = asPostgres([`${PG_BIN}/pg_ctl`, "-D", data, "-l", path.join(dir, "log"), "-w", "-t", "30", "-o", `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off`, "start"]);
  if (start.status !== 0) throw new Error(`pg_ctl start failed: ${start.stderr}${fs.readFileSync(path.join(dir, "log"), "utf8")}`);
  const env = { ...process.env, PGHOST: options.hostAuth === "scram-sha-256" ? dir : "127.0.0.1", PGPORT: String(port), PGUSER: "postgres" };
  return {
    port,
    env,
    psql(database, sql) {
      const res = spawnSync("psql", ["-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", database], { input: sql, encoding: "utf8", env, maxBuffer: 256 * 1024 * 1024 });
      if (res.status !== 0) throw new Error(`psql failed: ${res.stderr}`);
      return res.stdout;
    },
    stop() {
      asPostgres([`${PG_BIN}/pg_ctl`, "-D", data, "-m", "immediate", "-w", "-t", "30", "stop"]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface S3Server {
  readonly endpoint: string;
  readonly bucket: string;
  /** The aws CLI against this server; returns the result. */
  aws(args: string[]): { status: number | null; stdout: string; stderr: string };
  stop(): Promise<void>;
}

export const S3_ENV = { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_DEFAULT_REGION: "eu-west-1", AWS_EC2_METADATA_DISABLED: "true" };

/** s3rver on 127.0.0.1 with one bucket. */
export async function startS3(bucket = "backups"): Promise<S3Server> {
  if (!fs.existsSync(AWS)) throw new Error("the aws CLI is not installed at /usr/bin/aws: apt-get install awscli (bash .ci/run does)");
  const dir = tempDir("s3");
  const port = await freePort();
  const proc: ChildProcess = spawn(path.join(ROOT, "node_modules/.bin/s3rver"), ["-d", dir, "-a", "127.0.0.1", "-p", String(port), "--configure-bucket", bucket, "--silent"], { stdio: "ignore" });
  const endpoint = `http://127.0.0.1:${port}`;
  const aws = (args: string[]) => {
    const res = spawnSync(AWS, ["--endpoint-url", endpoint, ...args], { encoding: "utf8", env: { ...process.env, ...S3_ENV } });
    return { status: res.status, stdout: res.stdout, stderr: res.stderr };
  };
  await bounded("s3rver answering", 15_000, () => (aws(["s3", "ls", `s3://${bucket}/`]).status === 0 ? true : undefined));
  return {
    endpoint,
    bucket,
    aws,
    stop: () =>
      new Promise<void>((resolve) => {
        const done = () => {
          fs.rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (proc.exitCode !== null) return done();
        proc.once("exit", done);
        proc.kill("SIGTERM");
      }),
  };
}

export interface Jobs {
  readonly dir: string;
  readonly localDir: string;
  readonly metricsDir: string;
  /** The jobs' database lock directory (RUNBOOK_LOCK_DIR), the test's own rather than /run/runbook. */
  readonly lockDir: string;
  /** The environment the scripts run in (test S3 credentials, config dir, lock dir, this host's id), plus `extra`. */
  environment(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** Runs one of the scripts with arguments; env adds to the jobs' environment. */
  run(script: "backup" | "verify" | "restore" | "prune", args?: string[], env?: NodeJS.ProcessEnv): { status: number | null; stdout: string; stderr: string; seconds: number };
  metrics(): string;
  /** The environment that runs the scripts with these settings changed (a jobs.env of its own). */
  withSettings(overrides: Record<string, string>): NodeJS.ProcessEnv;
}

/** The app's four scripts and its jobs.env in a directory of their own, pointed at the test servers. */
export function installJobs(spec: ScriptSpec, s3: S3Server, settings: Record<string, string>, env: NodeJS.ProcessEnv = process.env): Jobs {
  const dir = tempDir(`jobs-${spec.appId}`);
  const localDir = path.join(dir, "local");
  const metricsDir = path.join(dir, "textfile");
  const lockDir = path.join(dir, "lock");
  const renderers = { backup: renderBackupScript, verify: renderVerifyScript, restore: renderRestoreScript, prune: renderPruneScript };
  for (const [name, render] of Object.entries(renderers)) fs.writeFileSync(path.join(dir, `${name}.sh`), render(spec), { mode: 0o755 });
  const all = { BUCKET: s3.bucket, PREFIX: spec.appId, LOCAL_DIR: localDir, METRICS_DIR: metricsDir, S3_ENDPOINT: s3.endpoint, AWS_CLI: AWS, DOCKER: "0", ...settings };
  fs.writeFileSync(path.join(dir, "jobs.env"), renderJobConfig(all));
  const environment = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ ...env, ...S3_ENV, BACKUP_CONFIG_DIR: dir, RUNBOOK_LOCK_DIR: lockDir, RUNBOOK_HOST_ID: "test-host", ...extra });
  return {
    dir,
    localDir,
    metricsDir,
    lockDir,
    environment,
    run(script, args = [], extra = {}) {
      const t0 = process.hrtime.bigint();
      const res = spawnSync("sh", [path.join(dir, `${script}.sh`), ...args], {
        encoding: "utf8",
        env: environment(extra),
        timeout: 300_000,
        maxBuffer: 64 * 1024 * 1024,
      });
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      return { status: res.status, stdout: res.stdout, stderr: res.stderr, seconds };
    },
    metrics: () => fs.readFileSync(path.join(metricsDir, `runbook_backup_${spec.appId}.prom`), "utf8"),
    withSettings(overrides) {
      const other = tempDir(`jobs-${spec.appId}-config`);
      fs.writeFileSync(path.join(other, "jobs.env"), renderJobConfig({ ...all, ...overrides }));
      return { BACKUP_CONFIG_DIR: other };
    },
  };
}

/** The value of one metric sample in a textfile, by name and kind. */
export function metricValue(text: string, name: string, app: string, kind: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{app="${app}",kind="${kind}"} `));
  return line === undefined ? undefined : Number(line.split(" ").pop());
}
