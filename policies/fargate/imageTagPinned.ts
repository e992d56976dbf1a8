import type { PolicyConfigSchema, ResourceValidationPolicy } from "@pulumi/policy";
import { imageTag, settings } from "../lib";
import { forTaskContainers } from "./taskContainers";

const tagConfig: PolicyConfigSchema = {
  properties: { forbiddenTags: { type: "array", items: { type: "string" }, default: ["latest", "main", "master", "stable"], description: "Moving tags that are refused." } },
};

export const fargateImageTagPinned: ResourceValidationPolicy = {
  name: "fargate-image-tag-pinned",
  description:
    "Every ECS container image is a pinned tag or digest, never a moving tag. A task that ECS starts tomorrow (a scale-out, a replaced task) must run the image of today's release.",
  configSchema: tagConfig,
  validateResource: forTaskContainers((c, args, report) => {
    const { forbiddenTags } = settings<{ forbiddenTags: string[] }>(tagConfig, args);
    const ref = c.image ?? "";
    const tag = imageTag(ref);
    if (tag === null) return;
    if (tag === undefined) report(`Container ${c.name ?? "?"} of ${args.name} runs ${ref} without a tag (latest); pin a version tag or a digest.`);
    else if (forbiddenTags.includes(tag)) report(`Container ${c.name ?? "?"} of ${args.name} runs the moving tag "${tag}" of ${ref}; pin a version tag or a digest.`);
  }),
};
