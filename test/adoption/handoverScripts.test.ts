/**
 * The cut-over scripts, run with `sh` against a recording `docker` stand-in on PATH, and checked by
 * shellcheck for every app of prod and staging.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { renderReadyCheckScript, renderStopComposeScript } from "../../components/adoption";
import { stackSpec } from "../helpers";
import { requireTool } from "../tools/realTools";
import { runWithDockerStandIn, type StandInContainer } from "./dockerStandIn";
import { composeProject, composeVolume } from "./fixtures";

/** A host running two compose projects (the app's, `shop`, and another) and one container of the stack. */
function host(): StandInContainer[] {
  return [
    { id: "aaa111", name: "shop-db-1", project: "shop", volumes: ["shop_pgdata"], running: true, restart: "always" },
    { id: "aaa222", name: "shop-web-1", project: "shop", volumes: ["shop_uploads"], running: true, restart: "unless-stopped" },
    { id: "aaa333", name: "shop-nginx-1", project: "shop", volumes: [], running: true, restart: "always" },
    { id: "aaa444", name: "shop-old-1", project: "shop", volumes: [], running: false, restart: "no" },
    { id: "bbb111", name: "blog-db-1", project: "blog", volumes: ["shop_pgdata_copy"], running: true, restart: "always" },
    { id: "ccc111", name: "shop-backend-0-1a2b3c4", volumes: ["shop_pgdata"], running: true, restart: "unless-stopped", health: "healthy" },
  ];
}

const running = (cs: readonly StandInContainer[]) => cs.filter((c) => c.running).map((c) => c.name).sort();

describe("the compose stop step", () => {
  it("stops only the running containers of that compose project, after turning their restart policy off", () => {
    const run = runWithDockerStandIn(renderStopComposeScript({ appName: "shop", project: "shop" }), host());
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(running(run.containers)).toEqual(["blog-db-1", "shop-backend-0-1a2b3c4"]);
    const verbs = run.calls.map((c) => c[0]);
    expect(verbs).toEqual(["ps", "update", "stop", "ps"]);
    expect(run.calls[1]).toEqual(["update", "--restart=no", "aaa111", "aaa222", "aaa333"]);
    expect(run.calls[2]).toEqual(["stop", "-t", "60", "aaa111", "aaa222", "aaa333"]);
    expect(run.containers.filter((c) => c.project === "shop" && c.id !== "aaa444").map((c) => c.restart)).toEqual(["no", "no", "no"]);
    expect(run.containers.find((c) => c.project === "blog")!.restart).toBe("always");
    expect(run.stdout).toContain("cut-over: stopped the containers of compose project shop");
  });

  it("stops only the project's containers that mount the given data volumes (the database handover)", () => {
    const run = runWithDockerStandIn(renderStopComposeScript({ appName: "shop", project: "shop", onlyMounting: ["shop_pgdata"] }), host());
    expect(run.status).toBe(0);
    expect(running(run.containers)).toEqual(["blog-db-1", "shop-backend-0-1a2b3c4", "shop-nginx-1", "shop-web-1"]);
    expect(run.calls[2]).toEqual(["stop", "-t", "60", "aaa111"]);
  });

  it("does nothing, successfully, when the project has no running container (a second run)", () => {
    const stopped = host().map((c) => (c.project === "shop" ? { ...c, running: false } : c));
    const run = runWithDockerStandIn(renderStopComposeScript({ appName: "shop", project: "shop" }), stopped);
    expect(run.status).toBe(0);
    expect(run.calls.map((c) => c[0])).toEqual(["ps"]);
    expect(run.stdout).toContain("no running containers of compose project shop");
  });

  it("fails, naming what still runs, when a container does not stop", () => {
    const stuck = host().map((c) => (c.id === "aaa333" ? { ...c, stuck: true } : c));
    const run = runWithDockerStandIn(renderStopComposeScript({ appName: "shop", project: "shop" }), stuck);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("still running after docker stop");
    expect(run.stderr).toContain("aaa333");
  });
});

describe("the cut-over readiness step", () => {
  it("passes when every new container is healthy, and fails naming each one that is not", () => {
    const cs: StandInContainer[] = [
      { id: "n1", name: "shop-backend-0-1a2b3c4", volumes: [], running: true, restart: "unless-stopped", health: "healthy" },
      { id: "n2", name: "shop-backend-1-5d6e7f8", volumes: [], running: true, restart: "unless-stopped", health: "unhealthy" },
    ];
    const ok = runWithDockerStandIn(renderReadyCheckScript({ appName: "shop", containers: ["shop-backend-0-1a2b3c4"], attempts: 2, intervalSeconds: 0 }), cs);
    expect(ok.status).toBe(0);
    const bad = runWithDockerStandIn(renderReadyCheckScript({ appName: "shop", containers: ["shop-backend-0-1a2b3c4", "shop-backend-1-5d6e7f8", "shop-gone-9"], attempts: 2, intervalSeconds: 0 }), cs);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("shop-backend-1-5d6e7f8 is unhealthy, not healthy, after 2 attempts");
    expect(bad.stderr).toContain("shop-gone-9 is missing");
    expect(bad.stderr).not.toContain("shop-backend-0-1a2b3c4");
    expect(bad.calls.every((c) => c[0] === "inspect")).toBe(true);
  });

  it("refuses to render without a container, or with a project name compose would not make", () => {
    expect(() => renderReadyCheckScript({ appName: "shop", containers: [], attempts: 1, intervalSeconds: 0 })).toThrow("`containers` must name at least one new container");
    expect(() => renderStopComposeScript({ appName: "shop", project: "Shop; rm -rf /" })).toThrow("`project` must be a compose project name");
    expect(() => renderStopComposeScript({ appName: "shop", project: "shop", onlyMounting: [] })).toThrow("`onlyMounting` must name at least one volume when given");
  });
});

describe("shellcheck on the cut-over scripts", () => {
  it("passes both scripts of every app of prod and staging", () => {
    const shellcheck = requireTool("shellcheck");
    for (const stack of ["prod", "staging"]) {
      for (const app of stackSpec(stack).apps) {
        const scripts = [
          renderReadyCheckScript({ appName: app.id, containers: [`${app.id}-backend-0-1a2b3c4`], attempts: app.healthGate.attempts, intervalSeconds: app.healthGate.intervalSeconds }),
          renderStopComposeScript({ appName: app.id, project: composeProject(app.id) }),
          renderStopComposeScript({ appName: app.id, project: composeProject(app.id), onlyMounting: [composeVolume(app.id, "pgdata")] }),
        ];
        for (const script of scripts) {
          const res = spawnSync(shellcheck, ["--shell=sh", "--severity=style", "-"], { input: script, encoding: "utf8" });
          expect(res.stdout, `${stack}/${app.id}`).toBe("");
          expect(res.status).toBe(0);
        }
      }
    }
  });
});
