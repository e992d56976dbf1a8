import type { PolicyConfigSchema, ResourceValidationPolicy } from "@pulumi/policy";
import { settings } from "../lib";
import { forTaskContainers } from "./taskContainers";

const secretConfig: PolicyConfigSchema = {
  properties: {
    secretNamePatterns: {
      type: "array",
      items: { type: "string" },
      default: ["SECRET", "PASSWORD", "TOKEN", "API_KEY", "PRIVATE_KEY", "CREDENTIALS", "WEBHOOK_URL", "DATABASE_URL", "REDIS_URL"],
      description: "A variable whose name contains one of these (case-insensitive) is a secret.",
    },
    allowedNames: { type: "array", items: { type: "string" }, default: ["RUNBOOK_SECRETS_REVISION"], description: "Variables named like secrets that hold none (a hash of version ids)." },
  },
};

export const fargateSecretsByReference: ResourceValidationPolicy = {
  name: "fargate-secrets-by-reference",
  description:
    "An ECS task gets its secrets only by reference to Secrets Manager, never as plain environment. A task definition's environment is readable by anyone who may describe it, and it stays in every revision.",
  configSchema: secretConfig,
  validateResource: forTaskContainers((c, args, report) => {
    const { secretNamePatterns, allowedNames } = settings<{ secretNamePatterns: string[]; allowedNames: string[] }>(secretConfig, args);
    const named = (c.environment ?? [])
      .filter((e) => !allowedNames.includes(e.name))
      .filter((e) => secretNamePatterns.some((p) => e.name.toUpperCase().includes(p.toUpperCase())) || /:\/\/[^/@\s:]+:[^/@\s]+@/.test(e.value ?? ""))
      .map((e) => e.name);
    // Names only: a message never carries a value.
    if (named.length > 0) report(`Container ${c.name ?? "?"} of ${args.name} has ${named.join(", ")} in plain environment; pass them as \`secrets\` from Secrets Manager.`);
    for (const s of c.secrets ?? []) {
      if (!/^arn:aws[a-z-]*:(secretsmanager|ssm):/.test(s.valueFrom)) report(`Container ${c.name ?? "?"} of ${args.name} reads ${s.name} from ${s.valueFrom}, which is not a Secrets Manager or SSM ARN.`);
    }
  }),
};
