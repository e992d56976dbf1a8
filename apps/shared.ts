/**
 * Infrastructure services several apps run the same way: the pinned images live here, so a
 * PostgreSQL or Redis upgrade is one edit for the whole catalog.
 */
import type { PostgresDefinition, RedisDefinition, ResourceLimits } from "./types";

const POSTGRES_IMAGE = { image: "postgres", tag: "16.4-alpine" } as const;
const REDIS_IMAGE = { image: "redis", tag: "7.4-alpine" } as const;

export function postgres(database: string, user: string, limits: ResourceLimits = { cpus: 1, memoryMb: 2048 }): PostgresDefinition {
  return { engine: "postgres", ...POSTGRES_IMAGE, database, user, port: 5432, limits };
}

/**
 * @param optional the runbook calls Redis optional: off unless a stack turns it on
 * @param persistent Redis holds data the app needs after a restart (sessions, a job queue); a cache
 *   only when false
 */
export function redis(optional: boolean, persistent: boolean, limits: ResourceLimits = { cpus: 0.5, memoryMb: 512 }): RedisDefinition {
  return { engine: "redis", ...REDIS_IMAGE, port: 6379, limits, optional, persistent };
}
