import type { PolicyConfigSchema, ResourceValidationPolicy } from "@pulumi/policy";
import { ALWAYS_PASSING_CHECKS, durationSeconds, forContainers, settings } from "../lib";

const configSchema: PolicyConfigSchema = {
  properties: {
    maxIntervalSeconds: { type: "integer", minimum: 1, maximum: 3600, default: 60, description: "Longest allowed interval between two checks." },
  },
};


/** Every runbook checks service health ("docker compose ps ... healthy", "curl -f .../health"). */
export const healthcheckRequired: ResourceValidationPolicy = {
  name: "app-container-healthcheck-required",
  description:
    "Every long-running container has a health check with a test command. The runbooks decide a service is up by its health (docker compose ps shows healthy, curl -f on the health endpoint).",
  configSchema,
  validateResource: forContainers((props, args, report) => {
    const { maxIntervalSeconds } = settings<{ maxIntervalSeconds: number }>(configSchema, args);
    const tests = props.healthcheck?.tests ?? [];
    const command = tests.slice(1).join(" ").trim();
    if (tests.length < 2 || tests[0] === "NONE" || command === "") {
      report(`Container ${args.name} has no health check; give it a test command (CMD or CMD-SHELL).`);
      return;
    }
    // A check that always passes reports a broken service as healthy.
    if (ALWAYS_PASSING_CHECKS.has(command.replace(/;$/, ""))) {
      report(`Container ${args.name} has a health check that always passes (\`${command}\`); make it probe the service.`);
      return;
    }
    const interval = durationSeconds(props.healthcheck?.interval);
    if (interval !== undefined && interval > maxIntervalSeconds) {
      report(`Container ${args.name} checks its health every ${interval}s; at most ${maxIntervalSeconds}s is allowed.`);
    }
  }),
};
