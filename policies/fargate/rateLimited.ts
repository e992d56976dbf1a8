import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { FARGATE_TYPES, tagOf } from "./view";

interface WafRule {
  readonly action?: { readonly block?: unknown };
  readonly statement?: { readonly rateBasedStatement?: { readonly limit?: number; readonly aggregateKeyType?: string } };
}

/** Whether a web ACL has a rule that blocks an address past a rate. */
const limitsRate = (acl: PolicyResource): boolean =>
  ((acl.props["rules"] as readonly WafRule[] | undefined) ?? []).some((r) => r.action?.block !== undefined && r.statement?.rateBasedStatement?.aggregateKeyType === "IP" && typeof r.statement.rateBasedStatement.limit === "number");

export const fargateRateLimited: StackValidationPolicy = {
  name: "fargate-load-balancer-rate-limited",
  description:
    "Each Fargate app's load balancer has an AWS WAF web ACL that blocks a client address past its request rate. The runbooks' nginx limits every address's requests.",
  validateStack: (args, report) => {
    const balancers = args.resources.filter((r) => r.type === FARGATE_TYPES.loadBalancer && tagOf(r, "runbook.app") !== undefined);
    const associations = args.resources.filter((r) => r.type === FARGATE_TYPES.webAclAssociation);
    for (const lb of balancers) {
      const acls = associations.filter((a) => a.dependencies.some((d) => d.urn === lb.urn)).flatMap((a) => a.dependencies.filter((d) => d.type === FARGATE_TYPES.webAcl));
      if (!acls.some(limitsRate)) {
        report(`Load balancer ${lb.name} (app ${tagOf(lb, "runbook.app")}) has no AWS WAF web ACL blocking a client address past a request rate; nginx's proxy.rateLimit has no other place on Fargate.`);
      }
    }
  },
};
