import type { PolicyConfigSchema, ResourceValidationPolicy } from "@pulumi/policy";
import { imageTag, settings, TYPES } from "../lib";

const configSchema: PolicyConfigSchema = {
  properties: {
    forbiddenTags: { type: "array", items: { type: "string" }, default: ["latest", "main", "master", "stable"], description: "Moving tags that are refused." },
  },
};

/** Reference app "Rolling Back": "Identify Previous Stable Version: the SHA or tag of the last known good image". */
export const imageTagPinned: ResourceValidationPolicy = {
  name: "app-image-tag-pinned",
  description:
    "Every image is pulled by a pinned tag or digest, never a moving tag such as latest. A rollback needs the previous version on record, and the same tag must mean the same image on every host.",
  configSchema,
  validateResource: (args, report) => {
    if (args.type !== TYPES.remoteImage) return;
    const { forbiddenTags } = settings<{ forbiddenTags: string[] }>(configSchema, args);
    const ref = String(args.props["name"] ?? "");
    const tag = imageTag(ref);
    if (tag === null) return;
    if (tag === undefined) {
      report(`Image ${ref} has no tag (Docker would pull latest); pin a version tag or a digest.`);
    } else if (forbiddenTags.includes(tag)) {
      report(`Image ${ref} uses the moving tag "${tag}"; pin a version tag or a digest.`);
    }
  },
};
