import type { PolicyConfigSchema, ResourceValidationPolicy } from "@pulumi/policy";
import { forContainers, settings } from "../lib";

const configSchema: PolicyConfigSchema = {
  properties: {
    allowed: {
      type: "array",
      items: { type: "string", enum: ["always", "unless-stopped", "on-failure"] },
      minItems: 1,
      default: ["unless-stopped", "always"],
      description: "Restart policies that count.",
    },
  },
};

/** FDTS "Application Down": restart the service; a restart policy does it without a person. */
export const restartPolicyRequired: ResourceValidationPolicy = {
  name: "app-container-restart-policy-required",
  description:
    "Every long-running container restarts by itself after a crash or a host reboot. The runbooks' first response to an application down is to restart it.",
  configSchema,
  validateResource: forContainers((props, args, report) => {
    const { allowed } = settings<{ allowed: string[] }>(configSchema, args);
    const restart = props.restart ?? "no";
    if (!allowed.includes(restart)) {
      report(`Container ${args.name} has restart policy "${restart}"; use one of ${allowed.join(", ")}.`);
    }
  }),
};
