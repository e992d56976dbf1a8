/** The monitoring policies: alert rules against each app's runbook thresholds, routing, UIs. */
import type { Policies } from "@pulumi/policy";
import type { RequirementsData } from "../runbook/requirements";
import { alertsRunbookThresholds } from "./alertsRunbookThresholds";
import { routingCriticalReceiver } from "./routingCriticalReceiver";
import { uiLoopbackOnly } from "./uiLoopbackOnly";

export * from "./signals";

export function monitoringPolicies(data: RequirementsData): Policies {
  return [alertsRunbookThresholds(data), routingCriticalReceiver, uiLoopbackOnly];
}
