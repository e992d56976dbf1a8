import type { StackValidationPolicy } from "@pulumi/policy";
import type { RequirementsData } from "../runbook/requirements";
import { requirementPolicy } from "../runbook/rules";
import { externalProbes } from "./probeChecks";

export const externalProbesRunbook = (data: RequirementsData): StackValidationPolicy =>
  requirementPolicy(
    "monitoring-external-probes-runbook",
    "Every third-party service an app's runbook checks by hand (FairLens's Algorand node, Handwork's Stripe, PayPal and Firebase) is probed by the app's blackbox exporter, with an alert when it stops answering. Without the probe nobody notices the service is unreachable from the host until users do.",
    externalProbes,
    data,
  );
