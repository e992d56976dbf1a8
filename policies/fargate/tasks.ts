/**
 * The container rules of a Docker host, for ECS task definitions: a health check that probes (every
 * long-running service; a one-off task is judged by its exit code), a hard memory limit, a pinned
 * image, secrets only by reference to Secrets Manager, and logs to CloudWatch Logs.
 */
import type { PolicyConfigSchema, ResourceValidationPolicy, ReportViolation, ResourceValidationArgs } from "@pulumi/policy";
import { settings } from "../lib";
import { containersOf, FARGATE_TYPES, ONE_OFF_SERVICES, tagOf, type EcsContainer } from "./view";

/** A validation of ECS task definitions only, container by container. */
function forTaskContainers(check: (c: EcsContainer, args: ResourceValidationArgs, report: ReportViolation) => void) {
  return (args: ResourceValidationArgs, report: ReportViolation) => {
    if (args.type !== FARGATE_TYPES.taskDefinition) return;
    const containers = containersOf(args.props);
    if (containers.length === 0) report(`Task definition ${args.name} has no container definitions the pack can read (a JSON list).`);
    for (const c of containers) check(c, args, report);
  };
}

const NO_OPS = new Set(["true", ":", "exit 0", "/bin/true", "/usr/bin/true", "echo ok"]);

export const fargateHealthcheckRequired: ResourceValidationPolicy = {
  name: "fargate-container-healthcheck-required",
  description:
    "Every container of a long-running ECS service has a health check that probes it, as on a Docker host: ECS replaces an unhealthy task, and a rollout waits for the new tasks to be healthy. One-off tasks (migrations) are judged by their exit code.",
  validateResource: forTaskContainers((c, args, report) => {
    if (ONE_OFF_SERVICES.includes(tagOf(args, "runbook.service") ?? "")) return;
    const command = (c.healthCheck?.command ?? []).slice(1).join(" ").trim();
    if (!c.healthCheck || command === "" || (c.healthCheck.command ?? [])[0] === "NONE") {
      report(`Container ${c.name ?? "?"} of ${args.name} has no health check; give it a CMD or CMD-SHELL probe.`);
    } else if (NO_OPS.has(command.replace(/;$/, ""))) {
      report(`Container ${c.name ?? "?"} of ${args.name} has a health check that always passes (\`${command}\`); make it probe the service.`);
    }
  }),
};

export const fargateMemoryLimitRequired: ResourceValidationPolicy = {
  name: "fargate-container-memory-limit-required",
  description: "Every container of an ECS task has a hard memory limit (`memory`), the runbook's limit, as `docker --memory` on a Docker host: a leak ends that container, not its neighbours.",
  validateResource: forTaskContainers((c, args, report) => {
    if (!(typeof c.memory === "number" && c.memory > 0)) report(`Container ${c.name ?? "?"} of ${args.name} has no hard memory limit; set \`memory\` (MiB).`);
  }),
};

const tagConfig: PolicyConfigSchema = {
  properties: { forbiddenTags: { type: "array", items: { type: "string" }, default: ["latest", "main", "master", "stable"], description: "Moving tags that are refused." } },
};

export const fargateImageTagPinned: ResourceValidationPolicy = {
  name: "fargate-image-tag-pinned",
  description: "Every ECS container image is a pinned tag or digest, never a moving tag: a task ECS starts tomorrow (a scale-out, a replaced task) runs the image of today's release.",
  configSchema: tagConfig,
  validateResource: forTaskContainers((c, args, report) => {
    const { forbiddenTags } = settings<{ forbiddenTags: string[] }>(tagConfig, args);
    const ref = c.image ?? "";
    if (ref.includes("@sha256:")) return;
    const last = ref.slice(ref.lastIndexOf("/") + 1);
    const tag = last.includes(":") ? last.slice(last.indexOf(":") + 1) : undefined;
    if (tag === undefined) report(`Container ${c.name ?? "?"} of ${args.name} runs ${ref} without a tag (latest); pin a version tag or a digest.`);
    else if (forbiddenTags.includes(tag)) report(`Container ${c.name ?? "?"} of ${args.name} runs the moving tag "${tag}" of ${ref}; pin a version tag or a digest.`);
  }),
};

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
    "An ECS task gets its secrets only by reference (`secrets` with a Secrets Manager ARN), never as plain `environment`: a task definition's environment is readable by anyone who may describe it, and stays in every revision.",
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

export const fargateLogsCollected: ResourceValidationPolicy = {
  name: "fargate-container-logs-collected",
  description: "Every ECS container logs to CloudWatch Logs (the awslogs driver, a group and a stream prefix): a stopped task's output is otherwise gone, and the runbooks read logs first.",
  validateResource: forTaskContainers((c, args, report) => {
    const options = c.logConfiguration?.options ?? {};
    if (c.logConfiguration?.logDriver !== "awslogs" || !options["awslogs-group"] || !options["awslogs-stream-prefix"]) {
      report(`Container ${c.name ?? "?"} of ${args.name} does not log to CloudWatch Logs; use the awslogs driver with a group and a stream prefix.`);
    }
  }),
};
