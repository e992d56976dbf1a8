/**
 * A host the stack creates has every command its scripts call, so the user data cannot drift from
 * the scripts: every app of the prod stack is put on a created host (maintenance window open and
 * lockdown on, so their steps exist too), the program runs under mocks, and every script that runs
 * on the host is read with a real shell parser (shellCommands.ts): the remote deploy steps' create
 * and delete commands, stdin scripts (the host firewall, the lockdown evidence), the scripts the
 * installers write (backup, verify, restore, maintenance jobs), the diagnostics script and the setup
 * script itself. Each command must be in HOST_BASE_COMMANDS or come from a package the app's user
 * data installs; and each package beyond the base must be called by something (exactly what is needed).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { renderDiagnoseScript } from "../../components/diagnostics/diagnoseScript";
import { HOST_BASE_COMMANDS, HOST_BASE_PACKAGES, hostPackages, type HostPackage } from "../../components/hosts/hostPackages";
import { renderHostSetupScript } from "../../components/hosts/userData";
import { parseStackConfig, type RawConfig } from "../../config/resolve";
import type { StackSpec } from "../../config/spec";
import { runUnderMocks, type PlannedResource } from "../../plan/mockRuntime";
import { inputs, rawStackConfig } from "../helpers";
import { AWS_HOST } from "./fixtures";
import { scriptCommands, type ScriptCommands } from "./shellCommands";

/** Commands called through a variable, and what the variable holds on a host this program sets up. */
const EXPANSIONS: Readonly<Record<string, string | null>> = {
  $SYSTEMCTL: "systemctl", // tests' stand-in, systemctl by default
  $AWS_CLI: "aws", // `: "${AWS_CLI:=aws}"` (backups/scriptCommon.ts)
  $runner: null, // the scripts' own psql runners (`db`, `scratch`): docker exec
  $SQLITE3: null, // sqlite3 where the host has it, probed with `command -v` first (monitoringData.ts): else Grafana is paused for the copy
  "$@": null, // the scripts' own wrappers (`as_root`, `s3`) run their arguments, read where they are called
};
/** Commands of the backup scripts' branch for a database on the host itself (DOCKER=0): the jobs.env the program writes says DOCKER=1. */
const NOT_ON_A_DOCKER_HOST = new Set(["createdb", "dropdb"]);

function allOnCreatedHosts(): RawConfig {
  const raw = structuredClone(rawStackConfig("prod")) as { apps: Record<string, Record<string, unknown>> };
  for (const app of Object.values(raw.apps)) {
    for (const key of ["host", "hostKey", "hostMemoryMb"]) delete app[key];
    app["aws"] = AWS_HOST;
    app["maintenance"] = { window: true };
    app["firewall"] = { ...(app["firewall"] as object), lockdown: true };
  }
  return raw as unknown as RawConfig;
}

const isScript = (v: unknown): v is string => typeof v === "string" && v.startsWith("#!/bin/sh");

/** Every command the scripts of `appId`'s host call, from the planned resources. */
function hostCommands(spec: StackSpec, resources: readonly PlannedResource[], appId: string, packages: readonly HostPackage[]): ScriptCommands {
  const acc: ScriptCommands = { commands: new Set(), dynamic: new Set() };
  const mine = resources.filter((r) => r.name.startsWith(`${appId}-`));
  for (const r of mine.filter((x) => x.type === "command:remote:Command")) {
    const i = inputs(r);
    for (const key of ["create", "delete"]) if (typeof i[key] === "string") scriptCommands(i[key] as string, acc);
    if (isScript(i["stdin"])) scriptCommands(i["stdin"], acc);
  }
  // A local step's command runs where Pulumi runs; a script it pipes to the host is its stdin.
  for (const r of mine.filter((x) => x.type === "command:local:Command")) if (isScript(inputs(r)["stdin"])) scriptCommands(inputs(r)["stdin"] as string, acc);
  const app = spec.apps.find((a) => a.id === appId)!;
  scriptCommands(renderDiagnoseScript(app), acc);
  scriptCommands(renderHostSetupScript({ user: "deploy", dataVolumeId: "vol-0123456789abcdef0", dataDeviceName: "/dev/sdf", packages: packages.map((p) => p.name) }), acc);
  return acc;
}

/** The commands not in the base list nor in `packages`. */
export function missingCommands(found: ScriptCommands, packages: readonly HostPackage[]): string[] {
  const provided = new Set([...HOST_BASE_COMMANDS, ...packages.flatMap((p) => p.commands)]);
  const called = [...found.commands, ...[...found.dynamic].map((d) => EXPANSIONS[d]).filter((c): c is string => typeof c === "string")];
  return [...new Set(called)].filter((c) => !provided.has(c) && !NOT_ON_A_DOCKER_HOST.has(c)).sort();
}

let spec: StackSpec;
let resources: readonly PlannedResource[];
beforeAll(async () => {
  spec = parseStackConfig(allOnCreatedHosts());
  resources = (await runUnderMocks(spec, "prod")).resources;
}, 120_000);

const ids = parseStackConfig(allOnCreatedHosts()).apps.map((a) => a.id);

describe("a created host has what its scripts call", () => {
  it.each(ids)("%s: every command is in the base list or installed by the user data, and every installed package is used", (id) => {
    const app = spec.apps.find((a) => a.id === id)!;
    expect(app.host.kind).toBe("created");
    const packages = hostPackages(app);
    const found = hostCommands(spec, resources, id, packages);
    expect(found.commands.size, "scripts were read").toBeGreaterThan(30);
    expect([...found.dynamic].filter((d) => !(d in EXPANSIONS)), "commands through a variable this test does not know").toEqual([]);
    expect(missingCommands(found, packages)).toEqual([]);
    const called = new Set([...found.commands, ...[...found.dynamic].map((d) => EXPANSIONS[d])]);
    const unused = packages.filter((p) => !HOST_BASE_PACKAGES.includes(p) && !p.commands.some((c) => called.has(c)));
    expect(unused.map((p) => p.name), "installed but never called").toEqual([]);
  });

  it("notices a command no package gives (the check can fail)", () => {
    const sqliteApp = spec.apps.find((a) => a.database.engine === "sqlite")!;
    const packages = hostPackages(sqliteApp);
    const found = hostCommands(spec, resources, sqliteApp.id, packages);
    expect(missingCommands(found, packages.filter((p) => p.name !== "sqlite3"))).toEqual(["sqlite3"]);
    expect(missingCommands(found, packages.filter((p) => p.name !== "awscli"))).toEqual(["aws"]);
  });
});

describe("reading the commands of a script", () => {
  it("follows wrappers, sh -c and script heredocs; skips containers, probes, builtins, own functions and own scripts", () => {
    const script = [
      "#!/bin/sh",
      "set -eu",
      'as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }',
      "log() { echo \"$*\"; }",
      "if command -v certbot >/dev/null 2>&1; then log yes; fi",
      "as_root tee /etc/x >/dev/null <<'EOF'",
      "#!/bin/sh",
      "sqlite3 /data/db.sqlite 'PRAGMA integrity_check;'",
      "EOF",
      "sudo -n /bin/sh -c 'timeout 5 curl -sS http://127.0.0.1/ | gzip'",
      "docker exec app psql -c 'select 1'",
      "out=$(nice -n 10 awk 1 /etc/x)",
      "/usr/local/lib/runbook/app/job.sh",
      '"$SYSTEMCTL" daemon-reload',
      "",
    ].join("\n");
    const found = scriptCommands(script);
    expect([...found.commands].sort()).toEqual(["awk", "curl", "docker", "gzip", "id", "nice", "sh", "sqlite3", "sudo", "tee", "timeout"]);
    expect([...found.dynamic].sort()).toEqual(["$@", "$SYSTEMCTL"]);
  });
});
