/** The secret rotation area's policies: randomness, rotation periods, no plain text, Secrets Manager under a customer key. */
import type { Policies } from "@pulumi/policy";
import type { RequirementsData } from "../runbook/requirements";
import { generatedMinBytes } from "./generatedMinBytes";
import { managerCustomerKey } from "./managerCustomerKey";
import { rotationPeriodMax } from "./rotationPeriodMax";
import { rotationPeriodRunbook } from "./rotationPeriodRunbook";
import { valueNotPlaintext } from "./valueNotPlaintext";

export * from "./kinds";
export { generatedMinBytes, managerCustomerKey, rotationPeriodMax, rotationPeriodRunbook, valueNotPlaintext };

export function secretsPolicies(data: RequirementsData): Policies {
  return [generatedMinBytes(data), rotationPeriodMax, rotationPeriodRunbook(data), valueNotPlaintext, managerCustomerKey];
}
