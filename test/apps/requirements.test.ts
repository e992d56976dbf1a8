/**
 * The catalog's runbook requirements: every one cites a real line of its runbook, no entry
 * contradicts itself, and the policy pack ships exactly what the catalog states.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { catalog } from "../../apps";
import type { Rule, RunbookLine } from "../../apps/requirements";
import { REGENERATE_COMMAND, REQUIREMENTS_FILE, renderRequirementsFile } from "../../apps/requirementsData";
import type { AppDefinition } from "../../apps/types";
import { catalogProblems } from "../../apps/validate";
import { ROOT } from "../helpers";

const RUNBOOKS = path.join(ROOT, "..", "shared", "runbooks");
const apps = Object.values(catalog).map((a) => [a.id, a] as const);

/** Every rule of an app, with a name for messages. */
function rules(app: AppDefinition): [string, Rule<unknown>][] {
  const out: [string, Rule<unknown>][] = [];
  for (const [kind, value] of Object.entries(app.requirements)) {
    if (kind === "serviceNames" || value === undefined) continue;
    if ("source" in (value as object)) out.push([kind, value as Rule<unknown>]);
    else for (const [key, rule] of Object.entries(value as Record<string, Rule<unknown>>)) out.push([`${kind}.${key}`, rule]);
  }
  return out;
}

/** The nearest heading above a line, outside fenced code blocks (where `#` starts a shell comment). */
function sectionOf(lines: readonly string[], line: number): string | undefined {
  let fenced = false;
  let section: string | undefined;
  for (let i = 0; i < line; i++) {
    if (lines[i]!.startsWith("```")) fenced = !fenced;
    else if (!fenced && /^#{1,6} /.test(lines[i]!)) section = lines[i]!.replace(/^#+ /, "").trim();
  }
  return section;
}

describe.each(apps)("the runbook requirements of %s", (_id, app) => {
  it("cite real lines of the app's runbook: the quote is on that line, under that section", () => {
    const lines = fs.readFileSync(path.join(RUNBOOKS, app.runbook), "utf8").split("\n");
    const cited = rules(app);
    for (const [name, rule] of cited) {
      for (const source of [rule.source, ...(rule.stagingSource ? [rule.stagingSource] : [])]) {
        expect(lines[source.line - 1], `${app.id} ${name}: line ${source.line}`).toContain(source.quote);
        expect(sectionOf(lines, source.line), `${app.id} ${name}: section`).toBe(source.section);
      }
      // A staging rule is the runbook's own: it says where.
      expect(rule.staging === undefined || rule.stagingSource !== undefined, `${app.id} ${name}: staging rule without stagingSource`).toBe(true);
    }
  });

  it("run their runbook's own database check only where it cites a real line of the runbook", () => {
    const check = app.backend.databaseCheck;
    if (check) {
      const lines = fs.readFileSync(path.join(RUNBOOKS, app.runbook), "utf8").split("\n");
      expect(lines[check.source.line - 1], `${app.id} databaseCheck`).toContain(check.source.quote);
      expect(sectionOf(lines, check.source.line)).toBe(check.source.section);
    }
    // Handwork's runbook checks its database through the app's engine; the others' from outside.
    expect(check !== undefined).toBe(app.id === "handwork");
  });

  it("count log lines (backendLogMetrics) only with patterns that cite real lines of the app's runbook", () => {
    const lines = fs.readFileSync(path.join(RUNBOOKS, app.runbook), "utf8").split("\n");
    const log = app.backendLogMetrics;
    const sources: [string, RunbookLine][] = [
      ...(log?.payments
        ? ([
            ["payments.line", log.payments.line.source],
            ["payments.failure", log.payments.failure.source],
            ["payments.success", log.payments.success.source],
            ["payments.errorRate", log.payments.errorRate.source],
            ["payments.down", log.payments.down.source],
          ] as [string, RunbookLine][])
        : []),
      ...(log?.errors ? ([["errors", log.errors.source]] as [string, RunbookLine][]) : []),
      ...(log?.database ?? []).flatMap((d): [string, RunbookLine][] => [
        [`database.${d.name}.line`, d.line.source],
        [`database.${d.name}.alertOn`, d.alertOn.source],
      ]),
    ];
    for (const [name, source] of sources) {
      expect(lines[source.line - 1], `${app.id} ${name}: line ${source.line}`).toContain(source.quote);
      expect(sectionOf(lines, source.line), `${app.id} ${name}: section`).toBe(source.section);
    }
    // Handwork's (payments, pool exhaustion, SQLite) and FairLens's ("Alerting on error patterns") catalog entries opt in.
    expect(sources.length > 0).toBe(["handwork", "fairlens"].includes(app.id));
  });

  it("do not contradict what the catalog deploys by default", () => {
    expect(catalogProblems(app)).toEqual([]);
  });
});

describe("catalog self-consistency", () => {
  const lms = catalog["lms"]!;
  it.each<[string, AppDefinition, string]>([
    ["default replicas below the required minimum", { ...lms, backend: { ...lms.backend, replicas: 2 } }, "lms: requirements.replicas.backend: the catalog's default of 2 replicas is below the 3 it requires"],
    ["a health endpoint no route serves", { ...lms, routes: [{ path: "/app/", service: "backend" }] }, "lms: healthEndpoints: /api/healthz/ is served by no route (/app/)"],
    [
      "a migration that is not the required one",
      { ...lms, backend: { ...lms.backend, migrationCommand: ["python", "manage.py", "showmigrations"] } },
      "lms: requirements.migration: requires `python manage.py migrate`, but backend.migrationCommand is `python manage.py showmigrations`",
    ],
    ["a default memory limit below the runbook's", { ...lms, backend: { ...lms.backend, limits: { cpus: 2, memoryMb: 1024 } } }, "lms: requirements.limits.backend: the default memory limit 1024 MiB is below the 4096 MiB it requires"],
    ["a health path that is not the probed one", { ...lms, backend: { ...lms.backend, healthPath: "/health" } }, "lms: requirements.health.backend: requires path /api/healthz/, but backend.healthPath is /health"],
    [
      "a secret weaker than required",
      { ...catalog["fdts"]!, backend: { ...catalog["fdts"]!.backend, secretEnv: [{ name: "JWT_SECRET", source: "generated", format: { encoding: "base64", bytes: 32 } }, catalog["fdts"]!.backend.secretEnv[1]!] } },
      'fdts: requirements.secrets.JWT_SECRET: requires {"encoding":"base64","bytes":64}, but the catalog generates {"encoding":"base64","bytes":32}',
    ],
    ["a persistent cache required to be cache-only", { ...catalog["fairlens"]!, cache: { ...catalog["fairlens"]!.cache!, persistent: true } }, "fairlens: requirements.cacheOnly: requires the cache to keep no state, but cache.persistent is true"],
    ["a SQLite file outside its volume", { ...catalog["fdts"]!, database: { engine: "sqlite", path: "/tmp/database.sqlite", volume: "data", walMode: false } }, "fdts: database.path: /tmp/database.sqlite must lie in the backend volume data, so that it outlives a container and its backups can read it"],
  ])("names the app and the field for %s", (_label, app, message) => {
    expect(catalogProblems(app)).toContain(message);
  });
});

describe(REQUIREMENTS_FILE, () => {
  it("is what the catalog states (the policy pack ships it)", () => {
    const committed = fs.readFileSync(path.join(ROOT, REQUIREMENTS_FILE), "utf8");
    expect(committed === renderRequirementsFile(catalog), `${REQUIREMENTS_FILE} is out of date with the app catalog: run \`${REGENERATE_COMMAND}\` and commit it`).toBe(true);
  });

  it("is checked by the generator's --check, which names the command that regenerates it", () => {
    const ok = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts/generate-requirements.ts"), "--check"], { cwd: ROOT, encoding: "utf8" });
    expect(ok.status, ok.stderr).toBe(0);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "requirements-"));
    fs.writeFileSync(path.join(dir, "stale.json"), renderRequirementsFile({ ...catalog, lms: { ...catalog["lms"]!, displayName: "An older LMS" } }));
    const stale = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts/generate-requirements.ts"), "--check"], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, RUNBOOK_REQUIREMENTS_FILE: path.join(dir, "stale.json") },
    });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(stale.status).toBe(1);
    expect(stale.stderr).toContain(`is out of date with the app catalog: run \`${REGENERATE_COMMAND}\` and commit it`);
  });
});
