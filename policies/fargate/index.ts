import type { Policies } from "@pulumi/policy";
import type { RequirementsData } from "../runbook/requirements";
import { fargateRunbookRequirements } from "./requirements";
import { fargateDatabaseSafe, fargateHttpsOnly, fargateLogRetention, fargateRolloutSafe } from "./services";
import { fargateHealthcheckRequired, fargateImageTagPinned, fargateLogsCollected, fargateMemoryLimitRequired, fargateSecretsByReference } from "./tasks";

export { rdsClassSize } from "./rdsClasses";

/** The policies of apps on ECS Fargate: the container rules, rollouts, data, TLS, logs, and the runbooks' numbers. */
export const fargatePolicies = (data: RequirementsData): Policies => [
  fargateHealthcheckRequired,
  fargateMemoryLimitRequired,
  fargateImageTagPinned,
  fargateSecretsByReference,
  fargateLogsCollected,
  fargateRolloutSafe,
  fargateDatabaseSafe,
  fargateHttpsOnly,
  fargateLogRetention,
  fargateRunbookRequirements(data),
];
