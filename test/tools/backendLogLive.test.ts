/**
 * The backend log exporter for real, on 127.0.0.1: Debian's mtail runs the program rendered for
 * Handwork on two log files laid out and written as Docker's json-file driver writes them (one per
 * backend replica, `<id>/<id>-json.log`, a JSON object per line), one of them rotated the way the
 * driver rotates (renamed to `.1`, a new file). Realistic FastAPI/uvicorn lines go in: payments that
 * fail and succeed, a traceback, SQLAlchemy's pool exhaustion, SQLite's locks, unrelated lines, and
 * lines holding secrets. The counters must be exactly the lines the runbook's greps select, with no
 * text of any line in what mtail serves. A real Prometheus scrapes it with Handwork's rendered config
 * and rules: PaymentsDown fires while payments only fail, the error-rate rule waits for five payments
 * and then goes pending, the database rules fire. Every wait is bounded; everything is stopped.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderAlertRules } from "../../components/monitoring/alertRules";
import { BACKEND_LOG, BACKEND_LOG_IMAGE, backendLogFiles, renderBackendLogProgram } from "../../components/monitoring/backendLogProgram";
import { alertRulesSpec, prometheusSpec } from "../../components/monitoring/specs";
import { stackSpec } from "../helpers";
import { testHostPrometheusConfig } from "./liveMonitoring";
import { freePort, requireTool, sleep, stopProcess, tempDir } from "./realTools";

const dir = tempDir("backend-log-live");
const handwork = stackSpec("prod").apps.find((a) => a.id === "handwork")!;
const processes: ChildProcess[] = [];
/** Two backend replicas' container ids (64 hex digits, as Docker's). */
const ids = ["a".repeat(64), "b".repeat(64)];
const containers = path.join(dir, "containers");
const [fileA, fileB] = backendLogFiles(ids, containers) as [string, string];
let mtailPort: number;
let prometheusPort: number;

/** What the secrets in the lines below look like: none may reach mtail's output. */
const SECRETS = ["sk_live_51HxTESTSECRETdoNotLeak", "4242424242424242", "john.doe@example.com", "cus_Q9vXk2"];

/** Appends lines to a replica's log as the json-file driver does: `{"log":"<line>\n","stream":...,"time":...}`. */
function write(file: string, lines: readonly (readonly [stream: "stdout" | "stderr", text: string])[]): void {
  fs.appendFileSync(file, lines.map(([stream, text]) => `${JSON.stringify({ log: `${text}\n`, stream, time: new Date().toISOString() })}\n`).join(""));
}

/** mtail's counters, by name, for the series of our program (and the label names each carries). */
async function counters(): Promise<{ values: Record<string, number>; labels: Record<string, string[]>; text: string }> {
  const text = await (await fetch(`http://127.0.0.1:${mtailPort}/metrics`)).text();
  const values: Record<string, number> = {};
  const labels: Record<string, string[]> = {};
  for (const m of text.matchAll(/^(backend_log_[a-z_]+)\{([^}]*)\} (\S+)$/gm)) {
    values[m[1]!] = Number(m[3]);
    labels[m[1]!] = [...m[2]!.matchAll(/([a-z_]+)="/g)].map((l) => l[1]!);
  }
  return { values, labels, text };
}

async function until(what: string, seconds: number, ready: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (!(await ready().catch(() => false))) {
    if (Date.now() - started > seconds * 1000) throw new Error(`${what}: not within ${seconds} s`);
    await sleep(200);
  }
  return (Date.now() - started) / 1000;
}

async function query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`http://127.0.0.1:${prometheusPort}/api/v1/query?query=${encodeURIComponent(promql)}`);
  return ((await res.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
}

type Alert = { labels: Record<string, string>; state: string };
async function alerts(): Promise<Alert[]> {
  const res = await fetch(`http://127.0.0.1:${prometheusPort}/api/v1/alerts`);
  return ((await res.json()) as { data: { alerts: Alert[] } }).data.alerts.filter((a) => a.labels["app"] === "handwork");
}
const stateOf = async (name: string) => (await alerts()).find((a) => a.labels["alertname"] === name)?.state ?? "inactive";

beforeAll(async () => {
  const progs = path.join(dir, "progs");
  fs.mkdirSync(progs);
  fs.writeFileSync(path.join(progs, BACKEND_LOG.programFile), renderBackendLogProgram(handwork.monitoring!.backendLog!, handwork.id));
  for (const file of [fileA, fileB]) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, "");
  }
  mtailPort = await freePort();
  prometheusPort = await freePort();
  processes.push(spawn(requireTool("mtail"), [`--progs=${progs}`, `--logs=${[fileA, fileB].join(",")}`, "--address=127.0.0.1", `--port=${mtailPort}`, "--logtostderr"], { stdio: "ignore" }));

  fs.writeFileSync(path.join(dir, "rules.yml"), renderAlertRules(alertRulesSpec(handwork)));
  const full = prometheusSpec(handwork);
  expect(full.targets["backend-log"]).toEqual([`backend-log-exporter:${BACKEND_LOG.port}`]);
  // Only the backend log exporter: no external probes, and the health probes at a closed port (their alerts are not looked at).
  const spec = Object.fromEntries(Object.entries(full).filter(([key]) => key !== "external")) as typeof full;
  fs.writeFileSync(
    path.join(dir, "prometheus.yml"),
    testHostPrometheusConfig(spec, dir, { targets: { "backend-log": [`127.0.0.1:${mtailPort}`] }, probes: { ...spec.probes, blackbox: "127.0.0.1:9", urls: ["http://127.0.0.1:9/health"] } }),
  );
  processes.push(spawn(requireTool("prometheus"), [`--config.file=${path.join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${path.join(dir, "data")}`, `--web.listen-address=127.0.0.1:${prometheusPort}`], { stdio: "ignore" }));

  // mtail reads a file from its end once it has found it: one line in each, counted, says both are followed.
  await until("mtail's metrics page", 20, async () => (await counters()).values["backend_log_lines_total"] === 0);
  await until("mtail following both files", 20, async () => {
    write(fileA, [["stdout", "INFO:     Started server process [1]"]]);
    write(fileB, [["stdout", "INFO:     Started server process [1]"]]);
    await sleep(500);
    return (await counters()).values["backend_log_lines_total"] === 2;
  });
  // Prometheus has the counters at 0 before any payment line: an increase needs the sample before it.
  await until("Prometheus scraping the counters at 0", 30, async () => (await query(`backend_log_payment_failed_lines_total{job="backend-log"}`))[0]?.value[1] === "0");
}, 90_000);

afterAll(async () => {
  await Promise.all(processes.map(stopProcess));
  fs.rmSync(dir, { recursive: true, force: true });
});

// The tests run in order: the failures first, then the successes, with Prometheus looking after each.
describe("Handwork's backend log lines counted by a real mtail and judged by a real Prometheus, on 127.0.0.1", () => {
  it("compiles the rendered program with Debian's mtail, and refuses a broken one (the check can fail)", () => {
    const compile = (program: string) => {
      const progs = fs.mkdtempSync(path.join(dir, "compile-"));
      fs.writeFileSync(path.join(progs, "p.mtail"), program);
      return spawnSync(requireTool("mtail"), [`--progs=${progs}`, "--compile_only", "--logtostderr", "--address=127.0.0.1", "--port=0"], { encoding: "utf8", timeout: 20_000 });
    };
    expect(compile(renderBackendLogProgram(handwork.monitoring!.backendLog!, "handwork")).status).toBe(0);
    // The version the deployed image pins (mtail-image/Dockerfile): what passes here is what runs there.
    const version = spawnSync(requireTool("mtail"), ["--version"], { encoding: "utf8" });
    const pinned = /mtail=(\S+)-\d+(\+b\d+)? /.exec(fs.readFileSync(path.join(BACKEND_LOG_IMAGE.context, "Dockerfile"), "utf8"))![1]!;
    expect(`${version.stdout}${version.stderr}`).toContain(`mtail version ${pinned} `);
    const broken = compile("counter x\n/unclosed(/ {\n  x++\n}\n");
    expect(broken.status).not.toBe(0);
  });

  it("counts exactly the lines the runbook's greps select: payments, failed ones (never a traceback's frames), database errors by kind, failed logins, and the error, exception, timeout grep", async () => {
    write(fileA, [
      ["stdout", 'INFO:     172.18.0.5:40122 - "GET /health HTTP/1.1" 200 OK'],
      ["stderr", "2026-11-26 10:00:01,120 INFO app.payments: Creating PaymentIntent for job 4211 (customer cus_Q9vXk2, amount 12000 EUR)"],
      ["stderr", "2026-11-26 10:00:02,301 ERROR app.payments: Stripe charge failed for job 4211: Your card was declined (request_id=req_8Hk2, api_key=sk_live_51HxTESTSECRETdoNotLeak)"],
      ["stderr", "Traceback (most recent call last):"],
      ["stderr", '  File "/app/app/payments.py", line 88, in charge'],
      ["stderr", '    intent = stripe.PaymentIntent.create(amount=amount, currency="eur", payment_method=pm)'],
      ["stderr", "stripe.error.CardError: Request req_8Hk2: Your card was declined."],
    ]);
    write(fileB, [
      ["stderr", "2026-11-26 10:00:03,002 WARNING app.payments: PayPal capture timed out after 30s for order 5O190127TN364715T (payer john.doe@example.com)"],
      ["stderr", "sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 30.00 (Background on this error at: https://sqlalche.me/e/20/3o7r)"],
      ["stderr", "sqlite3.OperationalError: database is locked"],
      ["stderr", "sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) database is locked"],
      ["stderr", "2026-11-26 10:00:06,000 ERROR app.db: sqlite3.OperationalError: unable to open database file"],
      ["stderr", "2026-11-26 10:00:06,500 ERROR app.main: Unhandled exception in GET /jobs/17"],
      ["stdout", 'INFO:     172.18.0.5:40188 - "POST /webhooks/stripe HTTP/1.1" 500 Internal Server Error'],
      ["stdout", "2026-11-26 10:00:07,000 DEBUG app.checkout: card 4242424242424242 exp 12/29 cvc 123"],
      // Failed logins, as the runbook's `grep -i "authentication failed"` counts them.
      ["stderr", "2026-11-26 10:00:08,000 WARNING app.auth: Authentication failed for john.doe@example.com from 203.0.113.9"],
      ["stderr", "2026-11-26 10:00:08,500 WARNING app.auth: login: authentication failed (bad token)"],
    ]);
    const expected = {
      backend_log_lines_total: 19,
      backend_log_continuation_lines_total: 2,
      // Case-sensitive, as the runbook's `grep -E`: "stripe.error.CardError", "this error"/"timeout 30.00", "Unhandled exception".
      backend_log_error_lines_total: 3,
      // Creating..., Stripe charge failed, CardError, PayPal timed out, POST /webhooks/stripe 500: not the traceback's two frame lines.
      backend_log_payment_lines_total: 5,
      backend_log_payment_failed_lines_total: 4,
      backend_log_payment_succeeded_lines_total: 0,
      backend_log_database_pool_exhausted_lines_total: 1,
      backend_log_database_locked_lines_total: 2,
      backend_log_database_cannot_open_lines_total: 1,
      backend_log_auth_failed_lines_total: 2,
    };
    await until("mtail's counts of the first lines", 20, async () => (await counters()).values["backend_log_lines_total"] === expected.backend_log_lines_total);
    await sleep(300);
    expect((await counters()).values).toEqual(expected);
  });

  it("fires PaymentsDown while payments only fail, and each database rule on its line; the error-rate rule waits for five payments", async () => {
    const seconds = await until("PaymentsDown and the database alerts firing", 30, async () => {
      const states = await Promise.all(["PaymentsDown", "BackendPoolExhausted", "DatabaseLocked", "DatabaseCannotOpen"].map(stateOf));
      return states.every((s) => s === "firing");
    });
    const active = await alerts();
    const down = active.find((a) => a.labels["alertname"] === "PaymentsDown")!;
    expect([down.labels["severity"], down.labels["priority"]]).toEqual(["critical", "P0"]);
    // Four failed payments and no success: 100 %, but fewer than five payments in the window (two more evaluations).
    await sleep(2000);
    expect(await stateOf("PaymentErrorRateHigh")).toBe("inactive");
    expect(await stateOf("PaymentsDown")).toBe("firing");
    console.log(`PaymentsDown and the database alerts firing ${seconds.toFixed(1)} s after the lines were written`);
  });

  it("follows a rotated file (renamed to .1, a new file, as the json-file driver rotates) and counts successful payments", async () => {
    fs.renameSync(fileA, `${fileA}.1`);
    fs.writeFileSync(fileA, "");
    await sleep(1000);
    write(fileA, [
      ["stderr", "2026-11-26 10:01:00,100 INFO app.payments: PaymentIntent pi_3PqR2x succeeded for job 4212"],
      ["stdout", 'INFO:     172.18.0.5:40190 - "POST /webhooks/stripe HTTP/1.1" 200 OK'],
    ]);
    write(fileB, [
      ["stderr", "2026-11-26 10:01:02,000 INFO app.payments: PayPal order 7XK21 captured (status COMPLETED)"],
      ["stderr", "2026-11-26 10:01:03,000 INFO app.jobs: Job 4212 marked completed, invoice paid"],
    ]);
    await until("mtail's counts after the rotation", 20, async () => (await counters()).values["backend_log_lines_total"] === 23);
    await sleep(300);
    const { values } = await counters();
    expect([values["backend_log_payment_lines_total"], values["backend_log_payment_failed_lines_total"], values["backend_log_payment_succeeded_lines_total"]]).toEqual([8, 4, 2]);
  });

  it("resolves PaymentsDown once a payment succeeds, and turns PaymentErrorRateHigh pending (4 of 6 payments failed, over 10 %)", async () => {
    const seconds = await until("PaymentsDown resolved and PaymentErrorRateHigh pending", 30, async () => (await stateOf("PaymentsDown")) === "inactive" && (await stateOf("PaymentErrorRateHigh")) === "pending");
    const rate = (await alerts()).find((a) => a.labels["alertname"] === "PaymentErrorRateHigh")!;
    expect([rate.labels["severity"], rate.labels["priority"]]).toEqual(["warning", "P1"]);
    console.log(`PaymentErrorRateHigh pending ${seconds.toFixed(1)} s after the successes were written`);
  });

  it("exports no text of any line, secrets included: only fixed counters, each with no label but mtail's prog", async () => {
    const { labels, text } = await counters();
    for (const secret of SECRETS) expect(text).not.toContain(secret);
    expect(Object.keys(labels).length).toBe(10);
    for (const [metric, names] of Object.entries(labels)) expect(names, metric).toEqual(["prog"]);
    // And in Prometheus: the series of the job carry no label but the target's and `prog`.
    const names = new Set((await query(`{job="backend-log",__name__=~"backend_log_.*"}`)).flatMap((r) => Object.keys(r.metric)));
    expect([...names].sort()).toEqual(["__name__", "instance", "job", "prog"]);
  });
});
