/** Monitoring's deploy-step scripts pass shellcheck, for every app of the committed stacks. */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { renderAlertmanagerConfigScript, renderGrafanaPasswordScript, renderToolsScript } from "../../components/monitoring/deployScripts";
import { stackSpec } from "../helpers";
import { requireTool } from "./realTools";

const shellcheck = (script: string) => spawnSync(requireTool("shellcheck"), ["--shell=sh", "--severity=style", "-"], { input: script, encoding: "utf8" });

describe("shellcheck on monitoring's deploy steps", () => {
  it("passes every app's Alertmanager config, Grafana password and health-check tools scripts", () => {
    for (const stack of ["prod", "staging"]) {
      for (const app of stackSpec(stack).apps) {
        const scripts = {
          alertmanager: renderAlertmanagerConfigScript({
            app: app.id,
            exec: ["docker", "exec", "-i", "-u", "0", `${app.id}-monitoring-alertmanager-1a2b3c4`],
            configPath: "/etc/alertmanager/alertmanager.yml",
            reloadUrl: "http://127.0.0.1:9093/-/reload",
            owner: "nobody",
          }),
          grafana: renderGrafanaPasswordScript(app.id, ["docker", "exec", "-i", `${app.id}-monitoring-grafana-1a2b3c4`]),
          tools: renderToolsScript(`${app.id}-monitoring-tools-1a2b3c4`, "sha256:0123abcd"),
        };
        for (const [kind, script] of Object.entries(scripts)) {
          const res = shellcheck(script);
          expect(res.stdout, `${stack}/${app.id} ${kind}`).toBe("");
          expect(res.status).toBe(0);
        }
      }
    }
  });

  it("puts no secret on a command line: the config and the password arrive on stdin", () => {
    const script = renderGrafanaPasswordScript("lms", ["docker", "exec", "-i", "grafana"]);
    expect(script).toContain("--password-from-stdin");
    expect(renderAlertmanagerConfigScript({ app: "lms", exec: [], configPath: "/etc/am.yml", reloadUrl: "http://127.0.0.1:9093/-/reload" })).toMatch(/cat > \/etc\/am\.yml\.next/);
  });
});
