/**
 * The pack's contents and its default enforcement level, shared by the entry file (which alone
 * constructs the PolicyPack, for the Pulumi CLI) and the project's in-process runner. Keeping
 * them in one module is what makes the offline plan enforce exactly what the CLI does.
 * Per-stack levels live in config/<stack>.json, passed with --policy-pack-config.
 */
import type { EnforcementLevel, Policies } from "@pulumi/policy";
import * as app from "./app";
import { backupPolicies } from "./backup";
import * as capacity from "./capacity";
import { fargatePolicies } from "./fargate";
import * as firewall from "./firewall";
import * as hosts from "./hosts";
import { monitoringPolicies } from "./monitoring";
import requirements from "./requirements.json";
import { runbookPolicies, type RequirementsData } from "./runbook";
import * as releases from "./releases";
import { secretsPolicies } from "./secrets";

export const PACK_NAME = "runbook-policies";

/** A policy no stack config mentions is mandatory: a runbook requirement, unless a stack relaxes it. */
export const PACK_ENFORCEMENT_LEVEL: EnforcementLevel = "mandatory";

/** Each catalog app's runbook requirements, generated from the catalog (`npm run generate:requirements`). */
export const REQUIREMENTS: RequirementsData = requirements as RequirementsData;

/** The general rules every app follows, then each app's own runbook requirements. */
export function buildPolicies(data: RequirementsData): Policies {
  return [
    app.healthcheckRequired,
    app.restartPolicyRequired,
    app.memoryLimitRequired,
    app.logRotationRequired,
    app.imageTagPinned,
    app.databasePortNotPublished,
    app.hostPortProxyOnly,
    app.volumeProtected,
    app.secretEnv,
    app.deployStepsOrdered,
    ...runbookPolicies(data),
    // Backups: policies of that area go below this line.
    ...backupPolicies(data),

    // Monitoring and alerts: policies of that area go below this line.
    ...monitoringPolicies(data),

    // Hosts and firewall: policies of that area go below this line.
    firewall.ingressPublicWebOnly,
    firewall.sshAdminOnly,
    firewall.privatePortsClosed,
    hosts.volumeEncrypted,
    hosts.instanceMetadataTokensRequired,
    hosts.iamPolicyLeastPrivilege,
    hosts.sshHostKeyPinned,

    // Secret rotation: policies of that area go below this line.
    ...secretsPolicies(data),

    // Releases and rollback: policies of that area go below this line.
    releases.imageKeptLocally,

    // Maintenance, scaling and diagnostics: policies of that area go below this line.
    capacity.hostMemory,

    // Adoption: policies of that area go below this line.

    // Container orchestration (apps on ECS Fargate):
    ...fargatePolicies(data),

  ];
}

export const policies: Policies = buildPolicies(REQUIREMENTS);
