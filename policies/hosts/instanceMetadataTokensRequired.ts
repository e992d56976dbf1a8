import type { PolicyConfigSchema, ResourceValidationPolicy } from "@pulumi/policy";
import { settings } from "../lib";
import { HOST_TYPES } from "./types";

const configSchema: PolicyConfigSchema = {
  properties: {
    maxHopLimit: {
      type: "integer",
      minimum: 1,
      maximum: 64,
      default: 1,
      description: "The largest metadata response hop limit: 1 keeps containers (one hop further) away from the instance role.",
    },
  },
};

/** The instance role can write backups: its credentials must not be one request away from a container. */
export const instanceMetadataTokensRequired: ResourceValidationPolicy = {
  name: "hosts-instance-metadata-tokens-required",
  description:
    "Every instance requires IMDSv2 session tokens for its metadata service, with a response hop limit of 1. A request forged through an application (SSRF) or made from a container must not reach the instance role's credentials or the user data.",
  configSchema,
  validateResource: (args, report) => {
    if (args.type !== HOST_TYPES.instance) return;
    const { maxHopLimit } = settings<{ maxHopLimit: number }>(configSchema, args);
    const m = (args.props as { metadataOptions?: { httpTokens?: string; httpPutResponseHopLimit?: number } }).metadataOptions;
    if (m?.httpTokens !== "required") report(`${args.name}: metadataOptions.httpTokens is ${m?.httpTokens ?? "unset (optional)"}; it must be "required" (IMDSv2).`);
    const hops = m?.httpPutResponseHopLimit;
    if (hops === undefined || hops > maxHopLimit) report(`${args.name}: metadataOptions.httpPutResponseHopLimit is ${hops ?? "unset"}; it must be at most ${maxHopLimit}.`);
  },
};
