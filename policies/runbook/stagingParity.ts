import type { StackValidationPolicy } from "@pulumi/policy";
import { backupChecks } from "../backup";
import * as checks from "./checks";
import type { RequirementsData } from "./requirements";
import { stagingParityPolicy } from "./rules";

/** Every check, with production's values, on stacks that are not production; the pack config makes it advisory. */
export const stagingParity = (data: RequirementsData): StackValidationPolicy =>
  stagingParityPolicy(
    "runbook-staging-parity",
    "A staging stack is measured against production's runbook requirements wherever the runbook sets no staging rule of its own. The findings are advice: staging may be smaller, but a reviewer should see how far it is from production.",
    [...Object.values(checks), ...Object.values(backupChecks)],
    data,
  );
