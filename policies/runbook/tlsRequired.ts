import type { StackValidationPolicy } from "@pulumi/policy";
import * as checks from "./checks";
import type { RequirementsData } from "./requirements";
import { requirementPolicy } from "./rules";

export const tlsRequired = (data: RequirementsData): StackValidationPolicy =>
  requirementPolicy(
    "runbook-tls-required",
    "The proxy terminates TLS where the runbook serves the app over https, and redirects plain http to it. Without it, sessions and credentials cross the network in clear text.",
    checks.tls,
    data,
  );
