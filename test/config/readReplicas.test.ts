/**
 * `apps.<id>.database.readReplicas`: how many streaming read replicas a PostgreSQL app runs (none
 * unless set), its range, and its refusal for an app that keeps SQLite inside its backend.
 */
import { describe, expect, it } from "vitest";
import { PROJECT } from "../../config/defaults";
import { parseStackConfig } from "../../config/resolve";
import { problemsOf, rawStackConfig } from "../helpers";

function withDatabase(appId: string, database: Record<string, unknown>) {
  const cfg = structuredClone(rawStackConfig("prod")) as { apps: Record<string, Record<string, unknown>> };
  cfg.apps[appId]!["database"] = { ...((cfg.apps[appId]!["database"] as Record<string, unknown> | undefined) ?? {}), ...database };
  return cfg;
}

describe("database.readReplicas", () => {
  it("is 0 for every PostgreSQL app of the committed stacks unless set, and takes the number set", () => {
    for (const stack of ["prod", "staging"]) {
      for (const app of parseStackConfig(rawStackConfig(stack), PROJECT).apps) {
        if (app.database.engine === "postgres") expect(app.database.readReplicas, `${stack}/${app.id}`).toBe(0);
      }
    }
    const spec = parseStackConfig(withDatabase("lms", { readReplicas: 2 }), PROJECT);
    const lms = spec.apps.find((a) => a.id === "lms")!;
    expect(lms.database.engine === "postgres" && lms.database.readReplicas).toBe(2);
  });

  it.each([
    [0, []],
    [4, []],
    [5, [`${PROJECT}:apps.fairlens.database.readReplicas: must be at most 4: each replica's clone holds two of the primary's 10 WAL senders`]],
    [-1, [`${PROJECT}:apps.fairlens.database.readReplicas: must be at least 0`]],
    [1.5, [`${PROJECT}:apps.fairlens.database.readReplicas: must be a whole number from 0 to 4`]],
    ["2", [`${PROJECT}:apps.fairlens.database.readReplicas: must be a whole number from 0 to 4`]],
  ])("takes %j on a PostgreSQL app, or refuses it naming the key", (value, problems) => {
    expect(problemsOf(withDatabase("fairlens", { readReplicas: value }))).toEqual(problems);
  });

  it.each(["fdts", "handwork"])("is refused for %s, which keeps SQLite inside its backend, naming the key", (appId) => {
    const problems = problemsOf(withDatabase(appId, { readReplicas: 1 }));
    expect(problems).toEqual([expect.stringMatching(new RegExp(`^${PROJECT}:apps\\.${appId}\\.database\\.readReplicas: .+ keeps SQLite inside its backend: there is no PostgreSQL server to replicate; remove this key$`))]);
  });
});
