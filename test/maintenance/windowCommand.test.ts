/**
 * `npm run maintenance-window` against the recording stand-in for the Pulumi CLI that the Automation
 * API drives: the commands it sends and their order, `--open`/`--close`, `--auto` deciding from the
 * schedules and `--now`, the 48 h notice, and its refusals.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runMaintenanceWindow } from "../../ops/maintenanceWindow";
import { parseMaintenanceWindowArgs } from "../../ops/maintenanceWindowArgs";
import { ROOT, rawStackConfig } from "../helpers";
import { installFakePulumi, type FakePulumi } from "../releases/fakePulumi";

let fake: FakePulumi;
beforeAll(() => {
  fake = installFakePulumi();
});

/** LMS: first Sunday 02:00-04:00 UTC (runbook 003); FDTS here: first Saturday 04:00-05:00 UTC. */
const LMS = { cron: "0 2 * * 0#1", durationMinutes: 120 };
const FDTS = { cron: "0 4 * * 6#1", durationMinutes: 60 };

interface Setup {
  /** apps.<id>.maintenance in the stack's config. */
  readonly maintenance: Record<string, Record<string, unknown>>;
  /** apps.<id>.maintenance.window in the deployed stack's outputs (absent: never deployed). */
  readonly deployed?: Record<string, boolean>;
  readonly up?: { exit: number; error?: string };
}

function reset(setup: Setup) {
  const apps = structuredClone(rawStackConfig("prod")["apps"]) as Record<string, Record<string, unknown>>;
  // The committed prod stack schedules the LMS's and FDTS's windows: each case states its own.
  for (const app of Object.values(apps)) delete app["maintenance"];
  for (const [id, m] of Object.entries(setup.maintenance)) apps[id]!["maintenance"] = m;
  const outputs = setup.deployed ? { environment: "prod", apps: Object.fromEntries(Object.entries(setup.deployed).map(([id, window]) => [id, { maintenance: { schedule: {}, window } }])) } : {};
  fake.reset(outputs, setup.up, { "runbook:apps": apps });
}

async function run(args: { app?: string; action: "open" | "close" | "auto"; now: string; yes?: boolean; answer?: boolean }, setup: Setup) {
  reset(setup);
  const log: string[] = [];
  const questions: string[] = [];
  const code = await runMaintenanceWindow({
    stack: "prod",
    workDir: ROOT,
    action: args.action,
    ...(args.app !== undefined && { app: args.app }),
    now: Date.parse(args.now),
    yes: args.yes ?? true,
    confirm: async (q) => {
      questions.push(q);
      return args.answer ?? true;
    },
    log: (t) => log.push(t),
  });
  const calls = fake.calls();
  return { code, text: log.join(""), questions, calls, sets: configSets(calls), ups: calls.filter((c) => c[0] === "up").length };
}

/** A `config set --path <key> ... -- <value>` call as `key=value`. */
const configSets = (calls: string[][]) =>
  calls.filter((c) => c[0] === "config" && c[1] === "set").map((c) => `${c[c.indexOf("--path") + 1]}=${c[c.length - 1]}`);
const WINDOW = (app: string) => `runbook:apps.${app}.maintenance.window`;

describe("maintenance-window --open and --close", () => {
  it("sends version, stack select, config get of the apps, stack output, config set --path of the window, then up, in that order", async () => {
    const { code, calls, text, sets } = await run({ app: "lms", action: "open", now: "2026-11-25T12:00:00Z" }, { maintenance: {}, deployed: { lms: false } });
    expect(code, text).toBe(0);
    expect(calls.map((c) => c.slice(0, 2).join(" "))).toEqual(["version", "stack select", "config get", "stack output", "stack output", "config set", "up --yes", "stack output", "stack output", "stack history"]);
    expect(calls[1]).toEqual(["stack", "select", "--stack", "prod", "--non-interactive"]);
    expect(calls[2]).toEqual(["config", "get", "runbook:apps", "--json", "--stack", "prod", "--non-interactive"]);
    expect(calls[5]).toEqual(["config", "set", "--path", WINDOW("lms"), "--stack", "prod", "--plaintext", "--non-interactive", "--", "true"]);
    expect(calls[6]).toEqual(expect.arrayContaining(["--skip-preview", "--stack", "prod", "--message", "maintenance window: Open the window of lms"]));
    expect(sets).toEqual([`${WINDOW("lms")}=true`]);
    expect(text).toContain("lms: opening the window: --open (config closed, deployed closed)");
  });

  it("--close sets the window false and runs the update; --open of a window already open changes nothing", async () => {
    const closed = await run({ app: "lms", action: "close", now: "2026-11-25T12:00:00Z" }, { maintenance: { lms: { window: true } }, deployed: { lms: true } });
    expect(closed.code, closed.text).toBe(0);
    expect(closed.sets).toEqual([`${WINDOW("lms")}=false`]);
    expect(closed.ups).toBe(1);
    const again = await run({ app: "lms", action: "open", now: "2026-11-25T12:00:00Z" }, { maintenance: { lms: { window: true } }, deployed: { lms: true } });
    expect(again.code).toBe(0);
    expect(again.calls.filter((c) => c[0] === "config" && c[1] === "set" || c[0] === "up")).toEqual([]);
    expect(again.text).toContain("Nothing to change.");
  });

  it("asks before it updates and, when the answer is no, sets nothing and runs no update", async () => {
    const { code, questions, calls, text } = await run({ app: "lms", action: "open", now: "2026-11-25T12:00:00Z", yes: false, answer: false }, { maintenance: {}, deployed: { lms: false } });
    expect(code).toBe(1);
    expect(questions).toEqual(["Open the window of lms on stack prod (opening takes a backup first, then turns the maintenance page on)? [y/N] "]);
    expect(calls.filter((c) => (c[0] === "config" && c[1] === "set") || c[0] === "up")).toEqual([]);
    expect(text).toContain("Nothing changed.");
  });

  it("says the update failed, and that the next run tries again, with exit 1", async () => {
    const { code, text } = await run({ app: "lms", action: "open", now: "2026-11-25T12:00:00Z" }, { maintenance: {}, deployed: { lms: false }, up: { exit: 1, error: "error: lms-maintenance-window-backup: exit status 1" } });
    expect(code).toBe(1);
    expect(text).toContain("Open the window of lms: the update did not complete: error: lms-maintenance-window-backup: exit status 1");
    expect(text).toContain("the next run (or `pulumi up --stack prod`) tries again");
  });
});

describe("maintenance-window --auto", () => {
  it("opens a window inside its scheduled time", async () => {
    const { code, text, sets, ups } = await run({ action: "auto", now: "2026-12-06T02:30:00Z" }, { maintenance: { lms: { schedule: LMS } }, deployed: { lms: false } });
    expect(code, text).toBe(0);
    expect(sets).toEqual([`${WINDOW("lms")}=true`]);
    expect(ups).toBe(1);
    expect(text).toContain("lms: opening the window: its schedule's window is open (2026-12-06T02:00:00.000Z to 2026-12-06T04:00:00.000Z) (config closed, deployed closed)");
    expect(text).toContain(`lms: next window opens 2027-01-03T02:00:00.000Z (in 27 d 23 h), for 120 minutes ("0 2 * * 0#1", UTC)`);
    expect(text).toContain("without a schedule, left as they are: fairlens, fdts, reference, handwork");
  });

  it("closes it once the window has passed", async () => {
    const { code, text, sets, ups } = await run({ action: "auto", now: "2026-12-06T04:00:00Z" }, { maintenance: { lms: { schedule: LMS, window: true } }, deployed: { lms: true } });
    expect(code, text).toBe(0);
    expect(sets).toEqual([`${WINDOW("lms")}=false`]);
    expect(ups).toBe(1);
    expect(text).toContain("lms: closing the window: its schedule has no window open now (config open, deployed open)");
  });

  it("closes a window the deployed stack has open even when a fresh checkout's config says closed (a scheduled CI run)", async () => {
    const { code, sets, ups } = await run({ action: "auto", now: "2026-12-06T04:15:00Z" }, { maintenance: { lms: { schedule: LMS } }, deployed: { lms: true } });
    expect(code).toBe(0);
    expect(sets).toEqual([`${WINDOW("lms")}=false`]);
    expect(ups).toBe(1);
  });

  it("does nothing, and runs no update, when the state already matches the schedule", async () => {
    for (const [now, open] of [["2026-12-06T03:00:00Z", true], ["2026-12-20T03:00:00Z", false]] as const) {
      const { code, calls, text } = await run({ action: "auto", now }, { maintenance: { lms: { schedule: LMS, window: open } }, deployed: { lms: open } });
      expect(code, text).toBe(0);
      expect(calls.filter((c) => (c[0] === "config" && c[1] === "set") || c[0] === "up"), now).toEqual([]);
      expect(text).toContain(`lms: window ${open ? "open" : "closed"}, as it should be`);
      expect(text).toContain("Nothing to change.");
    }
  });

  it("sets only the config, with no update, where the deployed stack already matches and the config does not", async () => {
    const { code, sets, ups, text } = await run({ action: "auto", now: "2026-12-06T03:00:00Z" }, { maintenance: { lms: { schedule: LMS } }, deployed: { lms: true } });
    expect(code).toBe(0);
    expect(sets).toEqual([`${WINDOW("lms")}=true`]);
    expect(ups).toBe(0);
    expect(text).toContain("config set, no update");
  });

  it("handles two apps with different schedules: opens one and closes the other in one update", async () => {
    const setup = { maintenance: { lms: { schedule: LMS }, fdts: { schedule: FDTS, window: true } }, deployed: { lms: false, fdts: true } };
    const { code, calls, sets, ups, text } = await run({ action: "auto", now: "2026-12-06T02:30:00Z" }, setup);
    expect(code, text).toBe(0);
    expect(sets).toEqual([`${WINDOW("fdts")}=false`, `${WINDOW("lms")}=true`]);
    expect(ups).toBe(1);
    expect(calls.find((c) => c[0] === "up")).toEqual(expect.arrayContaining(["--message", "maintenance window: Close the window of fdts, open the window of lms"]));
    // A day earlier, FDTS's window (first Saturday 04:00-05:00) is open and the LMS's is not.
    const saturday = await run({ action: "auto", now: "2026-12-05T04:30:00Z" }, { maintenance: { lms: { schedule: LMS }, fdts: { schedule: FDTS } }, deployed: { lms: false, fdts: false } });
    expect(saturday.sets).toEqual([`${WINDOW("fdts")}=true`]);
  });

  it("says the users' notice is due when the next window opens within 48 h, and not before", async () => {
    const within = await run({ action: "auto", now: "2026-12-04T03:00:00Z" }, { maintenance: { lms: { schedule: LMS } }, deployed: { lms: false } });
    expect(within.text).toContain("lms: NOTICE DUE: the window opening 2026-12-06T02:00:00.000Z is within 48 h; tell the app's users now (the runbook's 48 h notice is a person's job: this command sends nothing)");
    expect(within.ups).toBe(0);
    const before = await run({ action: "auto", now: "2026-12-04T01:59:00Z" }, { maintenance: { lms: { schedule: LMS } }, deployed: { lms: false } });
    expect(before.text).toContain("lms: next window opens 2026-12-06T02:00:00.000Z (in 2 d 0 h)");
    expect(before.text).not.toContain("NOTICE DUE");
  });
});

describe("maintenance-window refusals", () => {
  const refused = (r: { code: number; calls: string[][] }) => {
    expect(r.code).toBe(1);
    expect(r.calls.filter((c) => (c[0] === "config" && c[1] === "set") || c[0] === "up")).toEqual([]);
  };

  it("refuses --auto for an app without a schedule, naming the setting", async () => {
    const r = await run({ app: "fairlens", action: "auto", now: "2026-12-06T02:30:00Z" }, { maintenance: { lms: { schedule: LMS } }, deployed: {} });
    refused(r);
    expect(r.text).toBe('--auto: fairlens has no maintenance schedule on stack prod (set runbook:apps.fairlens.maintenance.schedule, e.g. {cron: "0 2 * * 0#1", durationMinutes: 120}), or use --open / --close\n');
  });

  it("refuses --auto on a stack where no app has a schedule", async () => {
    const r = await run({ action: "auto", now: "2026-12-06T02:30:00Z" }, { maintenance: {} });
    refused(r);
    expect(r.text).toContain("--auto: no app of stack prod has a maintenance schedule (runbook:apps.<id>.maintenance.schedule)");
  });

  it("refuses an app the stack does not have", async () => {
    const r = await run({ app: "wiki", action: "open", now: "2026-12-06T02:30:00Z" }, { maintenance: {} });
    refused(r);
    expect(r.text).toBe("stack prod has no app wiki (its apps: fairlens, fdts, reference, lms, handwork)\n");
  });

  it("refuses a schedule the stack's config would refuse, naming the key", async () => {
    const r = await run({ action: "auto", now: "2026-12-06T02:30:00Z" }, { maintenance: { lms: { schedule: { cron: "0 2 * * 0#1", durationMinutes: 120, timezone: "Mars/Olympus" } } } });
    refused(r);
    expect(r.text).toContain('runbook:apps.lms.maintenance.schedule.timezone: is not a time zone Node knows (an IANA name such as "UTC" or "Europe/Berlin"); got "Mars/Olympus"');
  });

  it.each([
    [["--stack", "prod", "--open", "--close"], "--open and --close exclude each other: give one of --open, --close, --auto"],
    [["--stack", "prod", "--app", "lms"], "one of --open, --close or --auto is required"],
    [["--auto", "--yes"], "--stack is required"],
    [["--stack", "prod", "--auto", "--now", "tomorrow"], "--now must be an ISO 8601 time with a zone, such as 2026-12-06T02:00:00Z (got tomorrow)"],
  ])("refuses the arguments %j", (argv, message) => {
    expect(parseMaintenanceWindowArgs(argv)).toEqual({ kind: "error", message });
  });

  it("npm run maintenance-window refuses both --open and --close with exit 2 and the usage, before it calls pulumi", () => {
    fake.reset({});
    const res = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts/maintenance-window.ts"), "--stack", "prod", "--app", "lms", "--open", "--close"], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain("maintenance-window: --open and --close exclude each other: give one of --open, --close, --auto\nUsage: npm run maintenance-window");
    expect(fake.calls()).toEqual([]);
  });

  it("npm run maintenance-window -- --auto --yes --now runs the decision end to end through the stand-in", () => {
    reset({ maintenance: { lms: { schedule: LMS } }, deployed: { lms: false } });
    const res = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts/maintenance-window.ts"), "--stack", "prod", "--auto", "--yes", "--now", "2026-12-06T02:30:00Z"], { cwd: ROOT, encoding: "utf8", env: process.env, timeout: 60_000 });
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toContain("Maintenance windows on stack prod at 2026-12-06T02:30:00.000Z:");
    expect(res.stdout).toContain("Open the window of lms: done.");
    expect(configSets(fake.calls())).toEqual([`${WINDOW("lms")}=true`]);
  });
});
