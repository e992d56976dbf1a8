/**
 * `apps.<id>.database.pooler`: off unless enabled, its defaults written out (a changed default fails),
 * and every problem on the key that is wrong, SQLite apps refused.
 */
import { describe, expect, it } from "vitest";
import { MAX_POOL_SIZE, POOLER_DEFAULTS } from "../../config/pooler";
import { parseStackConfig } from "../../config/resolve";
import { problemsOf } from "../helpers";

const stack = (app: string, database: unknown) => {
  const cfg: Record<string, unknown> = { backend: { tag: "1.0.0" }, database };
  if (["fairlens", "reference", "handwork"].includes(app)) cfg["frontend"] = { tag: "1.0.0" };
  return { environment: "prod", apps: { [app]: cfg } };
};
const dbOf = (app: string, database: unknown) => parseStackConfig(stack(app, database)).apps[0]!.database;

describe("apps.<id>.database.pooler", () => {
  it.each(["lms", "fairlens", "reference"])("is off for %s unless the stack enables it, even when other pooler keys are set", (app) => {
    const off = dbOf(app, undefined);
    expect(off.engine === "postgres" && off.pooler).toBeUndefined();
    const notEnabled = dbOf(app, { pooler: { poolMode: "transaction", defaultPoolSize: 5 } });
    expect(notEnabled.engine === "postgres" && notEnabled.pooler).toBeUndefined();
    expect(POOLER_DEFAULTS.enabled).toBe(false);
  });

  it("defaults to session pooling, 20 server connections, 200 clients and a pinned PgBouncer image on 6432", () => {
    const db = dbOf("lms", { pooler: { enabled: true } });
    expect(db.engine === "postgres" && db.pooler).toEqual({
      image: "edoburu/pgbouncer:v1.24.1-p0",
      poolMode: "session",
      defaultPoolSize: 20,
      maxClientConn: 200,
      port: 6432,
      limits: { cpus: 0.5, memoryMb: 128 },
    });
    expect(POOLER_DEFAULTS.image).toMatch(/:v\d+\.\d+\.\d+-p\d+$/);
  });

  it("takes the stack's pool mode, pool size and client limit", () => {
    const db = dbOf("lms", { pooler: { enabled: true, poolMode: "transaction", defaultPoolSize: 5, maxClientConn: 40 } });
    expect(db.engine === "postgres" && db.pooler).toMatchObject({ poolMode: "transaction", defaultPoolSize: 5, maxClientConn: 40 });
  });

  it.each([
    ["fdts", "runbook:apps.fdts.database.pooler: FDTS uses SQLite inside the backend: there are no PostgreSQL connections for PgBouncer to pool; remove this key"],
    ["handwork", "runbook:apps.handwork.database.pooler: Handwork Marketplace uses SQLite inside the backend: there are no PostgreSQL connections for PgBouncer to pool; remove this key"],
  ])("refuses a pooler on %s, a SQLite app, naming the key", (app, message) => {
    const problems = problemsOf(stack(app, { pooler: { enabled: true } }));
    expect(problems).toContain(message);
  });

  it.each([
    [{ enabled: "yes" }, "runbook:apps.lms.database.pooler.enabled: must be true or false"],
    [{ enabled: true, poolMode: "statement" }, "runbook:apps.lms.database.pooler.poolMode: must be session or transaction (session works with every Django setting; transaction needs DISABLE_SERVER_SIDE_CURSORS)"],
    [{ enabled: true, defaultPoolSize: 0 }, "runbook:apps.lms.database.pooler.defaultPoolSize: must be at least 1"],
    [
      { enabled: true, defaultPoolSize: MAX_POOL_SIZE + 1 },
      `runbook:apps.lms.database.pooler.defaultPoolSize: must be at most ${MAX_POOL_SIZE}: PostgreSQL admits 100 connections, and migrations, backups and the role step connect directly`,
    ],
    [{ enabled: true, defaultPoolSize: 2.5 }, "runbook:apps.lms.database.pooler.defaultPoolSize: must be a whole number of server connections"],
    [{ enabled: true, maxClientConn: 10 }, "runbook:apps.lms.database.pooler.maxClientConn: maxClientConn (10) must be at least defaultPoolSize (20): a pool is filled by clients"],
    [{ enabled: true, defaultPoolSize: 30, maxClientConn: 20 }, "runbook:apps.lms.database.pooler.maxClientConn: maxClientConn (20) must be at least defaultPoolSize (30): a pool is filled by clients"],
    [{ enabled: true, maxPool: 3 }, "runbook:apps.lms.database.pooler.maxPool: unknown key"],
  ])("refuses %j, naming the key", (pooler, message) => {
    expect(problemsOf(stack("lms", { pooler }))).toEqual([message]);
  });
});
