import type { ResourceValidationPolicy } from "@pulumi/policy";
import { tagOf } from "./view";

export const fargateLogRetention: ResourceValidationPolicy = {
  name: "fargate-log-group-retention",
  description:
    "An app's CloudWatch Logs group expires its lines instead of keeping them forever. The runbooks keep thirty days of logs.",
  validateResource: (args, report) => {
    if (args.type !== "aws:cloudwatch/logGroup:LogGroup" || tagOf(args, "runbook.app") === undefined) return;
    const days = args.props["retentionInDays"] as number | undefined;
    if (!(typeof days === "number" && days > 0)) report(`Log group ${args.name} keeps its lines forever; set retentionInDays (30 for the runbooks' log retention).`);
  },
};
