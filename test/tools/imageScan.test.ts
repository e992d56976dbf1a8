/**
 * The weekly image scan script (components/maintenance/imageScan.ts), run under sh with a `docker`
 * stand-in first on PATH: its `ps` lists the app's containers' images and its `run` plays trivy,
 * printing what the template asks for (one severity per line). What is real: the script, its quoting
 * of the template (the stand-in records argv), the counting, the metrics file (checked by promtool)
 * and the failure path. trivy itself is not run here: it is not packaged for Debian and its database
 * downloads from ghcr.io, which this machine cannot reach.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { IMAGE_SCAN_METRICS, renderImageScanScript, SEVERITY_TEMPLATE, TRIVY_IMAGE } from "../../components/maintenance/imageScan";
import { requireTool, runScript, tempDir } from "./realTools";

const APP = "fdts";
const BACKEND = "ghcr.io/example/fdts:2.4.1";
const PROXY = "nginx:1.27.3-alpine";
/** The program makes containers from image ids, so `docker ps` names the images by id. */
const IDS: Record<string, string> = { [BACKEND]: "sha256:b4ckend0000000000000000000000000000000000000000000000000000000001", [PROXY]: "sha256:9r0xy00000000000000000000000000000000000000000000000000000000002" };
const TAGS = Object.fromEntries(Object.entries(IDS).map(([tag, id]) => [id, tag]));

/** A docker stand-in: `ps` prints the containers' image ids (the backend twice: two replicas), `image inspect` an id's tags, `run` the findings of its last argument (an id). */
function standIn(dir: string, findings: Record<string, string[] | "fail">, images: string[] = [BACKEND, PROXY, BACKEND]): { env: Record<string, string>; calls: () => string[][] } {
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin, { recursive: true });
  const log = path.join(dir, "calls.jsonl");
  fs.writeFileSync(path.join(dir, "findings.json"), JSON.stringify(findings));
  fs.writeFileSync(
    path.join(bin, "docker"),
    `#!/usr/bin/env node
const fs = require("node:fs");
const args = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify(args) + "\\n");
const findings = JSON.parse(fs.readFileSync(${JSON.stringify(path.join(dir, "findings.json"))}, "utf8"));
const tags = ${JSON.stringify(TAGS)};
if (args[0] === "ps") { process.stdout.write(${JSON.stringify(images.map((i) => `${IDS[i]}\n`).join(""))}); process.exit(0); }
if (args[0] === "image" && args[1] === "inspect") { const t = tags[args[args.length - 1]]; if (!t) process.exit(1); process.stdout.write(t + " \\n"); process.exit(0); }
if (args[0] === "run") {
  const found = findings[tags[args[args.length - 1]]];
  if (found === "fail") { process.stderr.write("FATAL failed to download vulnerability DB\\n"); process.exit(1); }
  process.stdout.write((found || []).map((s) => s + "\\n").join(""));
  process.exit(0);
}
process.exit(1);
`,
    { mode: 0o755 },
  );
  return {
    env: { PATH: `${bin}:${process.env["PATH"]}`, METRICS_DIR: path.join(dir, "textfile"), TRIVY_CACHE_DIR: path.join(dir, "cache") },
    calls: () => fs.readFileSync(log, "utf8").trim().split("\n").map((l) => JSON.parse(l) as string[]),
  };
}

const sample = (text: string, image: string, severity: string) => {
  const line = text.split("\n").find((l) => l.startsWith(`${IMAGE_SCAN_METRICS.vulnerabilities}{app="${APP}",image="${image}",severity="${severity}"} `));
  return line === undefined ? undefined : Number(line.split(" ").pop());
};
const failed = (text: string, image: string) => {
  const line = text.split("\n").find((l) => l.startsWith(`${IMAGE_SCAN_METRICS.scanFailed}{app="${APP}",image="${image}"} `));
  return line === undefined ? undefined : Number(line.split(" ").pop());
};
const lastSuccess = (text: string) => Number(new RegExp(`^${IMAGE_SCAN_METRICS.lastSuccess}\\{app="${APP}"\\} (\\d+)$`, "m").exec(text)?.[1]);

describe("the weekly image scan (trivy through the docker CLI)", () => {
  it("scans each image the app runs once, with the pinned trivy and the template as written, and counts CRITICAL and HIGH per image", async () => {
    const dir = tempDir("image-scan");
    const docker = standIn(dir, { [BACKEND]: ["CRITICAL", "HIGH", "CRITICAL", "HIGH", "HIGH"], [PROXY]: [] });
    const res = await runScript(renderImageScanScript({ appId: APP }), "", docker.env);
    expect(res.status, res.stderr).toBe(0);
    expect(docker.calls().find((c) => c[0] === "ps")).toEqual(["ps", "--filter", `label=runbook.app=${APP}`, "--format", "{{.Image}}"]);
    const runs = docker.calls().filter((c) => c[0] === "run");
    expect(runs.map((c) => c[c.length - 1]).sort()).toEqual([IDS[BACKEND], IDS[PROXY]].sort());
    for (const c of runs) {
      expect(c).toContain(TRIVY_IMAGE);
      expect(c[c.indexOf("--template") + 1]).toBe(SEVERITY_TEMPLATE);
      expect(c[c.indexOf("--severity") + 1]).toBe("CRITICAL,HIGH");
      expect(c).toContain("/var/run/docker.sock:/var/run/docker.sock:ro");
      expect(c).toContain(`${path.join(dir, "cache")}:/root/.cache`);
    }
    const metrics = fs.readFileSync(path.join(dir, "textfile", `runbook_image_scan_${APP}.prom`), "utf8");
    expect([sample(metrics, BACKEND, "CRITICAL"), sample(metrics, BACKEND, "HIGH"), sample(metrics, PROXY, "CRITICAL"), sample(metrics, PROXY, "HIGH")]).toEqual([2, 3, 0, 0]);
    expect(Math.abs(lastSuccess(metrics) - Date.now() / 1000)).toBeLessThan(60);
    expect(res.stdout).toContain(`${APP}: ${BACKEND}: CRITICAL=2 HIGH=3`);
    const promtool = spawnSync(requireTool("promtool"), ["check", "metrics"], { input: metrics, encoding: "utf8" });
    expect(promtool.status, `${promtool.stdout}${promtool.stderr}`).toBe(0);
  });

  it("fails when an image cannot be scanned, keeping that image's counts of its last scan (marked as a failed scan) and the time of the last scan that covered every image", async () => {
    const dir = tempDir("image-scan-fail");
    const good = standIn(dir, { [BACKEND]: ["HIGH"], [PROXY]: ["CRITICAL", "HIGH", "HIGH"] });
    expect((await runScript(renderImageScanScript({ appId: APP }), "", good.env)).status).toBe(0);
    const file = path.join(dir, "textfile", `runbook_image_scan_${APP}.prom`);
    const before = lastSuccess(fs.readFileSync(file, "utf8"));
    // Pretend the last good scan was nine days ago, then break the scan of the proxy's image.
    const old = before - 9 * 86400;
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(`} ${before}`, `} ${old}`));
    standIn(dir, { [BACKEND]: ["CRITICAL"], [PROXY]: "fail" });
    const res = await runScript(renderImageScanScript({ appId: APP }), "", good.env);
    expect(res.status).not.toBe(0);
    expect(res.stderr).toContain(`${APP}: trivy could not scan ${PROXY} (${IDS[PROXY]}); its counts of the last scan are kept`);
    const metrics = fs.readFileSync(file, "utf8");
    expect(lastSuccess(metrics), "the last full scan's time, for ImageScanStale").toBe(old);
    expect([sample(metrics, BACKEND, "CRITICAL"), sample(metrics, BACKEND, "HIGH")], "the image that was scanned is reported").toEqual([1, 0]);
    expect([sample(metrics, PROXY, "CRITICAL"), sample(metrics, PROXY, "HIGH")], "the failed image keeps its last scan's counts").toEqual([1, 2]);
    expect([failed(metrics, PROXY), failed(metrics, BACKEND)]).toEqual([1, 0]);
    const promtool = spawnSync(requireTool("promtool"), ["check", "metrics"], { input: metrics, encoding: "utf8" });
    expect(promtool.status, `${promtool.stdout}${promtool.stderr}`).toBe(0);
    expect(fs.readdirSync(path.join(dir, "textfile")).filter((f) => f.startsWith(".")), "no temporary file left").toEqual([]);

    // Failing again keeps them again; a scan that works replaces them and clears the failure.
    expect((await runScript(renderImageScanScript({ appId: APP }), "", good.env)).status).not.toBe(0);
    expect(sample(fs.readFileSync(file, "utf8"), PROXY, "HIGH"), "kept through a second failure").toBe(2);
    standIn(dir, { [BACKEND]: [], [PROXY]: ["HIGH"] });
    expect((await runScript(renderImageScanScript({ appId: APP }), "", good.env)).status).toBe(0);
    const after = fs.readFileSync(file, "utf8");
    expect([sample(after, PROXY, "CRITICAL"), sample(after, PROXY, "HIGH"), failed(after, PROXY)]).toEqual([0, 1, 0]);
  });

  it("reports an image that has never been scanned and whose scan fails as failed, with no counts", async () => {
    const dir = tempDir("image-scan-first-fail");
    const docker = standIn(dir, { [BACKEND]: ["HIGH"], [PROXY]: "fail" });
    expect((await runScript(renderImageScanScript({ appId: APP }), "", docker.env)).status).not.toBe(0);
    const metrics = fs.readFileSync(path.join(dir, "textfile", `runbook_image_scan_${APP}.prom`), "utf8");
    expect([sample(metrics, PROXY, "CRITICAL"), failed(metrics, PROXY), sample(metrics, BACKEND, "HIGH"), failed(metrics, BACKEND)]).toEqual([undefined, 1, 1, 0]);
    const promtool = spawnSync(requireTool("promtool"), ["check", "metrics"], { input: metrics, encoding: "utf8" });
    expect(promtool.status, `${promtool.stdout}${promtool.stderr}`).toBe(0);
  });

  it("writes 0 as the last full scan when no scan has ever covered every image, so ImageScanStale fires", async () => {
    const dir = tempDir("image-scan-never");
    const docker = standIn(dir, { [BACKEND]: "fail", [PROXY]: [] });
    const res = await runScript(renderImageScanScript({ appId: APP }), "", docker.env);
    expect(res.status).not.toBe(0);
    expect(lastSuccess(fs.readFileSync(path.join(dir, "textfile", `runbook_image_scan_${APP}.prom`), "utf8"))).toBe(0);
  });

  it("fails, naming the app, when no container of the app runs", async () => {
    const dir = tempDir("image-scan-none");
    const docker = standIn(dir, {}, []);
    const script = renderImageScanScript({ appId: "handwork" });
    const res = await runScript(script, "", docker.env);
    expect(res.status).not.toBe(0);
    expect(res.stderr).toContain("handwork: no running container to scan (label runbook.app=handwork)");
  });

  it("refuses an unpinned trivy image", () => {
    expect(() => renderImageScanScript({ appId: APP, trivyImage: "aquasec/trivy:latest" })).toThrow("`trivyImage` must be a pinned image reference (repository:version), got aquasec/trivy:latest");
    expect(() => renderImageScanScript({ appId: APP, trivyImage: "aquasec/trivy" })).toThrow("`trivyImage` must be a pinned image reference");
  });
});
