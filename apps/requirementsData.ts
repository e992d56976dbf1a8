/**
 * The catalog's runbook requirements as the policy pack ships them (policies/requirements.json):
 * one entry per app, with the names of every secret variable its containers carry. Pure; written
 * to disk by `npm run generate:requirements`, and kept in step by test/apps/requirements.test.ts.
 */
import type { AppRequirementsEntry, RequirementsData } from "./requirements";
import { secretVariableNames } from "./secretSlots";
import type { AppDefinition } from "./types";

/** Where the pack reads it, relative to the repository root. */
export const REQUIREMENTS_FILE = "policies/requirements.json";
export const REGENERATE_COMMAND = "npm run generate:requirements";

/**
 * Every secret variable an app's containers carry: its own (previous slots included), and those the program makes (PostgreSQL's, read replicas' included;
 * Grafana's admin password and the PostgreSQL exporter's connection URL where the app is monitored, and the
 * PgBouncer exporter's where its pooler is on too).
 */
export function secretEnvNames(app: AppDefinition): string[] {
  const own = secretVariableNames(app.backend.secretEnv);
  // Read replicas (`database.readReplicas`): the URL backends read them by, and the replicas' replication password.
  const postgres = app.database.engine === "postgres" ? ["DATABASE_URL", "POSTGRES_PASSWORD", "DATA_SOURCE_NAME", "DATABASE_REPLICA_URL", "PGPASSWORD", "PGBOUNCER_EXPORTER_CONNECTION_STRING"] : [];
  return [...own, ...postgres, "GF_SECURITY_ADMIN_PASSWORD"].sort();
}

export function requirementsData(catalog: Readonly<Record<string, AppDefinition>>): RequirementsData {
  const entries = Object.keys(catalog)
    .sort()
    .map((id): [string, AppRequirementsEntry] => {
      const app = catalog[id]!;
      return [id, { displayName: app.displayName, runbook: app.runbook, secretEnv: secretEnvNames(app), requirements: app.requirements }];
    });
  return Object.fromEntries(entries);
}

/** The file's text: stable key order, so a diff shows only what changed. */
export function renderRequirementsFile(catalog: Readonly<Record<string, AppDefinition>>): string {
  return `${JSON.stringify(requirementsData(catalog), null, 2)}\n`;
}
