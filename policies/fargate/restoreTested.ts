import type { StackValidationPolicy } from "@pulumi/policy";
import { FARGATE_TYPES, tagOf } from "./view";

/**
 * The Docker hosts' backups are proved by `verify.sh` restoring them; a Fargate app's by AWS Backup
 * restore testing. Read through dependencies, not ARNs: a database's ARN is unknown in a preview
 * before it exists, and the selection that names it depends on it either way.
 */
export const fargateRestoreTested: StackValidationPolicy = {
  name: "fargate-backups-restore-tested",
  description:
    "Each Fargate app's RDS database is the protected resource of an AWS Backup restore testing selection whose plan restores its newest snapshot from the app's own vault on a schedule. Backups are proved by restoring them, as verify.sh does on a Docker host.",
  validateStack: (args, report) => {
    const databases = args.resources.filter((r) => r.type === FARGATE_TYPES.rdsInstance && tagOf(r, "runbook.app") !== undefined);
    const selections = args.resources.filter((r) => r.type === FARGATE_TYPES.restoreTestingSelection);
    for (const db of databases) {
      const tested = selections.some(
        (s) =>
          s.props["protectedResourceType"] === "RDS" &&
          s.dependencies.some((d) => d.urn === db.urn) &&
          s.dependencies.some(
            (plan) =>
              plan.type === FARGATE_TYPES.restoreTestingPlan &&
              typeof plan.props["scheduleExpression"] === "string" &&
              plan.props["scheduleExpression"] !== "" &&
              // It restores from the app's own vault, where its backup plan puts the snapshots.
              plan.dependencies.some((v) => v.type === FARGATE_TYPES.backupVault && tagOf(v, "runbook.app") === tagOf(db, "runbook.app")),
          ),
      );
      if (!tested) report(`Database ${db.name} (app ${tagOf(db, "runbook.app")}) has no scheduled AWS Backup restore test; its snapshots are never proved restorable.`);
    }
  },
};
