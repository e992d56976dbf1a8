/**
 * What keeps a Fargate app up and its data safe: rollouts without downtime that fail `pulumi up`
 * when they do not get healthy, tasks without public addresses, a database that is private,
 * encrypted and (in prod) hard to delete, HTTPS only at the load balancer, and logs that expire.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { FARGATE_TYPES, tagOf } from "./view";

export const fargateRolloutSafe: ResourceValidationPolicy = {
  name: "fargate-service-rollout-safe",
  description:
    "Every ECS service rolls out as a Docker host's release does: the old tasks serve until the new ones are healthy (minimum healthy 100 %), a rollout that never gets healthy rolls back (the circuit breaker), `pulumi up` waits for the steady state and fails with it, and no task has a public address.",
  validateResource: (args, report) => {
    if (args.type !== FARGATE_TYPES.service) return;
    const p = args.props as {
      deploymentMinimumHealthyPercent?: number;
      deploymentCircuitBreaker?: { enable?: boolean; rollback?: boolean };
      waitForSteadyState?: boolean;
      networkConfiguration?: { assignPublicIp?: boolean };
    };
    if ((p.deploymentMinimumHealthyPercent ?? 100) < 100) report(`Service ${args.name} lets ${100 - p.deploymentMinimumHealthyPercent!}% of its tasks stop before their replacements are healthy; set deploymentMinimumHealthyPercent to 100.`);
    if (!p.deploymentCircuitBreaker?.enable || !p.deploymentCircuitBreaker.rollback) report(`Service ${args.name} does not roll back a rollout that never gets healthy; enable the deployment circuit breaker with rollback.`);
    if (p.waitForSteadyState !== true) report(`Service ${args.name} does not make \`pulumi up\` wait for its rollout; set waitForSteadyState.`);
    if (p.networkConfiguration?.assignPublicIp === true) report(`Service ${args.name} gives its tasks public addresses; they are reached only through the load balancer.`);
  },
};

export const fargateDatabaseSafe: ResourceValidationPolicy = {
  name: "fargate-database-safe",
  description:
    "An app's RDS database is never public and always encrypted; in prod it cannot be deleted by accident (deletion protection, the resource protected), leaves a final snapshot, and keeps at least 7 days of point-in-time backups.",
  validateResource: (args, report) => {
    if (args.type !== FARGATE_TYPES.rdsInstance || tagOf(args, "runbook.app") === undefined) return;
    const p = args.props as { publiclyAccessible?: boolean; storageEncrypted?: boolean; deletionProtection?: boolean; skipFinalSnapshot?: boolean; backupRetentionPeriod?: number };
    if (p.publiclyAccessible === true) report(`Database ${args.name} is publicly accessible; the runbooks reach their database only from inside.`);
    if (p.storageEncrypted !== true) report(`Database ${args.name} is not encrypted at rest; set storageEncrypted.`);
    if (tagOf(args, "runbook.environment") !== "prod") return;
    if (p.deletionProtection !== true) report(`Database ${args.name} (prod) has no deletion protection.`);
    if (!args.opts.protect) report(`Database ${args.name} (prod) is not a protected resource; a \`pulumi destroy\` would delete it.`);
    if (p.skipFinalSnapshot === true) report(`Database ${args.name} (prod) would be deleted without a final snapshot.`);
    if ((p.backupRetentionPeriod ?? 0) < 7) report(`Database ${args.name} (prod) keeps ${p.backupRetentionPeriod ?? 0} days of point-in-time backups; at least 7.`);
  },
};

const TLS_1_2_OR_LATER = /^ELBSecurityPolicy-(TLS13-1-[23]-|TLS-1-2-|FS-1-2-)/;

export const fargateHttpsOnly: ResourceValidationPolicy = {
  name: "fargate-load-balancer-https-only",
  description: "The load balancer serves the app over HTTPS with TLS 1.2 or later only; plain HTTP only redirects to HTTPS (the runbooks' nginx: 80 redirects, 443 serves).",
  validateResource: (args, report) => {
    if (args.type !== FARGATE_TYPES.listener || tagOf(args, "runbook.app") === undefined) return;
    const p = args.props as { protocol?: string; sslPolicy?: string; defaultActions?: { type?: string; redirect?: { protocol?: string } }[] };
    if (p.protocol === "HTTP") {
      const redirects = (p.defaultActions ?? []).length === 1 && p.defaultActions![0]!.type === "redirect" && p.defaultActions![0]!.redirect?.protocol === "HTTPS";
      if (!redirects) report(`Listener ${args.name} serves plain HTTP; its only action must redirect to HTTPS.`);
    } else if (p.protocol === "HTTPS") {
      if (!TLS_1_2_OR_LATER.test(p.sslPolicy ?? "")) report(`Listener ${args.name} allows TLS older than 1.2 (policy ${p.sslPolicy ?? "the default"}); use ELBSecurityPolicy-TLS13-1-2-2021-06 or another TLS 1.2+ policy.`);
    } else {
      report(`Listener ${args.name} uses ${p.protocol ?? "no protocol"}; an app's load balancer listens on HTTPS, and on HTTP only to redirect.`);
    }
  },
};

export const fargateLogRetention: ResourceValidationPolicy = {
  name: "fargate-log-group-retention",
  description: "An app's CloudWatch Logs group expires its lines (the runbooks keep 30 days of logs), never keeping them forever.",
  validateResource: (args, report) => {
    if (args.type !== "aws:cloudwatch/logGroup:LogGroup" || tagOf(args, "runbook.app") === undefined) return;
    const days = args.props["retentionInDays"] as number | undefined;
    if (!(typeof days === "number" && days > 0)) report(`Log group ${args.name} keeps its lines forever; set retentionInDays (30 for the runbooks' log retention).`);
  },
};
