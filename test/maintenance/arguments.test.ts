/** The area's components and renderers refuse bad arguments with exact messages, before declaring anything. */
import { describe, expect, it } from "vitest";
import { HostCapacity, MaintenanceWindow } from "../../components/maintenance";
import { renderPostgresMaintenanceScript, renderSqliteMaintenanceScript } from "../../components/maintenance/databaseScripts";
import { renderLogRetentionScript, renderPruneScript } from "../../components/maintenance/hostScripts";
import { renderInstallScript } from "../../components/maintenance/units";
import { hostEnvironment } from "../../components/diagnostics";
import { stackSpec } from "../helpers";

const app = stackSpec("prod").apps[0]!;

describe("maintenance arguments", () => {
  it("HostCapacity needs at least one app and a whole number of MiB", () => {
    expect(() => new HostCapacity("h", { host: "x", source: "s", apps: [] })).toThrow("`apps` must name at least one app on the host");
    expect(() => new HostCapacity("h", { host: "x", source: "s", apps: ["a"], memoryMb: 1.5 })).toThrow("`memoryMb` must be a whole number of MiB (got 1.5)");
  });
  it("MaintenanceWindow exists only while the window is open", () => {
    expect(() => new MaintenanceWindow("w", { app, state: [] })).toThrow(`\`app.maintenance.window\` is off for ${app.id}: declare a MaintenanceWindow only while it is open`);
  });
  it("renderers refuse what would break the script", () => {
    expect(() => renderPostgresMaintenanceScript({ appId: "lms", database: "x; DROP", user: "u", task: "reindex" })).toThrow("`database` must be a plain SQL identifier (got x; DROP)");
    expect(() => renderSqliteMaintenanceScript({ appId: "a", path: "/other/db.sqlite", mountPath: "/app/data", walMode: false, pragmas: [] })).toThrow("`path` /other/db.sqlite must be inside `mountPath` /app/data");
    expect(() => renderSqliteMaintenanceScript({ appId: "a", path: "/app/data/x.db", mountPath: "/app/data", walMode: false, pragmas: [{ name: "cache_size", value: "1; VACUUM" }] })).toThrow("`pragmas` cache_size=1; VACUUM is not a plain pragma");
    expect(() => renderPruneScript({ appId: "a", repositories: ["r"], retentionDays: 0 })).toThrow("`retentionDays` must be a whole number of at least 1");
    expect(() => renderPruneScript({ appId: "A b", repositories: [], retentionDays: 1 })).toThrow("`appId` must be a catalog id (got A b)");
    expect(() => renderLogRetentionScript({ appId: "a", days: 30, directory: "var/log" })).toThrow("`directory` must be an absolute path");
    expect(() => renderInstallScript("a", [{ name: "x", description: "", onCalendar: "daily", script: "", source: "" }, { name: "x", description: "", onCalendar: "daily", script: "", source: "" }])).toThrow("job x is scheduled twice");
  });
  it("diagnose needs an address for a host the stack makes", () => {
    expect(() => hostEnvironment("lms", { kind: "created", user: "deploy", port: 22 })).toThrow(
      "lms's host is made by the stack: give its address and key with --ssh-host <address> --host-key '<type> <base64>' (pulumi stack output apps --show-secrets: hosting.host)",
    );
    expect(hostEnvironment("lms", { kind: "created", user: "deploy", port: 22 }, { sshHost: "203.0.113.7", hostKey: "ssh-ed25519 AAAA" })).toEqual({
      RUNBOOK_APP: "lms", RUNBOOK_SSH_HOST: "203.0.113.7", RUNBOOK_SSH_USER: "deploy", RUNBOOK_SSH_PORT: "22", RUNBOOK_HOST_KEY: "ssh-ed25519 AAAA",
    });
  });
});
