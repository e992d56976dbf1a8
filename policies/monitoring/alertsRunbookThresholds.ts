import type { StackValidationPolicy } from "@pulumi/policy";
import type { RequirementsData } from "../runbook/requirements";
import { requirementPolicy } from "../runbook/rules";
import { alertThresholds } from "./alertChecks";

export const alertsRunbookThresholds = (data: RequirementsData): StackValidationPolicy =>
  requirementPolicy(
    "monitoring-alerts-runbook-thresholds",
    "Every alert threshold an app's runbook sets has a Prometheus rule that fires at that threshold or below, within the runbook's duration, at its severity or higher. A rule looser than the runbook stays quiet while the runbook's procedure should already be running.",
    alertThresholds,
    data,
  );
