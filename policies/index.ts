/**
 * The CrossGuard policy pack entry: `pulumi preview --policy-pack policies`.
 * The only place that constructs the PolicyPack (constructing one starts the analyzer's gRPC server).
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_ENFORCEMENT_LEVEL, PACK_NAME, policies } from "./pack";

new PolicyPack(PACK_NAME, {
  description: "Refuses a Runbook as Code stack that breaks a requirement of the operations runbooks it deploys.",
  enforcementLevel: PACK_ENFORCEMENT_LEVEL,
  policies,
});
