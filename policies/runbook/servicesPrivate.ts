import type { StackValidationPolicy } from "@pulumi/policy";
import * as checks from "./checks";
import type { RequirementsData } from "./requirements";
import { requirementPolicy } from "./rules";

export const servicesPrivate = (data: RequirementsData): StackValidationPolicy =>
  requirementPolicy(
    "runbook-services-private",
    "Services the runbook reaches only from inside the host publish no port on it. A published database, cache or worker port is open to the network, whatever the proxy allows.",
    checks.privateServices,
    data,
  );
