/**
 * The request rate limit of a Fargate app: what nginx's `limit_req` does on a Docker host
 * (`proxy.rateLimit`, per client address, health endpoints left out, 429 when exceeded), as an AWS WAF
 * web ACL on the load balancer.
 *
 * WAF counts differently from nginx: nginx meters each address's requests continuously (a leaky bucket
 * of `requestsPerSecond` with `burst` extra at once), WAF counts each address's requests over a
 * window looking back from now and blocks once the count passes the limit, checking every few
 * seconds ("Rate-based rule high-level settings in AWS WAF": windows of 60, 120, 300 or 600 s; the
 * lowest limit 10; "applies rate limiting near the limit that you set, but does not guarantee an
 * exact limit match"). The shortest window is used, and the limit is what nginx lets through in it:
 * `requestsPerSecond * 60 + burst`. An address that sends its minute's worth in the first seconds
 * passes where nginx would refuse past the burst; one that goes on past the limit is refused within
 * seconds, as with nginx.
 *
 * Rule 0 allows the health endpoints nginx does not limit (a terminating Allow: the rate rule never
 * counts them); rule 1 counts every other request by source address and answers 429 past the limit.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AppSpec } from "../../config/spec";
import { maintenanceOpenEndpoints } from "../app/nginxConfig";

/** The shortest window WAF offers: the closest to nginx's per-second metering. */
export const RATE_WINDOW_SECONDS = 60;

/** Requests one address may make in RATE_WINDOW_SECONDS: what nginx's limit lets through in that time. */
export function wafRateLimit(rateLimit: AppSpec["proxy"]["rateLimit"]): number {
  return Math.max(10, rateLimit.requestsPerSecond * RATE_WINDOW_SECONDS + rateLimit.burst);
}

const visibility = (metricName: string) => ({ cloudwatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true });

export function deployRateLimit(name: string, app: AppSpec, loadBalancerArn: pulumi.Input<string>, parent: pulumi.Resource): { readonly acl: aws.wafv2.WebAcl; readonly association: aws.wafv2.WebAclAssociation } {
  const open = maintenanceOpenEndpoints(app.proxy);
  const exactPath = (path: string) => ({
    byteMatchStatement: { fieldToMatch: { uriPath: {} }, positionalConstraint: "EXACTLY", searchString: path, textTransformations: [{ priority: 0, type: "NONE" }] },
  });
  const rules: aws.types.input.wafv2.WebAclRule[] = [
    ...(open.length > 0
      ? [
          {
            name: "health-endpoints",
            priority: 0,
            action: { allow: {} },
            statement: open.length === 1 ? exactPath(open[0]!) : { orStatement: { statements: open.map(exactPath) } },
            visibilityConfig: visibility(`${app.id}-health-endpoints`),
          },
        ]
      : []),
    {
      name: "rate-limit",
      priority: 1,
      action: { block: { customResponse: { responseCode: 429 } } },
      statement: { rateBasedStatement: { aggregateKeyType: "IP", evaluationWindowSec: RATE_WINDOW_SECONDS, limit: wafRateLimit(app.proxy.rateLimit) } },
      visibilityConfig: visibility(`${app.id}-rate-limit`),
    },
  ];
  const acl = new aws.wafv2.WebAcl(
    `${name}-waf`,
    {
      scope: "REGIONAL",
      description: `${app.id}: the request rate limit nginx keeps on a Docker host (proxy.rateLimit)`,
      defaultAction: { allow: {} },
      rules,
      visibilityConfig: visibility(`${app.id}-waf`),
      tags: { "runbook.app": app.id, "runbook.environment": app.environment },
    },
    { parent },
  );
  const association = new aws.wafv2.WebAclAssociation(`${name}-waf-alb`, { resourceArn: loadBalancerArn, webAclArn: acl.arn }, { parent });
  return { acl, association };
}
