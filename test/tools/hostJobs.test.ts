/**
 * Host jobs against the recording `docker` stand-in and real files: the prune keeps every image the
 * release record names, every image a container uses and every young image, removes only older
 * images of the app's own repositories, keeps everything without a record, and removes only dangling
 * anonymous volumes; log retention deletes only logs untouched for 30 days; TLS renewal reloads the
 * proxy (after `nginx -t`) only when the certificate changed.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { maintenanceJobs } from "../../components/maintenance";
import { renderCertificateRenewalScript, renderLogRetentionScript, renderPruneScript } from "../../components/maintenance/hostScripts";
import { stackSpec } from "../helpers";
import { dockerStandIn, type StandInFixture } from "./dockerStandIn";
import { runScript, tempDir } from "./realTools";

const dirs: string[] = [];
const work = (prefix: string) => {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();
const apps = stackSpec("prod").apps;
const appCases = apps.map((a) => [a.id, a] as const);
const repo = (image: string) => image.replace(/:[^:/]+$/, "");

describe("image and volume pruning", () => {
  it.each(appCases)("%s: keeps the recorded releases, images in use and young images; removes the rest of its repositories only", async (_, app) => {
    const dir = work(`prune-${app.id}`);
    const r = repo(app.backend.image);
    const images: StandInFixture["images"] = {
      [`${r}:1.0.0`]: { id: "sha256:aaa", created: ago(90) }, // recorded (older release)
      [`${r}:1.1.0`]: { id: "sha256:bbb", created: ago(60) }, // recorded (current)
      [`${r}:0.9.0`]: { id: "sha256:ccc", created: ago(120) }, // neither: removed
      [`${r}:0.8.0`]: { id: "sha256:ddd", created: ago(100) }, // used by a stopped container
      [`${r}:1.2.0-rc`]: { id: "sha256:eee", created: ago(2) }, // young
      [`${r}:0.7.0`]: { id: "sha256:fff", created: ago(200) }, // used by id only
      ["docker.io/library/other:1"]: { id: "sha256:999", created: ago(300) }, // not the app's
    };
    const releases = path.join(dir, "releases.json");
    fs.writeFileSync(releases, JSON.stringify([{ id: "r2", images: { backend: `${r}:1.1.0` } }, { id: "r1", images: { backend: `${r}:1.0.0` } }]));
    const docker = dockerStandIn(dir, {
      containers: [
        { id: "c1", name: "live", labels: { "runbook.app": app.id }, image: `${r}:1.1.0`, imageId: "sha256:bbb" },
        { id: "c2", name: "stopped", labels: {}, image: `${r}:0.8.0`, imageId: "sha256:ddd", status: "exited" },
        { id: "c3", name: "by-id", labels: {}, image: "sha256:fff", imageId: "sha256:fff" },
      ],
      images,
      danglingVolumes: { ["a".repeat(64)]: "", ["b".repeat(64)]: app.id, [`${app.id}-data`]: "" },
    });
    const script = renderPruneScript({ appId: app.id, repositories: [r], retentionDays: 7, releasesFile: releases });
    const res = await runScript(script, "", docker.env);
    expect(res.stderr).toBe("");
    expect(res.status).toBe(0);
    const removed = docker.calls().filter((c) => c[0] === "rmi").map((c) => c[1]);
    expect(removed).toEqual([`${r}:0.9.0`]);
    const volumes = docker.calls().filter((c) => c[0] === "volume" && c[1] === "rm").map((c) => c[2]);
    expect(volumes, "only the anonymous, unlabelled, dangling volume").toEqual(["a".repeat(64)]);
    expect(res.stdout).toContain(`${app.id}: prune done: 1 image(s) removed, 5 kept, 1 anonymous volume(s) removed`);
  });

  it.each(appCases)("%s: without a release record, removes no image", async (_, app) => {
    const dir = work(`prune-none-${app.id}`);
    const r = repo(app.backend.image);
    const docker = dockerStandIn(dir, { containers: [], images: { [`${r}:0.1.0`]: { id: "sha256:old", created: ago(400) } } });
    const script = renderPruneScript({ appId: app.id, repositories: [r], retentionDays: 7, releasesFile: path.join(dir, "absent.json") });
    const res = await runScript(script, "", docker.env);
    expect(res.status, res.stderr).toBe(0);
    expect(docker.calls().filter((c) => c[0] === "rmi")).toEqual([]);
    expect(res.stdout).toContain("no release record");
  });

  it.each(appCases)("%s: the scheduled prune reads the shared release record path and prunes the app's own repositories", (_, app) => {
    const script = maintenanceJobs(app).find((j) => j.name === "prune")!.script;
    expect(script).toContain(`releases=/var/lib/runbook/${app.id}/releases.json`);
    for (const image of [app.backend.image, ...(app.frontend ? [app.frontend.image] : [])]) expect(script).toContain(repo(image));
  });
});

describe("log retention", () => {
  it("deletes logs untouched for more than 30 days, and nothing else", async () => {
    const dir = work("logs");
    const files = { "old.log": 40, "app/old.log.1": 45, "app/old.log.2.gz": 31.5, "new.log": 3, "old.txt": 90, "app/recent.log.1": 10 };
    for (const [name, days] of Object.entries(files)) {
      const f = path.join(dir, name);
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, "line\n");
      const t = new Date(Date.now() - days * DAY);
      fs.utimesSync(f, t, t);
    }
    const res = await runScript(renderLogRetentionScript({ appId: "x", days: 30, directory: dir }));
    expect(res.status, res.stderr).toBe(0);
    const left = Object.keys(files).filter((f) => fs.existsSync(path.join(dir, f))).sort();
    expect(left).toEqual(["app/recent.log.1", "new.log", "old.txt"]);
    expect(res.stdout).toContain("3 file(s) older than 30 days removed");
  });
});

describe("TLS renewal", () => {
  const run = async (renews: boolean) => {
    const dir = work("certs");
    const cert = path.join(dir, "fullchain.pem");
    fs.writeFileSync(cert, "old certificate\n");
    const docker = dockerStandIn(dir, { containers: [{ id: "p1", name: "proxy", labels: { "runbook.app": "fdts", "runbook.service": "proxy" }, image: "nginx", imageId: "sha256:n" }] });
    // certbot stand-in: a renewal rewrites the certificate; otherwise it leaves it.
    fs.writeFileSync(path.join(dir, "bin", "certbot"), `#!/bin/sh\necho "$*" > ${dir}/certbot.args\n${renews ? `echo "new certificate" > ${cert}\n` : ""}`, { mode: 0o755 });
    // nginx stand-in (docker exec runs it here): records its arguments.
    fs.writeFileSync(path.join(dir, "bin", "nginx"), `#!/bin/sh\necho "nginx $*" >> ${dir}/nginx.calls\n`, { mode: 0o755 });
    const res = await runScript(renderCertificateRenewalScript({ appId: "fdts", certificateFile: cert }), "", docker.env);
    const nginx = fs.existsSync(path.join(dir, "nginx.calls")) ? fs.readFileSync(path.join(dir, "nginx.calls"), "utf8") : "";
    return { res, nginx, certbot: fs.readFileSync(path.join(dir, "certbot.args"), "utf8") };
  };
  it("reloads the proxy, after nginx -t, when the certificate changed", async () => {
    const { res, nginx, certbot } = await run(true);
    expect(res.status, res.stderr).toBe(0);
    expect(certbot.trim()).toBe("renew --quiet");
    expect(nginx).toBe("nginx -t -q\nnginx -s reload\n");
    expect(res.stdout).toBe("fdts: certificate renewed; proxy reloaded\n");
  });
  it("leaves the proxy alone when nothing was renewed", async () => {
    const { res, nginx } = await run(false);
    expect(res.status, res.stderr).toBe(0);
    expect(nginx).toBe("");
    expect(res.stdout).toBe("fdts: certificate unchanged\n");
  });
});
