import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { appHealthGateSpec, renderHealthGateScript } from "../../components/app/healthGate";
import { renderProxyConfigScript } from "../../components/app/proxyConfigScript";
import { renderUninstallScript as renderBackupUninstall } from "../../components/backups/hostInstall";
import { maintenanceJobs } from "../../components/maintenance";
import { renderInstallScript as renderMaintenanceInstall, renderUninstallScript as renderMaintenanceUninstall } from "../../components/maintenance/units";
import { renderInputsScript } from "../../components/logging/collectorConfig";
import { stackSpec } from "../helpers";
import { requireTool } from "./realTools";

function shellcheck(script: string) {
  return spawnSync(requireTool("shellcheck"), ["--shell=sh", "--severity=style", "-"], { input: script, encoding: "utf8" });
}

describe("shellcheck on generated scripts", () => {
  it("passes every app's health gate and proxy config scripts, TLS or not", () => {
    for (const stack of ["prod", "staging"]) {
      for (const app of stackSpec(stack).apps) {
        const scripts = {
          gate: renderHealthGateScript(appHealthGateSpec(app, [`${app.id}-backend-0-1a2b3c4`, `${app.id}-proxy-5d6e7f8`])),
          config: renderProxyConfigScript({ appName: app.id, exec: ["docker", "exec", "-i", `${app.id}-proxy-5d6e7f8`], configPath: "/etc/nginx/nginx.conf" }),
        };
        for (const [kind, script] of Object.entries(scripts)) {
          const res = shellcheck(script);
          expect(res.stdout, `${stack}/${app.id} ${kind}`).toBe("");
          expect(res.status).toBe(0);
        }
      }
    }
  });

  it("passes every app's job removal scripts (the install steps' delete) and the maintenance installer", () => {
    for (const stack of ["prod", "staging"]) {
      for (const app of stackSpec(stack).apps) {
        const scripts = {
          "backups delete": renderBackupUninstall({ appId: app.id, localDir: app.backups.localDir }),
          "maintenance delete": renderMaintenanceUninstall(app.id, maintenanceJobs(app)),
          "maintenance delete, no jobs": renderMaintenanceUninstall(app.id, []),
          "maintenance install": renderMaintenanceInstall(app.id, maintenanceJobs(app)),
          "log collector inputs": renderInputsScript({ appId: app.id, environment: app.environment, collector: `${app.id}-logs-collector-9f8e7d6` }),
        };
        for (const [kind, script] of Object.entries(scripts)) {
          const res = shellcheck(script);
          expect(res.stdout, `${stack}/${app.id} ${kind}`).toBe("");
          expect(res.status).toBe(0);
        }
      }
    }
  });

  it("finds a problem in a script that has one (the check can fail)", () => {
    const res = shellcheck("#!/bin/sh\necho $1\n");
    expect(res.status).not.toBe(0);
    expect(res.stdout).toContain("SC2086");
  });
});
