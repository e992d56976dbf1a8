import type { Policies } from "@pulumi/policy";
import type { RequirementsData } from "../runbook/requirements";
import { fargateRunbookRequirements } from "./requirements";
import { fargateDatabaseSafe } from "./databaseSafe";
import { fargateHealthcheckRequired } from "./healthcheckRequired";
import { fargateHttpsOnly } from "./httpsOnly";
import { fargateImageTagPinned } from "./imageTagPinned";
import { fargateLogRetention } from "./logRetention";
import { fargateLogsCollected } from "./logsCollected";
import { fargateMemoryLimitRequired } from "./memoryLimitRequired";
import { fargateRateLimited } from "./rateLimited";
import { fargateRestoreTested } from "./restoreTested";
import { fargateRolloutSafe } from "./rolloutSafe";
import { fargateSecretsByReference } from "./secretsByReference";

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
  fargateRestoreTested,
  fargateHttpsOnly,
  fargateRateLimited,
  fargateLogRetention,
  fargateRunbookRequirements(data),
];
