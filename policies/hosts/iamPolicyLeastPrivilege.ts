import type { PolicyConfigSchema, ResourceValidationPolicy } from "@pulumi/policy";
import { settings } from "../lib";
import { HOST_TYPES } from "./types";

const configSchema: PolicyConfigSchema = {
  properties: {
    forbiddenActions: {
      type: "array",
      items: { type: "string" },
      default: ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:DeleteBucket", "s3:PutLifecycleConfiguration", "s3:PutBucketVersioning", "s3:PutBucketPolicy", "s3:PutObjectRetention", "s3:BypassGovernanceRetention"],
      description: "Actions that delete backups or lift what protects them (versioning, retention, lifecycle).",
    },
    allowedManagedPolicies: {
      type: "array",
      items: { type: "string" },
      default: ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"],
      description: "Managed policies a role may carry (Systems Manager's agent).",
    },
    serviceRolePolicies: {
      type: "array",
      items: { type: "string" },
      default: ["arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy", "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup", "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores"],
      description:
        "AWS service-role policies the roles of an app on ECS Fargate may carry (ECS's task execution: image pulls and log writes; AWS Backup's: its snapshots, and its test restores). Only ecs-tasks and backup.amazonaws.com assume those roles, never a host.",
    },
  },
};

/** The URN type of the component that owns an app on ECS Fargate (components/fargate). */
const FARGATE_APP = "runbook:fargate:FargateApp";

type Statement = { Effect?: string; Action?: string | string[]; NotAction?: unknown };

function statementsOf(text: unknown): Statement[] | undefined {
  if (typeof text !== "string") return typeof text === "object" && text !== null ? statementsOf(JSON.stringify(text)) : undefined;
  try {
    const doc = JSON.parse(text) as { Statement?: Statement | Statement[] };
    return doc.Statement === undefined ? [] : Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  } catch {
    return undefined;
  }
}

/** The runbooks keep backups (daily, 30 and 90 days): a host's credentials must not be able to erase them. */
export const iamPolicyLeastPrivilege: ResourceValidationPolicy = {
  name: "hosts-iam-policy-least-privilege",
  description:
    "IAM policies name their actions: no wildcard action, no NotAction, and no action that deletes backups or lifts their protection. Roles carry no managed policy but Systems Manager's. A compromised host may write backups, but must never be able to erase them.",
  configSchema,
  validateResource: (args, report) => {
    const cfg = settings<{ forbiddenActions: string[]; allowedManagedPolicies: string[]; serviceRolePolicies: string[] }>(configSchema, args);
    const props = args.props as Record<string, unknown>;
    if (args.type === HOST_TYPES.rolePolicyAttachment) {
      const arn = String(props["policyArn"] ?? "");
      // A URN names its parents' types: `...::runbook:fargate:FargateApp$aws:iam/...`; the parent's own ends in `FargateApp::<name>`.
      const ofFargateApp = (args.opts.parent ?? "").split("::")[2]?.split("$").pop() === FARGATE_APP;
      if (ofFargateApp && cfg.serviceRolePolicies.includes(arn)) return;
      if (!cfg.allowedManagedPolicies.includes(arn)) report(`${args.name}: attaches ${arn}; a host's role carries only ${cfg.allowedManagedPolicies.join(", ")}.`);
      return;
    }
    const documents: [string, unknown][] = [];
    if (args.type === HOST_TYPES.rolePolicy || args.type === HOST_TYPES.policy) documents.push(["the policy", props["policy"]]);
    if (args.type === HOST_TYPES.role) {
      for (const p of (props["inlinePolicies"] as { name?: string; policy?: unknown }[] | undefined) ?? []) documents.push([`inline policy ${p.name ?? "?"}`, p.policy]);
    }
    const forbidden = cfg.forbiddenActions.map((a) => a.toLowerCase());
    for (const [where, text] of documents) {
      const statements = statementsOf(text);
      if (!statements) {
        report(`${args.name}: ${where} is not a JSON policy document.`);
        continue;
      }
      statements.forEach((s, i) => {
        if (s.Effect !== "Allow") return;
        if (s.NotAction !== undefined) report(`${args.name}: ${where}, statement ${i}, allows NotAction: every action but those named; name the actions instead.`);
        for (const action of typeof s.Action === "string" ? [s.Action] : (s.Action ?? [])) {
          if (action.includes("*")) report(`${args.name}: ${where}, statement ${i}, allows the wildcard action ${action}; name each action.`);
          else if (forbidden.includes(action.toLowerCase())) report(`${args.name}: ${where}, statement ${i}, allows ${action}, which deletes backups or lifts their protection.`);
        }
      });
    }
  },
};
