import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { renderHealthGateScript } from "../../components/app/healthGate";
import { stackSpec } from "../helpers";
import { requireTool } from "./realTools";

describe("shellcheck on generated scripts", () => {
  it("passes every app's health gate script, TLS or not", () => {
    const shellcheck = requireTool("shellcheck");
    for (const stack of ["prod", "staging"]) {
      for (const app of stackSpec(stack).apps) {
        const script = renderHealthGateScript({
          appName: app.id,
          baseUrl: `http://127.0.0.1:${app.proxy.httpPort}`,
          endpoints: app.proxy.healthEndpoints,
          attempts: app.healthGate.attempts,
          intervalSeconds: app.healthGate.intervalSeconds,
          insecureTls: Boolean(app.proxy.tls),
        });
        const res = spawnSync(shellcheck, ["--shell=sh", "--severity=style", "-"], { input: script, encoding: "utf8" });
        expect(res.stdout, `${stack}/${app.id}`).toBe("");
        expect(res.status).toBe(0);
      }
    }
  });

  it("finds a problem in a script that has one (the check can fail)", () => {
    const res = spawnSync(requireTool("shellcheck"), ["--shell=sh", "-"], { input: "#!/bin/sh\necho $1\n", encoding: "utf8" });
    expect(res.status).not.toBe(0);
    expect(res.stdout).toContain("SC2086");
  });
});
