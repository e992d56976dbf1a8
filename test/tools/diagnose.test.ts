/**
 * `npm run diagnose` end to end for every app of the prod stack, against stand-ins: `ssh` (records how
 * it is called and the known_hosts it is given, then runs the script here), `docker` (the recording
 * stand-in), `psql` and `nginx`; SQLite apps read a real database file. The report has every section,
 * counts problems, and never prints a secret: the containers' secret values appear in their logs and
 * environment, and the report shows `[redacted]` instead. With --evidence the incident bundle is
 * taken the lockdown's way (components/firewall/evidence.ts).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { renderDiagnoseScript } from "../../components/diagnostics/diagnoseScript";
import { renderHostRunScript } from "../../components/diagnostics/hostRun";
import type { AppSpec } from "../../config/spec";
import { diagnose, parseDiagnoseArgs } from "../../scripts/diagnose";
import { ROOT, stackSpec } from "../helpers";
import { dockerStandIn, type StandInContainer } from "./dockerStandIn";
import { requireTool, tempDir } from "./realTools";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const apps = stackSpec("prod").apps;
const appCases = apps.map((a) => [a.id, a] as const);
const SECRETS = { password: "Pa55-word-never-shown", jwt: "jwt-signing-key-never-shown", stripe: "sk_live_never_shown_42" };

function setUp(app: AppSpec, trouble: { unhealthy?: boolean; connections?: number; databaseDown?: boolean; auditDown?: boolean } = {}) {
  const dir = tempDir(`diagnose-${app.id}`);
  dirs.push(dir);
  const env = [`DATABASE_URL=postgresql://app:${SECRETS.password}@db:5432/app`, `JWT_SECRET=${SECRETS.jwt}`, `STRIPE_SECRET_KEY=${SECRETS.stripe}`, "NODE_ENV=production"];
  const logs = `started\nconnecting to postgresql://app:${SECRETS.password}@db:5432/app\nsigning with ${SECRETS.jwt}\n`;
  const db = app.database;
  let mounts: Record<string, string> | undefined;
  if (db.engine === "sqlite") {
    const mount = app.backend.volumes.find((v) => v.name === db.volume)!.mountPath;
    const file = path.join(dir, db.path.slice(mount.length + 1));
    spawnSync(requireTool("sqlite3"), [file, `${db.walMode ? "PRAGMA journal_mode=WAL;" : ""} CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1);`]);
    mounts = { [mount]: dir };
  }
  const container = (service: string, extra: Partial<StandInContainer> = {}): StandInContainer => ({
    id: `${service}-id`, name: `${app.id}-${service}-1a2b`, labels: { "runbook.app": app.id, "runbook.service": service }, image: `${service}:1`, imageId: `sha256:${service}`, env, logs, ...extra,
  });
  const docker = dockerStandIn(dir, {
    containers: [
      container("backend", { ...(mounts && { mounts }), ...(trouble.unhealthy && { health: "unhealthy" }) }),
      container("proxy"),
      ...(db.engine === "postgres" ? [container("database")] : []),
    ],
  });
  const bin = path.join(dir, "bin");
  fs.writeFileSync(path.join(bin, "ssh"), `#!/bin/sh\nprintf '%s\\n' "$@" > ${dir}/ssh.args\nfor a do case "$a" in UserKnownHostsFile=*) cp "\${a#UserKnownHostsFile=}" ${dir}/known_hosts;; esac; done\nexec sh -s\n`, { mode: 0o755 });
  fs.writeFileSync(path.join(bin, "psql"), `#!/bin/sh\ncase "$*" in *max_connections*) echo 100;; *pg_database_size*) echo '7453 kB';; *) echo ${trouble.connections ?? 12};; esac\n`, { mode: 0o755 });
  // The backend's python, for the runbook's own database check: it answers as the check prints, and an
  // error that quotes the connection string (the redaction must hide its password).
  const answer = trouble.databaseDown ? `Database: ERROR - (sqlite3.OperationalError) unable to open database file (postgresql://app:${SECRETS.password}@db)` : "Database: OK";
  // The LMS's failed-login query through Django's shell answers with the runbook's line (or a traceback).
  const logins = trouble.auditDown ? "django.db.utils.OperationalError: could not connect to server" : "Failed logins (24h): 7";
  fs.writeFileSync(path.join(bin, "python"), `#!/bin/sh\nprintf '%s\\n' "$@" > ${dir}/python.args\ncase "$*" in *AuditLog*) echo '${logins}';; *) echo '${answer}';; esac\n`, { mode: 0o755 });
  fs.writeFileSync(path.join(bin, "nginx"), "#!/bin/sh\necho 'nginx: the configuration file /etc/nginx/nginx.conf syntax is ok' >&2\n", { mode: 0o755 });
  return { dir, env: { ...process.env, ...docker.env, RUNBOOK_EVIDENCE_DIR: path.join(dir, "evidence") }, docker };
}

describe("diagnostics", () => {
  it.each(appCases)("%s: the rendered report script passes shellcheck", (_, app) => {
    for (const script of [renderDiagnoseScript(app), renderHostRunScript()]) {
      const res = spawnSync(requireTool("shellcheck"), ["--shell=sh", "--severity=style", "-"], { input: script, encoding: "utf8" });
      expect(res.stdout, app.id).toBe("");
    }
  });

  it.each(appCases)("%s: reports states, logs, disk, database and nginx -t over ssh with the pinned key, and never a secret", (_, app) => {
    const { dir, env } = setUp(app);
    const res = diagnose(["--stack", "prod", "--app", app.id], ROOT, env);
    const output = res.stdout + res.stderr;
    for (const secret of Object.values(SECRETS)) expect(output).not.toContain(secret);
    expect(output).toContain("connecting to [redacted]");
    expect(output).toContain("signing with [redacted]");
    for (const section of ["containers (state, health, restarts) ==", "recent logs (last 50 lines of 24h, secrets redacted) ==", "disk ==", `database (${app.database.engine}) ==`, "proxy (nginx -t) ==", "summary =="]) expect(res.stdout).toContain(`== ${section}`);
    expect(res.stdout).toContain(app.database.engine === "postgres" ? "connections: 12 of max_connections 100 (12%)" : "integrity_check: ok");
    // The database's size: PostgreSQL's own figure, or the SQLite file's size on disk (the last
    // connection closed, so no WAL holds pages apart from the file).
    const db = app.database;
    const size = db.engine === "postgres" ? "7453 kB" : `${fs.statSync(path.join(dir, db.path.slice(app.backend.volumes.find((v) => v.name === db.volume)!.mountPath.length + 1))).size} bytes`;
    expect(res.stdout).toContain(`database size: ${size}`);
    expect(res.stdout).toContain("syntax is ok");
    const args = fs.readFileSync(path.join(dir, "ssh.args"), "utf8").split("\n");
    expect(args).toContain("StrictHostKeyChecking=yes");
    expect(args).toContain(`deploy@${app.id === "handwork" ? "handwork-prod.example.com" : `${app.id}-prod.example.com`}`);
    const host = app.host as { host: string; hostKey: string };
    expect(fs.readFileSync(path.join(dir, "known_hosts"), "utf8")).toBe(`${host.host} ${host.hostKey}\n`);
    // The disk of the machine running the test decides its own line; everything else is healthy.
    const problems = res.stdout.split("\n").filter((l) => l.startsWith("PROBLEM:") && !l.includes("disk at"));
    expect(problems).toEqual([]);
  });

  it.each(appCases)("%s: an unhealthy backend (and, for PostgreSQL, connections at 90 percent) are problems, and the exit status says so", (_, app) => {
    const { env } = setUp(app, { unhealthy: true, connections: 90 });
    const res = diagnose(["--stack", "prod", "--app", app.id], ROOT, env);
    expect(res.status).toBe(1);
    expect(res.stdout).toContain(`PROBLEM: ${app.id}-backend-1a2b is not healthy`);
    if (app.database.engine === "postgres") expect(res.stdout).toContain("PROBLEM: database connections at 90% of max_connections (runbook: below 80%)");
  });

  it("handwork: runs the runbook's database check through the backend's own engine, and a failed one is a problem, its message redacted", () => {
    const app = apps.find((a) => a.id === "handwork")!;
    const ok = setUp(app);
    const healthy = diagnose(["--stack", "prod", "--app", "handwork"], ROOT, ok.env);
    expect(healthy.stdout).toContain("== database through the backend (runbook: Service Health Checks) ==\nDatabase: OK\n");
    // Inside the backend container, the runbook's check: the app's engine runs SELECT 1.
    const argv = fs.readFileSync(path.join(ok.dir, "python.args"), "utf8");
    expect(argv.startsWith("-c\nfrom app.database import engine\n")).toBe(true);
    expect(argv).toContain("exec_driver_sql('SELECT 1')");
    const down = setUp(app, { databaseDown: true });
    const res = diagnose(["--stack", "prod", "--app", "handwork"], ROOT, down.env);
    expect(res.status).toBe(1);
    expect(res.stdout).toContain("Database: ERROR - (sqlite3.OperationalError) unable to open database file (postgresql://[redacted]@db)");
    expect(res.stdout).toContain('PROBLEM: the backend\'s database check did not answer "Database: OK"');
    expect(res.stdout + res.stderr).not.toContain(SECRETS.password);
  });

  it("lms: counts the failed logins of the last 24 hours from the AuditLog through Django's shell (the runbook's query, its missing imports added); no answer is a problem", () => {
    const app = apps.find((a) => a.id === "lms")!;
    const ok = setUp(app);
    const res = diagnose(["--stack", "prod", "--app", "lms"], ROOT, ok.env);
    expect(res.stdout).toContain("== failed logins (runbook: Security Monitoring) ==\nFailed logins (24h): 7\n");
    expect(res.stdout).not.toContain("PROBLEM: the failed-login query");
    const argv = fs.readFileSync(path.join(ok.dir, "python.args"), "utf8").split("\n");
    expect(argv.slice(0, 3)).toEqual(["manage.py", "shell", "-c"]);
    expect(argv.slice(3).join("\n")).toMatch(/^from datetime import timedelta\nfrom django\.utils import timezone\nfrom content\.models import AuditLog\n.*action='LOGIN_FAILED', created_at__gte=timezone\.now\(\) - timedelta\(hours=24\)/);
    const down = setUp(app, { auditDown: true });
    const failed = diagnose(["--stack", "prod", "--app", "lms"], ROOT, down.env);
    expect(failed.status).toBe(1);
    expect(failed.stdout).toContain('PROBLEM: the failed-login query did not answer "Failed logins (24h): <count>"');
  });

  it("--evidence takes the incident bundle too: inspect with the environment redacted, logs, and its sha256", () => {
    const app = apps[0]!;
    const { dir, env } = setUp(app);
    const res = diagnose(["--stack", "prod", "--app", app.id, "--evidence"], ROOT, env);
    const line = /(\S+\.tar\.gz) sha256:([0-9a-f]{64})/.exec(res.stdout);
    expect(line, res.stderr).not.toBeNull();
    const out = path.join(dir, "bundle");
    fs.mkdirSync(out);
    expect(spawnSync("tar", ["-xzf", line![1]!, "-C", out]).status).toBe(0);
    const inspect = fs.readFileSync(path.join(out, "containers", `${app.id}-backend-1a2b.inspect.json`), "utf8");
    expect(inspect).toContain('"JWT_SECRET=[redacted]"');
    for (const secret of Object.values(SECRETS)) expect(inspect).not.toContain(secret);
    const listing = fs.readFileSync(path.join(out, "summary.txt"), "utf8");
    expect(listing).toContain(`app: ${app.id}`);
  });

  it("refuses unknown arguments and apps with the usage", () => {
    expect(() => parseDiagnoseArgs(["--stack", "prod"])).toThrow(/^usage: npm run diagnose -- --stack <name> --app <id>/);
    expect(diagnose(["--stack", "prod", "--app", "nope"], ROOT).stderr).toBe("stack prod has no app nope; it deploys fairlens, fdts, reference, lms, handwork\n");
  });
});
