/**
 * What follows the services' rollout on Fargate: the backend's CPU autoscaling, the release check (each
 * service runs the revision this release registered: deployScripts.ts) and the health gate through the
 * load balancer with the app's host name (the Docker host's gate script, connecting to the load
 * balancer's DNS name). Both steps re-run whenever a service's revision changes.
 */
import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { AppSpec } from "../../config/spec";
import { renderHealthGateScript } from "../app/healthGate";
import { maintenanceOpenEndpoints } from "../app/nginxConfig";
import { renderReleaseCheckScript } from "./deployScripts";

/** Target tracking on the backend's average CPU, between its replicas (the floor) and the ceiling. */
export function deployAutoscaling(
  name: string,
  args: { readonly cluster: aws.ecs.Cluster; readonly backend: aws.ecs.Service; readonly floor: number; readonly maxReplicas: number; readonly cpuPercent: number },
  parent: pulumi.Resource,
): void {
  const child = { parent };
  const target = new aws.appautoscaling.Target(
    `${name}-backend-scaling`,
    {
      serviceNamespace: "ecs",
      scalableDimension: "ecs:service:DesiredCount",
      resourceId: pulumi.interpolate`service/${args.cluster.name}/${args.backend.name}`,
      minCapacity: args.floor,
      maxCapacity: args.maxReplicas,
    },
    child,
  );
  new aws.appautoscaling.Policy(
    `${name}-backend-cpu`,
    {
      policyType: "TargetTrackingScaling",
      serviceNamespace: target.serviceNamespace,
      scalableDimension: target.scalableDimension,
      resourceId: target.resourceId,
      targetTrackingScalingPolicyConfiguration: {
        predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
        targetValue: args.cpuPercent,
        scaleInCooldown: 300,
        scaleOutCooldown: 60,
      },
    },
    child,
  );
}

export interface ReleaseChecksArgs {
  readonly app: AppSpec;
  readonly cluster: aws.ecs.Cluster;
  readonly services: Readonly<Record<string, aws.ecs.Service>>;
  readonly taskDefinitions: Readonly<Record<string, aws.ecs.TaskDefinition>>;
  readonly loadBalancerDns: pulumi.Output<string>;
}

export function deployReleaseChecks(name: string, args: ReleaseChecksArgs, parent: pulumi.Resource): { releaseCheck: command.local.Command; healthGate: command.local.Command } {
  const { app } = args;
  const services = Object.values(args.services);
  const revisions = Object.values(args.taskDefinitions).map((d) => d.arn);
  // The release check: each service runs this release's revision (a rollout rolled back fails here,
  // on this `up` and on every later one, until a release gets healthy).
  const releaseCheck = new command.local.Command(
    `${name}-release-check`,
    {
      create: renderReleaseCheckScript(),
      environment: {
        CLUSTER: args.cluster.arn,
        SERVICES: pulumi.all(Object.entries(args.services).map(([key, svc]) => pulumi.interpolate`${svc.name}=${args.taskDefinitions[key]!.arn}`)).apply((lines) => lines.join("\n")),
      },
      interpreter: ["/bin/sh", "-c"],
      triggers: revisions,
      logging: "stdoutAndStderr",
    },
    { parent, dependsOn: services },
  );
  // The health gate: every health endpoint through the load balancer, as a browser reaches it.
  const healthGate = new command.local.Command(
    `${name}-health-gate`,
    {
      create: args.loadBalancerDns.apply((dns) =>
        renderHealthGateScript({
          appName: app.id,
          scheme: "https",
          host: app.publicHost,
          port: 443,
          connectTo: dns,
          // During maintenance only the endpoints still routed (the backend's) can answer 2xx.
          endpoints: app.proxy.maintenance ? maintenanceOpenEndpoints(app.proxy) : app.proxy.healthEndpoints,
          attempts: app.healthGate.attempts,
          intervalSeconds: app.healthGate.intervalSeconds,
          containers: [],
        }),
      ),
      interpreter: ["/bin/sh", "-c"],
      triggers: revisions,
      logging: "stdoutAndStderr",
    },
    { parent, dependsOn: [...services, releaseCheck] },
  );
  return { releaseCheck, healthGate };
}
