/**
 * The network of a Fargate app: its security groups (the public reaches only the load balancer's 443
 * and 80; the tasks only from the load balancer; the database and cache only from the tasks) and the
 * Application Load Balancer that replaces nginx: HTTPS with the stack's ACM certificate, HTTP
 * redirected to it, one target group per HTTP service, the routing of listenerRules.ts.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AppSpec } from "../../config/spec";
import type { FargateSpec } from "../../config/fargate";
import { planListener, type ListenerAction, type Target } from "./listenerRules";

/** TLS 1.3 and 1.2 only (the ALB's policies, "Security policies for your Application Load Balancer"). */
export const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

const ANYWHERE = { cidrBlocks: ["0.0.0.0/0"], ipv6CidrBlocks: ["::/0"] };

/**
 * What the load balancer's health check accepts from a service's health path. 2xx, except for an app
 * that validates the Host header (Django's ALLOWED_HOSTS): the load balancer's probe carries the
 * task's IP as Host and no X-Forwarded-Proto, so Django answers 400 (DisallowedHost) or 301
 * (SECURE_SSL_REDIRECT) however healthy it is. For such an app the probe proves the task answers
 * HTTP on its port, and the container's own health check, which sends the app's host name, decides
 * whether the task is healthy: ECS replaces a task whose container check fails, and a rollout counts it.
 */
export function targetHealthMatcher(env: Readonly<Record<string, string>>): string {
  return env["ALLOWED_HOSTS"] !== undefined ? "200-299,301,400" : "200-299";
}

export interface FargateNetwork {
  readonly albSecurityGroup: aws.ec2.SecurityGroup;
  readonly tasksSecurityGroup: aws.ec2.SecurityGroup;
  readonly dataSecurityGroup: aws.ec2.SecurityGroup;
  readonly loadBalancer: aws.lb.LoadBalancer;
  readonly targetGroups: Readonly<Partial<Record<Target, aws.lb.TargetGroup>>>;
  readonly https: aws.lb.Listener;
  /** The listener's rules: a target group a rule forwards to is attached to the load balancer only once the rule exists. */
  readonly rules: readonly aws.lb.ListenerRule[];
}

export function deployNetwork(name: string, app: AppSpec & { readonly fargate: FargateSpec }, parent: pulumi.Resource): FargateNetwork {
  const fargate = app.fargate;
  const child = { parent };
  const tags = { "runbook.app": app.id, "runbook.environment": app.environment };
  const ports: Partial<Record<Target, number>> = { backend: app.backend.port, ...(app.frontend && { frontend: app.frontend.port }) };

  const albSecurityGroup = new aws.ec2.SecurityGroup(
    `${name}-alb-sg`,
    {
      vpcId: fargate.vpcId,
      description: `${app.id}: the load balancer, open to the world on 443 and 80 only`,
      ingress: [
        { protocol: "tcp", fromPort: 443, toPort: 443, ...ANYWHERE, description: "HTTPS" },
        { protocol: "tcp", fromPort: 80, toPort: 80, ...ANYWHERE, description: "HTTP, redirected to HTTPS" },
      ],
      egress: [{ protocol: "tcp", fromPort: 0, toPort: 65535, cidrBlocks: ["0.0.0.0/0"], description: "to the tasks (their group admits only this one)" }],
      tags: { ...tags, "runbook.role": "load-balancer" },
    },
    child,
  );
  const tasksSecurityGroup = new aws.ec2.SecurityGroup(
    `${name}-tasks-sg`,
    {
      vpcId: fargate.vpcId,
      description: `${app.id}: the tasks, reached only from the load balancer`,
      ingress: Object.entries(ports).map(([service, port]) => ({ protocol: "tcp", fromPort: port, toPort: port, securityGroups: [albSecurityGroup.id], description: `${service} from the load balancer` })),
      // Image pulls, Secrets Manager, the database and the app's own third parties.
      egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], description: "out: registries, AWS APIs, database, third parties" }],
      tags: { ...tags, "runbook.role": "tasks" },
    },
    child,
  );
  const dataPorts = [app.database.engine === "postgres" ? app.database.port : 5432, ...(app.cache ? [app.cache.port] : [])];
  const dataSecurityGroup = new aws.ec2.SecurityGroup(
    `${name}-data-sg`,
    {
      vpcId: fargate.vpcId,
      description: `${app.id}: the database and cache, reached only from the app's tasks`,
      ingress: dataPorts.map((port) => ({ protocol: "tcp", fromPort: port, toPort: port, securityGroups: [tasksSecurityGroup.id], description: "from the app's tasks" })),
      egress: [],
      tags: { ...tags, "runbook.role": "data" },
    },
    child,
  );

  const loadBalancer = new aws.lb.LoadBalancer(
    `${name}-alb`,
    {
      loadBalancerType: "application",
      internal: false,
      subnets: [...fargate.publicSubnetIds],
      securityGroups: [albSecurityGroup.id],
      // Requests with header names nginx would refuse are dropped, not passed on.
      dropInvalidHeaderFields: true,
      enableDeletionProtection: app.protectState,
      idleTimeout: 60,
      tags,
    },
    child,
  );

  const targetGroups: Partial<Record<Target, aws.lb.TargetGroup>> = {};
  const services: [Target, { port: number; healthPath: string }][] = [["backend", app.backend], ...(app.frontend ? [["frontend", app.frontend] as [Target, { port: number; healthPath: string }]] : [])];
  for (const [service, svc] of services) {
    targetGroups[service] = new aws.lb.TargetGroup(
      `${name}-${service}-tg`,
      {
        vpcId: fargate.vpcId,
        targetType: "ip",
        protocol: "HTTP",
        port: svc.port,
        healthCheck: { path: svc.healthPath, matcher: targetHealthMatcher(service === "backend" ? app.backend.env : {}), interval: 15, timeout: 5, healthyThreshold: 2, unhealthyThreshold: 3 },
        // A task being replaced gets 30 s to finish its requests before it is stopped.
        deregistrationDelay: 30,
        tags: { ...tags, "runbook.service": service },
      },
      child,
    );
  }

  const plan = planListener({
    routes: app.proxy.routes,
    healthEndpoints: app.proxy.healthEndpoints,
    privatePaths: app.backend.metricsPath !== undefined ? [app.backend.metricsPath] : [],
    maintenance: app.proxy.maintenance,
    appName: app.displayName,
  });
  const action = (a: ListenerAction) =>
    a.kind === "forward"
      ? { type: "forward", targetGroupArn: targetGroups[a.target]!.arn }
      : { type: "fixed-response", fixedResponse: { statusCode: String(a.status), contentType: a.contentType, messageBody: a.body } };

  const https = new aws.lb.Listener(
    `${name}-https`,
    { loadBalancerArn: loadBalancer.arn, port: 443, protocol: "HTTPS", sslPolicy: TLS_POLICY, certificateArn: fargate.certificateArn, defaultActions: [action(plan.defaultAction)], tags },
    child,
  );
  new aws.lb.Listener(
    `${name}-http`,
    { loadBalancerArn: loadBalancer.arn, port: 80, protocol: "HTTP", defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }], tags },
    child,
  );
  const rules = plan.rules.map(
    (rule) =>
      new aws.lb.ListenerRule(
      `${name}-rule-${rule.priority}`,
        { listenerArn: https.arn, priority: rule.priority, conditions: [{ pathPattern: { values: [...rule.paths] } }], actions: [action(rule.action)], tags },
        child,
      ),
  );
  return { albSecurityGroup, tasksSecurityGroup, dataSecurityGroup, loadBalancer, targetGroups, https, rules };
}
