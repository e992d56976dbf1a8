/**
 * The scripts the hosts and firewall area ships, on real tools: shellcheck on every one, the
 * evidence bundle made by the collect script (against a stand-in docker CLI), and the Docker
 * provider's ssh options parsed by OpenSSH's own `ssh -G`.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { renderEvidenceCollectScript, renderEvidenceFetchScript } from "../../components/firewall/evidence";
import { renderHostFirewallApplyScript, renderHostFirewallInstallScript } from "../../components/firewall/hostFirewallRules";
import { renderHostSetupScript, HOST_READY_COMMAND } from "../../components/hosts/userData";
import { stackSpec } from "../helpers";
import { requireTool, tempDir } from "../tools/realTools";

const shellcheck = (script: string) => spawnSync(requireTool("shellcheck"), ["--shell=sh", "--severity=style", "-"], { input: script, encoding: "utf8" });

const dir = tempDir("evidence");
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("shellcheck on the hosts and firewall scripts", () => {
  const firewallSpecs = ["prod", "staging"].flatMap((stack) =>
    stackSpec(stack).apps.flatMap((app) => (app.firewall.kind === "host" ? [[`${stack}/${app.id}`, app.firewall] as const] : [])),
  );
  it.each(firewallSpecs)("%s: the host firewall install script, normal and in lockdown", (_name, fw) => {
    for (const lockdown of [false, true]) {
      const res = shellcheck(renderHostFirewallInstallScript({ publicPorts: fw.hostPorts, sshPort: fw.sshPort, adminCidrs: fw.adminCidrs, blockedCidrs: ["192.0.2.0/24"], lockdown }));
      expect(res.stdout).toBe("");
      expect(res.status).toBe(0);
    }
  });

  it.each([
    ["the host firewall apply script", renderHostFirewallApplyScript()],
    ["the instance setup script", renderHostSetupScript({ user: "deploy", dataVolumeId: "vol-0123456789abcdef0", dataDeviceName: "/dev/sdf", packages: ["docker.io", "curl", "sudo", "unattended-upgrades", "awscli", "openssl", "sqlite3", "certbot"] })],
    ["the readiness command", `#!/bin/sh\n${HOST_READY_COMMAND}\n`],
    ["the evidence collect script", renderEvidenceCollectScript("fdts")],
    ["the evidence fetch script", renderEvidenceFetchScript()],
  ])("%s", (_name, script) => {
    const res = shellcheck(script);
    expect(res.stdout).toBe("");
    expect(res.status).toBe(0);
  });
});

describe("the lockdown's evidence bundle", () => {
  /**
   * A docker CLI stand-in: two containers of the app, one of whose inspect output carries secrets in
   * Env; the backend's data mount is FAKE_MOUNT_SOURCE. sudo runs its command (the test may run as root or not).
   */
  function fakeDocker(bin: string): void {
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(
      path.join(bin, "docker"),
      `#!/bin/sh
case "$1" in
  ps) case "$*" in
        *runbook.role=backend*--format*) echo fdts-app-0-abc ;;
        *--format*) printf 'fdts-app-0-abc\\nfdts-proxy-def\\n' ;;
        *) echo "CONTAINER ID   NAMES" ;;
      esac ;;
  network|volume) echo "NAME" ;;
  inspect) if [ "$2" = "--format" ]; then [ "$4" = fdts-app-0-abc ] && echo "$FAKE_MOUNT_SOURCE"; else printf '[{"Name":"/%s","Config":{"Env":["JWT_SECRET=s3cr3t-value","PATH=/usr/bin"],"Labels":{"runbook.app":"fdts"}}}]\\n' "$2"; fi ;;
  logs) echo "2026-01-01T00:00:00Z log line of $3" ;;
  *) echo "unexpected docker $*" >&2; exit 1 ;;
esac
`,
      { mode: 0o755 },
    );
    fs.writeFileSync(path.join(bin, "sudo"), '#!/bin/sh\n[ "$1" = -n ] && shift\nexec "$@"\n', { mode: 0o755 });
  }

  /** FDTS's database file with an audit table: two rows older than the runbook's hour, three within it. */
  let databases = 0;
  function auditDatabase(): string {
    const data = path.join(dir, `volume-data-${++databases}`);
    fs.mkdirSync(data, { recursive: true });
    const sql = [
      "PRAGMA journal_mode=WAL;",
      "CREATE TABLE audit_logs (id INTEGER PRIMARY KEY, timestamp TEXT NOT NULL, action TEXT NOT NULL);",
      "INSERT INTO audit_logs (timestamp, action) VALUES (datetime('now', '-3 hours'), 'old-login'), (datetime('now', '-61 minutes'), 'old-export'),",
      "  (datetime('now', '-59 minutes'), 'login'), (datetime('now', '-10 minutes'), 'role-change'), (datetime('now'), 'token-refresh');",
    ].join("\n");
    const res = spawnSync(requireTool("sqlite3"), [path.join(data, "database.sqlite"), sql], { encoding: "utf8" });
    expect(res.status, res.stderr).toBe(0);
    return data;
  }

  /** Takes fdts's bundle against the docker stand-in, the backend's data mount at `mountSource`. */
  function takeBundle(out: string, mountSource: string) {
    const bin = path.join(dir, "bin");
    fakeDocker(bin);
    return spawnSync(requireTool("sh"), ["-c", renderEvidenceFetchScript()], {
      input: renderEvidenceCollectScript("fdts"),
      encoding: "utf8",
      timeout: 30_000,
      env: { PATH: `${bin}:${process.env["PATH"] ?? ""}`, RUNBOOK_APP: "fdts", RUNBOOK_EVIDENCE_DIR: out, FAKE_MOUNT_SOURCE: mountSource },
    });
  }

  it("bundles ps, inspect (environment values redacted) and logs of every container of the app, mode 600, with its sha256", () => {
    const out = path.join(dir, "out");
    const res = takeBundle(out, auditDatabase());
    expect(res.stderr).toBe("");
    expect(res.status).toBe(0);
    const [file, sha] = res.stdout.trim().split(" ");
    expect(file).toMatch(new RegExp(`^${out}/fdts-\\d{8}T\\d{6}Z\\.tar\\.gz$`));
    expect(sha).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(fs.statSync(file!).mode & 0o777).toBe(0o600);
    const list = spawnSync(requireTool("tar"), ["-tzf", file!], { encoding: "utf8" }).stdout.split("\n").filter(Boolean).sort();
    expect(list).toEqual(
      ["./", "./audit_logs.csv", "./containers/", "./containers/fdts-app-0-abc.inspect.json", "./containers/fdts-app-0-abc.log", "./containers/fdts-proxy-def.inspect.json", "./containers/fdts-proxy-def.log", "./names.txt", "./networks.txt", "./ps.txt", "./summary.txt", "./volumes.txt"].sort(),
    );
    const inspect = spawnSync(requireTool("tar"), ["-xzOf", file!, "./containers/fdts-app-0-abc.inspect.json"], { encoding: "utf8" }).stdout;
    expect(inspect).not.toContain("s3cr3t-value");
    expect(JSON.parse(inspect)).toEqual([{ Name: "/fdts-app-0-abc", Config: { Env: ["JWT_SECRET=[redacted]", "PATH=[redacted]"], Labels: { "runbook.app": "fdts" } } }]);
    const summary = spawnSync(requireTool("tar"), ["-xzOf", file!, "./summary.txt"], { encoding: "utf8" }).stdout;
    expect(summary).toContain("app: fdts");
    expect(summary).toContain("containers: 2");
  });

  it("fdts: copies the audit_logs rows of the last hour (the runbook's query), read-only, into the bundle", () => {
    const data = auditDatabase();
    const before = spawnSync(requireTool("sqlite3"), [path.join(data, "database.sqlite"), "SELECT count(*) FROM audit_logs;"], { encoding: "utf8" }).stdout;
    const res = takeBundle(path.join(dir, "out-audit"), data);
    expect(res.status, res.stderr).toBe(0);
    const file = res.stdout.trim().split(" ")[0]!;
    const csv = spawnSync(requireTool("tar"), ["-xzOf", file, "./audit_logs.csv"], { encoding: "utf8" }).stdout.trim().split("\n");
    expect(csv[0]).toBe("id,timestamp,action");
    expect(csv.slice(1).map((l) => l.split(",")[2])).toEqual(["login", "role-change", "token-refresh"]);
    expect(spawnSync(requireTool("sqlite3"), [path.join(data, "database.sqlite"), "SELECT count(*) FROM audit_logs;"], { encoding: "utf8" }).stdout).toBe(before);
  });

  it("fdts: still bundles the rest, naming the missing audit table's file in errors.txt, when no backend mounts one", () => {
    const res = takeBundle(path.join(dir, "out-no-audit"), path.join(dir, "no-such-volume"));
    expect(res.status, res.stderr).toBe(0);
    const file = res.stdout.trim().split(" ")[0]!;
    const errors = spawnSync(requireTool("tar"), ["-xzOf", file, "./errors.txt"], { encoding: "utf8" }).stdout;
    expect(errors).toBe("audit_logs: no database file found in a backend container's /app/data\n");
    expect(spawnSync(requireTool("tar"), ["-tzf", file], { encoding: "utf8" }).stdout).not.toContain("audit_logs.csv");
  });

  it("fails, and leaves no bundle claimed, when the host cannot be reached", () => {
    const res = spawnSync(requireTool("sh"), ["-c", renderEvidenceFetchScript()], {
      input: renderEvidenceCollectScript("fdts"),
      encoding: "utf8",
      timeout: 30_000,
      env: { PATH: process.env["PATH"] ?? "", RUNBOOK_APP: "fdts", RUNBOOK_EVIDENCE_DIR: path.join(dir, "none"), RUNBOOK_SSH_HOST: "127.0.0.1", RUNBOOK_SSH_USER: "nobody", RUNBOOK_SSH_PORT: "1", RUNBOOK_HOST_KEY: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJl0EPPx/2ItuwpX+EKsF0GxH/x7Z/+V3JRm7SEp89vD" },
    });
    expect(res.status).not.toBe(0);
    expect(res.stdout).not.toContain("sha256:");
  });
});

describe("the Docker provider's ssh options for a created host", () => {
  it("are accepted by OpenSSH: only the pinned key, through KnownHostsCommand, no known_hosts files", async () => {
    const { dockerSshKnownHostOpts, knownHostsCommand } = await import("../../components/hosts/host");
    const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJl0EPPx/2ItuwpX+EKsF0GxH/x7Z/+V3JRm7SEp89vD";
    const fixed = dockerSshKnownHostOpts(key).filter((o): o is string => typeof o === "string");
    expect(fixed).toEqual(["-o", "UserKnownHostsFile=/dev/null", "-o", "GlobalKnownHostsFile=/dev/null", "-o"]);
    const opts = [...fixed, knownHostsCommand(key)];
    const res = spawnSync(requireTool("ssh"), ["-G", "-o", "StrictHostKeyChecking=yes", ...opts, "deploy@198.51.100.7"], { encoding: "utf8" });
    expect(res.status, res.stderr).toBe(0);
    const config = res.stdout.split("\n");
    expect(config).toContain(`knownhostscommand /bin/echo %H ${key}`);
    expect(config).toContain("userknownhostsfile /dev/null");
    expect(config).toContain("globalknownhostsfile /dev/null");
    expect(config).toContain("stricthostkeychecking true");
  });
});
