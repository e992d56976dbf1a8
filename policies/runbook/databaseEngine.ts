import type { StackValidationPolicy } from "@pulumi/policy";
import * as checks from "./checks";
import type { RequirementsData } from "./requirements";
import { requirementPolicy } from "./rules";

export const databaseEngine = (data: RequirementsData): StackValidationPolicy =>
  requirementPolicy(
    "runbook-database-engine",
    "The app runs the database engine and major version its runbook names. Backups, restores and migrations in the runbook are written for that engine and version.",
    checks.database,
    data,
  );
