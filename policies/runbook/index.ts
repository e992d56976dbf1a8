/** The runbook-requirement policies, built from the requirements data the pack ships. */
import type { StackValidationPolicy } from "@pulumi/policy";
import { cacheOnly } from "./cacheOnly";
import { databaseEngine } from "./databaseEngine";
import { healthChecksProbe } from "./healthChecksProbe";
import { healthGateEndpoints } from "./healthGateEndpoints";
import { limitsMinimum } from "./limitsMinimum";
import { metricsNotPublic } from "./metricsNotPublic";
import { migrationCommand } from "./migrationCommand";
import { replicasMinimum } from "./replicasMinimum";
import type { RequirementsData } from "./requirements";
import { requirementsKnown } from "./requirementsKnown";
import { secretEnvDeclared } from "./secretEnvDeclared";
import { secretFormats } from "./secretFormats";
import { servicesPrivate } from "./servicesPrivate";
import { stagingParity } from "./stagingParity";
import { tlsRequired } from "./tlsRequired";

export * from "./requirements";

export function runbookPolicies(data: RequirementsData): StackValidationPolicy[] {
  return [
    requirementsKnown(data),
    replicasMinimum(data),
    limitsMinimum(data),
    healthChecksProbe(data),
    healthGateEndpoints(data),
    migrationCommand(data),
    tlsRequired(data),
    databaseEngine(data),
    servicesPrivate(data),
    cacheOnly(data),
    metricsNotPublic(data),
    secretFormats(data),
    secretEnvDeclared(data),
    stagingParity(data),
  ];
}
