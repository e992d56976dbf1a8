import type { StackValidationPolicy } from "@pulumi/policy";
import { backupChecks } from "../backup";
import * as secrets from "../secrets/checks";
import * as checks from "./checks";
import type { RequirementsData } from "./requirements";
import { stagingParityPolicy, type RequirementCheck } from "./rules";

/** The requirement checks of the areas' own policy folders: staging is measured against them too. */
const areaChecks: RequirementCheck[] = [
  // Backups:
  ...Object.values(backupChecks),
  // Secret rotation:
  secrets.rotation,
];

/** Every check, with production's values, on stacks that are not production; the pack config makes it advisory. */
export const stagingParity = (data: RequirementsData): StackValidationPolicy =>
  stagingParityPolicy(
    "runbook-staging-parity",
    "A staging stack is measured against production's runbook requirements wherever the runbook sets no staging rule of its own. The findings are advice: staging may be smaller, but a reviewer should see how far it is from production.",
    [...Object.values(checks), ...areaChecks],
    data,
  );
