/**
 * PostgreSQL streaming read replicas (FairLens runbook "Horizontal Scaling": "Database: Read replicas
 * for read-heavy workloads"; LMS runbook "Database Scaling": "Read Replicas: For read-heavy
 * workloads"): `apps.<id>.database.readReplicas`, how many hot standbys of the app's PostgreSQL run
 * beside it (none by default). The schema of the key, its cross-field rule (SQLite apps have no
 * server to replicate) and its default.
 */
import { z } from "zod";
import { catalog } from "../apps";
import type { RawProblem } from "./schema";

export const READ_REPLICAS_DEFAULT = 0;

/**
 * At most 4: while they clone, every replica's `pg_basebackup -X stream` holds two WAL senders, and
 * PostgreSQL's default `max_wal_senders` is 10 (the primary's settings are left as the image has them).
 */
export const READ_REPLICAS_MAX = 4;

export const readReplicasSchema = z
  .number({ error: `must be a whole number from 0 to ${READ_REPLICAS_MAX}` })
  .int({ error: `must be a whole number from 0 to ${READ_REPLICAS_MAX}` })
  .min(0, { error: "must be at least 0" })
  .max(READ_REPLICAS_MAX, { error: `must be at most ${READ_REPLICAS_MAX}: each replica's clone holds two of the primary's 10 WAL senders` });

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** `database.readReplicas` on an app whose database is SQLite inside its backend: refused, naming the key. */
export function readReplicasProblems(raw: unknown): RawProblem[] {
  const apps = isObject(raw) && isObject(raw["apps"]) ? raw["apps"] : {};
  const problems: RawProblem[] = [];
  for (const [appId, app] of Object.entries(apps)) {
    const def = catalog[appId];
    if (!def || def.database.engine !== "sqlite") continue;
    const database = isObject(app) ? app["database"] : undefined;
    if (isObject(database) && "readReplicas" in database) {
      problems.push({
        path: ["apps", appId, "database", "readReplicas"],
        message: `${def.displayName} keeps SQLite inside its backend: there is no PostgreSQL server to replicate; remove this key`,
      });
    }
  }
  return problems;
}

/** The resolved number of read replicas of a PostgreSQL app. */
export const resolveReadReplicas = (database: { readonly readReplicas?: number } | undefined): number => database?.readReplicas ?? READ_REPLICAS_DEFAULT;
