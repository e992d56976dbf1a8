import type { StackValidationPolicy } from "@pulumi/policy";
import type { RequirementsData } from "../runbook/requirements";
import { requirementPolicy } from "../runbook/rules";
import { rotation } from "./checks";

/** FairLens "Quarterly: Review and rotate secrets/keys": the runbook's own period, per app. */
export const rotationPeriodRunbook = (data: RequirementsData): StackValidationPolicy =>
  requirementPolicy(
    "secrets-rotation-period-runbook",
    "Each generated secret rotates at least as often as the app's runbook asks (FairLens: quarterly, every 90 days). A longer period leaves a leaked key usable for longer than the runbook allows.",
    rotation,
    data,
  );
