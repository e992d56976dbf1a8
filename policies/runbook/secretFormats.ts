import type { StackValidationPolicy } from "@pulumi/policy";
import * as checks from "./checks";
import type { RequirementsData } from "./requirements";
import { requirementPolicy } from "./rules";

export const secretFormats = (data: RequirementsData): StackValidationPolicy =>
  requirementPolicy(
    "runbook-secret-formats",
    "Each generated secret carries at least the randomness of the runbook's own command (openssl rand -base64 64 is 64 random bytes). A shorter or weaker secret is easier to guess than the runbook allows.",
    checks.secrets,
    data,
  );
