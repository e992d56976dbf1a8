/**
 * The `os-updates` job (FDTS "Weekly Maintenance": `apt update && apt upgrade -y`, and "apt list
 * --upgradable | grep -i security"), run by `sh` against a stand-in for apt-get that answers
 * `-s upgrade` in apt's own `Inst` lines and records every call: what it upgrades in each mode, that
 * the Docker engine is never among them, the metrics it leaves, and a failure that leaves them as
 * they were. Real apt never runs here (it would change this machine).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { maintenanceJobs } from "../../components/maintenance/jobs";
import { renderOsUpdatesScript, type OsUpdatesMode } from "../../components/maintenance/osUpdates";
import { PROJECT } from "../../config/defaults";
import { parseStackConfig } from "../../config/resolve";
import { problemsOf, rawStackConfig } from "../helpers";
import { requireTool, tempDir } from "../tools/realTools";

const dir = tempDir("os-updates");
/** Each run's state directory, removed with the suite's. */
const states: string[] = [];
afterAll(() => {
  for (const d of [dir, ...states]) fs.rmSync(d, { recursive: true, force: true });
});

/** apt's simulation lines, as Debian 12 prints them. */
const UPGRADABLE = [
  "Inst libssl3 [3.0.11-1~deb12u1] (3.0.11-1~deb12u2 Debian-Security:12/stable-security [amd64])",
  "Inst curl [7.88.1-10+deb12u4] (7.88.1-10+deb12u5 Debian:12.5/stable [amd64])",
  "Inst docker.io [20.10.24+dfsg1-1+b3] (20.10.24+dfsg1-1+deb12u1 Debian-Security:12/stable-security [amd64])",
  "Inst containerd [1.6.20~ds1-1+b1] (1.6.20~ds1-1+deb12u1 Debian:12.5/stable [amd64])",
];

const STAND_IN = `#!/bin/sh
# apt-get stand-in: records its arguments; "-s ... upgrade" prints what is still upgradable.
echo "$*" >> "$STATE/calls"
case " $* " in
  *" -s "*" install "*)
    # What installing these would install: each one's Inst line, and those of the upgrades it needs ($STATE/needs: "<package> <needed>...").
    for p in "$@"; do case "$p" in -*|install|Debug::*) ;; *)
      grep "^Inst $p " "$STATE/upgradable" || true
      for n in $(awk -v p="$p" '$1 == p { $1 = ""; print }' "$STATE/needs" 2>/dev/null); do grep "^Inst $n " "$STATE/upgradable" || true; done ;;
    esac; done | sort -u ;;
  *" -s "*) cat "$STATE/upgradable" ;;
  *" install "*)
    [ -z "\${APT_FAIL:-}" ] || { echo "E: Sub-process /usr/bin/dpkg returned an error code (1)" >&2; exit 100; }
    for p in "$@"; do case "$p" in -*|install) ;; *) grep -v "^Inst $p " "$STATE/upgradable" > "$STATE/u" || true; mv "$STATE/u" "$STATE/upgradable" ;; esac; done ;;
esac
exit 0
`;

function run(mode: Exclude<OsUpdatesMode, "off">, options: { reboot?: boolean; fail?: boolean; state?: string; needs?: string; standIn?: (text: string) => string } = {}) {
  const state = options.state ?? tempDir("os-updates-state");
  states.push(state);
  const bin = path.join(state, "bin");
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(path.join(bin, "apt-get"), options.standIn ? options.standIn(STAND_IN) : STAND_IN, { mode: 0o755 });
  if (!options.state) fs.writeFileSync(path.join(state, "upgradable"), `${UPGRADABLE.join("\n")}\n`);
  if (options.needs) fs.writeFileSync(path.join(state, "needs"), options.needs);
  const reboot = path.join(state, "reboot-required");
  if (options.reboot) fs.writeFileSync(reboot, "*** System restart required ***\n");
  const script = path.join(state, "os-updates.sh");
  fs.writeFileSync(script, renderOsUpdatesScript({ appId: "fdts", mode }));
  const res = spawnSync("sh", [script], {
    encoding: "utf8",
    env: { ...process.env, PATH: `${bin}:${process.env["PATH"] ?? ""}`, STATE: state, METRICS_DIR: path.join(state, "textfile"), REBOOT_REQUIRED_FILE: reboot, ...(options.fail && { APT_FAIL: "1" }) },
  });
  const calls = fs.readFileSync(path.join(state, "calls"), "utf8").trim().split("\n");
  const metricsFile = path.join(state, "textfile", "runbook_os_updates_fdts.prom");
  return { ...res, state, calls, metrics: fs.existsSync(metricsFile) ? fs.readFileSync(metricsFile, "utf8") : "" };
}

/** The real installs, not the simulations (`-s`) before them. */
const installs = (calls: string[]) => calls.filter((c) => / install /.test(` ${c} `) && !/ -s /.test(` ${c} `));
const sample = (metrics: string, name: string) => metrics.split("\n").find((l) => l.startsWith(name))?.split(" ").pop();

describe("the os-updates job against an apt-get stand-in", () => {
  it("security: refreshes the lists, upgrades only what a security archive brings, never the Docker engine, and counts what is left", () => {
    const res = run("security");
    expect(res.status, res.stderr).toBe(0);
    expect(res.calls[0]).toBe("-q -o DPkg::Lock::Timeout=1800 update");
    expect(installs(res.calls)).toEqual(["-q -o DPkg::Lock::Timeout=1800 install -y --only-upgrade --no-remove -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold libssl3"]);
    expect(res.stdout).toContain("left for a maintenance window (they restart every container): docker.io containerd");
    expect(sample(res.metrics, 'runbook_host_upgradable_packages{app="fdts",archive="all"}')).toBe("3");
    expect(sample(res.metrics, 'runbook_host_upgradable_packages{app="fdts",archive="security"}')).toBe("1");
    expect(sample(res.metrics, 'runbook_host_reboot_required{app="fdts"}')).toBe("0");
    expect(Number(sample(res.metrics, 'runbook_host_os_updates_last_success_timestamp_seconds{app="fdts"}'))).toBeGreaterThan(Date.now() / 1000 - 60);
  });

  it("all: upgrades every package but the Docker engine's, as the runbook's apt upgrade -y, and reports a reboot the host asks for", () => {
    const res = run("all", { reboot: true });
    expect(res.status, res.stderr).toBe(0);
    const [install] = installs(res.calls);
    expect(install!.split(" ").slice(-2)).toEqual(["libssl3", "curl"]);
    expect(install).not.toMatch(/docker|containerd/);
    expect(sample(res.metrics, 'runbook_host_upgradable_packages{app="fdts",archive="all"}')).toBe("2");
    expect(sample(res.metrics, 'runbook_host_reboot_required{app="fdts"}')).toBe("1");
    expect(res.stdout).toContain("the host asks for a reboot");
  });

  it("leaves a package whose upgrade needs a newer Docker engine package with the engine, and upgrades the rest", () => {
    // curl's new version needs the new containerd: apt would install it as a dependency.
    const res = run("all", { needs: "curl containerd\n" });
    expect(res.status, res.stderr).toBe(0);
    expect(installs(res.calls).map((c) => c.split(" ").slice(-1))).toEqual([["libssl3"]]);
    expect(res.stdout).toContain("left with the Docker engine (each needs a newer package of it): curl");
    expect(sample(res.metrics, 'runbook_host_upgradable_packages{app="fdts",archive="all"}')).toBe("3");
  });

  it("upgrades nothing and fails when the upgrades need a newer engine package only together", () => {
    // Each alone needs nothing of the engine; libssl3 and curl together need the new containerd.
    const together = (standIn: string) =>
      standIn.replace('*" -s "*" install "*)', '*" -s "*" install "*libssl3*curl*) grep -E "^Inst (libssl3|curl|containerd) " "$STATE/upgradable" ;;\n  *" -s "*" install "*)');
    const res = run("all", { standIn: together });
    expect(res.status).not.toBe(0);
    expect(res.stderr).toContain("the other upgrades together still need a newer Docker engine package: nothing upgraded");
    expect(installs(res.calls)).toEqual([]);
  });

  it("upgrades nothing and fails when apt cannot simulate an upgrade, rather than read its silence as needing no engine package", () => {
    // curl's new version needs the new containerd, and apt refuses to simulate any install with curl in it
    // (as it does when a removal would be needed and --no-remove forbids it): no Inst line, exit 100. Read as
    // "needs nothing of the engine", the job went on to install curl, and so containerd, unchecked.
    const refusing = (standIn: string) =>
      standIn.replace('*" -s "*" install "*)', '*" -s "*" install "*curl*) echo "E: Packages need to be removed but remove is disabled." >&2; exit 100 ;;\n  *" -s "*" install "*)');
    const res = run("all", { needs: "curl containerd\n", standIn: refusing });
    expect(res.status).not.toBe(0);
    expect(res.stderr).toContain("E: Packages need to be removed but remove is disabled.");
    expect(res.stderr).toContain("fdts: apt could not simulate upgrading libssl3 curl: nothing upgraded");
    expect(installs(res.calls)).toEqual([]);
  });

  it("fails when apt fails, and leaves the last metrics as they were (the success time does not move)", () => {
    const first = run("security");
    const before = first.metrics;
    fs.writeFileSync(path.join(first.state, "upgradable"), `${UPGRADABLE[0]!}\n`);
    const failed = run("security", { fail: true, state: first.state });
    expect(failed.status).not.toBe(0);
    expect(failed.metrics).toBe(before);
  });

  it("renders shellcheck-clean POSIX sh in both modes", () => {
    const files = (["security", "all"] as const).map((mode) => {
      const f = path.join(dir, `os-updates-${mode}.sh`);
      fs.writeFileSync(f, renderOsUpdatesScript({ appId: "fdts", mode }));
      return f;
    });
    const res = spawnSync(requireTool("shellcheck"), ["--shell=sh", "--severity=style", ...files], { encoding: "utf8" });
    expect(res.status, res.stdout).toBe(0);
  });
});

describe("apps.<id>.maintenance.osUpdates", () => {
  const withOsUpdates = (value: unknown) => {
    const raw = structuredClone(rawStackConfig("prod")) as unknown as { apps: Record<string, Record<string, unknown>> };
    raw.apps["fdts"]!["maintenance"] = { ...(raw.apps["fdts"]!["maintenance"] as object | undefined), osUpdates: value };
    return raw;
  };

  it("is off by default (an existing host is its owner's to patch), and a weekly os-updates timer when set", () => {
    const prod = parseStackConfig(rawStackConfig("prod"), PROJECT);
    for (const app of prod.apps) expect(maintenanceJobs(app).map((j) => j.name), app.id).not.toContain("os-updates");
    const fdts = parseStackConfig(withOsUpdates("security") as never, PROJECT).apps.find((a) => a.id === "fdts")!;
    const job = maintenanceJobs(fdts).find((j) => j.name === "os-updates")!;
    expect([job.onCalendar, job.script]).toEqual(["Sun *-*-* 02:00:00 UTC", renderOsUpdatesScript({ appId: "fdts", mode: "security" })]);
  });

  it("refuses any other value, naming the key", () => {
    expect(problemsOf(withOsUpdates("weekly"))).toEqual([expect.stringContaining("runbook:apps.fdts.maintenance.osUpdates: must be \"off\", \"security\"")]);
  });
});
