import type { StackValidationPolicy } from "@pulumi/policy";
import { appViews } from "./appView";
import type { RequirementsData } from "./requirements";

/** An app the pack has no requirements for could break every line of its runbook unnoticed. */
export const requirementsKnown = (data: RequirementsData): StackValidationPolicy => ({
  name: "runbook-requirements-known",
  description:
    "Every app a stack deploys has its runbook requirements in the policy pack. An app added to the catalog without regenerating policies/requirements.json would be checked against nothing.",
  validateStack: (args, report) => {
    for (const app of appViews(args.resources)) {
      if (!data[app.id]) {
        report(`${app.id}: the policy pack has no runbook requirements for this app; run \`npm run generate:requirements\` and commit policies/requirements.json.`, app.containers[0]?.urn);
      }
    }
  },
});
