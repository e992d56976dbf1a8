import type { ResourceValidationPolicy } from "@pulumi/policy";
import { FARGATE_TYPES, tagOf } from "./view";

const TLS_1_2_OR_LATER = /^ELBSecurityPolicy-(TLS13-1-[23]-|TLS-1-2-|FS-1-2-)/;

export const fargateHttpsOnly: ResourceValidationPolicy = {
  name: "fargate-load-balancer-https-only",
  description:
    "The load balancer serves the app over HTTPS with TLS 1.2 or later only. Plain HTTP only redirects to HTTPS, as the runbooks' nginx does.",
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
