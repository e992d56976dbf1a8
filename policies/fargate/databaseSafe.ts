import type { ResourceValidationPolicy } from "@pulumi/policy";
import { FARGATE_TYPES, tagOf } from "./view";

export const fargateDatabaseSafe: ResourceValidationPolicy = {
  name: "fargate-database-safe",
  description:
    "An app's RDS database is never public and always encrypted. In prod it cannot be deleted by accident (deletion protection, a protected resource), leaves a final snapshot, and keeps at least 7 days of point-in-time backups.",
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
