/**
 * The routing, with the real amtool and a real Alertmanager on 127.0.0.1: every app's config
 * passes `amtool check-config`; `amtool config routes test` sends each severity to its receiver;
 * the deploy step delivers a config on stdin and Alertmanager reloads it (a refused one changes
 * nothing); and a critical alert reaches on-call while a warning of the same app is inhibited.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RECEIVERS, renderAlertmanagerConfig, renderBootstrapAlertmanagerConfig } from "../../components/monitoring/alertmanagerConfig";
import { renderAlertmanagerConfigScript } from "../../components/monitoring/deployScripts";
import { stackSpec } from "../helpers";
import { freePort, requireTool, runScript, sleep, startServer, stopProcess, tempDir, type TestServer } from "./realTools";

const dir = tempDir("alertmanager");
const apps = ["prod", "staging"].flatMap((stack) => stackSpec(stack).apps.map((app) => ({ name: `${stack}-${app.id}`, app })));

/** Receivers of every kind: what a stack's secure values resolve to. */
const receivers = (base: string) => ({
  critical: { email: "oncall@example.com", slackWebhookUrl: "https://hooks.slack.com/services/T0/B0/critical", webhookUrl: `${base}/on-call` },
  warning: { slackWebhookUrl: "https://hooks.slack.com/services/T0/B0/warning", webhookUrl: `${base}/chat` },
  info: { webhookUrl: `${base}/low-priority` },
});
const smtp = { smarthost: "smtp.example.com:587", from: "alerts@example.com", username: "alerts", password: "smtp-password-not-real" };

function amtool(args: string[]) {
  const res = spawnSync(requireTool("amtool"), args, { encoding: "utf8", cwd: dir });
  return { status: res.status, output: `${res.stdout}${res.stderr}`, stdout: res.stdout };
}

describe("amtool on every app's Alertmanager config", () => {
  it("accepts every app's config, with receivers of every kind and with none (the bootstrap)", () => {
    for (const { name, app } of apps) {
      fs.writeFileSync(path.join(dir, `${name}.yml`), renderAlertmanagerConfig({ app: app.id, receivers: receivers("https://relay.example.com"), smtp }));
      fs.writeFileSync(path.join(dir, `${name}-bootstrap.yml`), renderBootstrapAlertmanagerConfig(app.id));
      for (const file of [`${name}.yml`, `${name}-bootstrap.yml`]) {
        const res = amtool(["check-config", file]);
        expect(res.output, file).toContain("SUCCESS");
        expect(res.status, file).toBe(0);
      }
    }
    fs.writeFileSync(path.join(dir, "broken.yml"), "route:\n  receiver: nobody\nreceivers: []\n");
    expect(amtool(["check-config", "broken.yml"]).status).not.toBe(0);
  });

  it.each(apps.map(({ name, app }) => [name, app.id] as const))("%s: routes critical, warning and info to on-call, chat and low-priority (amtool config routes test)", (name, id) => {
    for (const [severity, receiver] of Object.entries(RECEIVERS)) {
      const res = amtool(["config", "routes", "test", `--config.file=${name}.yml`, `severity=${severity}`, `app=${id}`, "alertname=RunbookAlert"]);
      expect(res.stdout.trim(), `${name} ${severity}: ${res.output}`).toBe(receiver);
    }
  });
});

describe("a real Alertmanager on 127.0.0.1", () => {
  let am: ChildProcess;
  let port: number;
  let hooks: TestServer;
  const received: { path: string; alerts: { labels: Record<string, string>; status: string }[] }[] = [];
  const configPath = path.join(dir, "live", "alertmanager.yml");

  beforeAll(async () => {
    hooks = await startServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        received.push({ path: req.url ?? "", alerts: (JSON.parse(body) as { alerts: { labels: Record<string, string>; status: string }[] }).alerts });
        res.writeHead(200).end();
      });
    });
    port = await freePort();
    fs.mkdirSync(path.dirname(configPath), { recursive: true });
    fs.writeFileSync(configPath, renderBootstrapAlertmanagerConfig("lms"));
    am = spawn(
      requireTool("prometheus-alertmanager"),
      [`--config.file=${configPath}`, `--storage.path=${path.join(dir, "live", "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--cluster.listen-address="],
      { stdio: "ignore" },
    );
    const deadline = Date.now() + 15_000;
    while ((await fetch(`http://127.0.0.1:${port}/-/ready`).then((r) => r.status, () => 0)) !== 200) {
      if (Date.now() > deadline) throw new Error("Alertmanager did not start within 15 s");
      await sleep(100);
    }
  });
  afterAll(async () => {
    if (am) await stopProcess(am);
    await hooks?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const script = () =>
    renderAlertmanagerConfigScript({ app: "lms", exec: [], configPath, amtool: [requireTool("amtool")], post: [requireTool("curl"), "-fsS", "-X", "POST"], reloadUrl: `http://127.0.0.1:${port}/-/reload` });

  it("takes its receivers from the deploy step's stdin; a config amtool refuses leaves the running one and is never echoed", async () => {
    // Webhooks only: nothing here may reach Slack or a mail server.
    const base = `http://127.0.0.1:${hooks.port}`;
    const config = renderAlertmanagerConfig({
      app: "lms",
      receivers: { critical: { webhookUrl: `${base}/on-call` }, warning: { webhookUrl: `${base}/chat` }, info: { webhookUrl: `${base}/low-priority` } },
      timing: { groupWait: "1s", groupInterval: "1s", repeat: { critical: "1h", warning: "1h", info: "1h" } },
    });
    const ok = await runScript(script(), config);
    expect(ok.stderr).toBe("");
    expect(ok.stdout).toBe("alertmanager config: lms reloaded with its receivers\n");
    expect(fs.readFileSync(configPath, "utf8")).toBe(config);
    expect(fs.statSync(configPath).mode & 0o077).toBe(0);

    const refused = await runScript(script(), "route:\n  receiver: on-call\nreceivers: [{name: chat}]\n# smtp-password-not-real\n");
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toBe("alertmanager config: amtool refused the new config for lms; the running config is unchanged\n");
    expect(`${refused.stdout}${refused.stderr}`).not.toContain("smtp-password-not-real");
    expect(fs.readFileSync(configPath, "utf8")).toBe(config);
  });

  it("sends a critical alert to on-call and holds back a warning of the same app, while another app's warning goes to chat", async () => {
    const alert = (app: string, alertname: string, severity: string) => ({ labels: { app, alertname, severity }, annotations: { summary: `${app} ${alertname}` } });
    const posted = await fetch(`http://127.0.0.1:${port}/api/v2/alerts`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([alert("lms", "DiskUsageCritical", "critical"), alert("lms", "HighCpuUsage", "warning"), alert("fdts", "HighMemoryUsage", "warning")]),
    });
    expect(posted.status).toBe(200);
    const sentTo = (hook: string, alertname: string) => received.some((r) => r.path === hook && r.alerts.some((a) => a.labels["alertname"] === alertname));
    const deadline = Date.now() + 20_000;
    while (!(sentTo("/on-call", "DiskUsageCritical") && sentTo("/chat", "HighMemoryUsage"))) {
      if (Date.now() > deadline) throw new Error(`notifications did not arrive within 20 s: ${JSON.stringify(received)}`);
      await sleep(200);
    }
    // Past another group interval: the inhibited warning is still not sent.
    await sleep(2500);
    expect(sentTo("/chat", "HighCpuUsage")).toBe(false);
    expect(received.filter((r) => r.path === "/on-call").flatMap((r) => r.alerts.map((a) => a.labels["alertname"]))).toEqual(["DiskUsageCritical"]);
    const state = (await (await fetch(`http://127.0.0.1:${port}/api/v2/alerts?filter=alertname%3D%22HighCpuUsage%22`)).json()) as { status: { state: string; inhibitedBy: string[] } }[];
    expect(state.map((a) => a.status.state)).toEqual(["suppressed"]);
    expect(state[0]!.status.inhibitedBy.length).toBe(1);
  });
});
