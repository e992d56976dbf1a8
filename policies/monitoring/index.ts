/** The monitoring policies: alert rules against each app's runbook thresholds, probes of the services it checks, routing, UIs. */
import type { Policies } from "@pulumi/policy";
import type { RequirementsData } from "../runbook/requirements";
import { alertsRunbookThresholds } from "./alertsRunbookThresholds";
import { externalProbesRunbook } from "./externalProbesRunbook";
import { routingCriticalReceiver } from "./routingCriticalReceiver";
import { uiLoopbackOnly } from "./uiLoopbackOnly";

export * from "./signals";

export function monitoringPolicies(data: RequirementsData): Policies {
  return [alertsRunbookThresholds(data), externalProbesRunbook(data), routingCriticalReceiver, uiLoopbackOnly];
}
