/**
 * FargateApp: an app of the catalog on ECS Fargate, the scale-out target ARCHITECTURE.md names
 * ("the same AppStack spec targets AWS ECS on Fargate"). The same spec as AppStack: images, replicas,
 * limits, health checks, secrets and migrations. What a Docker host does, here:
 *  - containers -> one ECS service per backend, frontend and worker, each task one container with
 *    the runbook's limits and health check, rolled without downtime (100 % stay healthy while the
 *    new tasks start; a deployment that never gets healthy rolls back by itself);
 *  - nginx -> an Application Load Balancer (loadBalancer.ts), its rate limit an AWS WAF web ACL
 *    (rateLimit.ts); PostgreSQL and Redis -> RDS and
 *    ElastiCache (dataServices.ts);
 *  - deploy steps -> the pre-deploy RDS snapshot, then the migrations and the release task as one-off
 *    tasks of the new release, before any service moves to it; then the health gate through the
 *    load balancer with the app's host name (deployScripts.ts, healthGate.ts);
 *  - secrets -> Secrets Manager, read by ECS at task start through the execution role, which may read
 *    those secrets only; json-file logs -> CloudWatch Logs, kept 30 days.
 */
import { createHash } from "node:crypto";
import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { AppSpec } from "../../config/spec";
import type { FargateSpec } from "../../config/fargate";
import { httpHealthcheck, probeHeaders, shellHealthcheck, type HealthcheckSpec } from "../app/containerDefaults";
import type { ResourceLimits } from "../../apps/types";
import type { AppSecrets } from "../secrets/appSecrets";
import { SecretStore } from "../secrets/secretStore";
import { renderContainerDefinitions } from "./containerDefinitions";
import { deployDataServices, type FargateData } from "./dataServices";
import { renderOneOffTaskScript, renderSnapshotScript } from "./deployScripts";
import { deployAutoscaling, deployReleaseChecks } from "./releaseSteps";
import { deployNetwork, type FargateNetwork } from "./loadBalancer";
import { deployRateLimit } from "./rateLimit";
import { fargateTaskSize } from "./taskSize";
import { FargateAlarms } from "./alarms";

export const FARGATE_RUNTIME = {
  /** CloudWatch Logs retention: the runbooks' 30 days of logs. */
  logRetentionDays: 30,
  /** A one-off task (migrations) may run this long before it is stopped and the release fails. */
  oneOffTimeoutSeconds: 1800,
  oneOffPollSeconds: 10,
  /** Seconds after a task starts before the load balancer's failing checks count against it. */
  healthCheckGraceSeconds: 60,
} as const;

/** The variable of a backend task that names its secrets' versions (not a secret: a hash of version ids). */
export const SECRETS_REVISION_VARIABLE = "RUNBOOK_SECRETS_REVISION";

export interface FargateAppArgs {
  readonly app: AppSpec & { readonly fargate: FargateSpec };
  readonly secrets: AppSecrets;
  readonly project: string;
  readonly stack: string;
}

/** One long-running service of the app on Fargate. */
interface ServiceSpec {
  readonly key: string;
  readonly service: string;
  readonly image: string;
  readonly replicas: number;
  readonly limits: ResourceLimits;
  readonly health: HealthcheckSpec;
  readonly port?: number;
  readonly command?: readonly string[];
  readonly target?: "backend" | "frontend";
  readonly backendEnv: boolean;
}

export class FargateApp extends pulumi.ComponentResource {
  public readonly cluster: aws.ecs.Cluster;
  public readonly network: FargateNetwork;
  /** nginx's request rate limit, as an AWS WAF web ACL on the load balancer (rateLimit.ts). */
  public readonly rateLimit: ReturnType<typeof deployRateLimit>;
  public readonly data: FargateData;
  /** Every secret the tasks read, in Secrets Manager (SecretStore): names for break-glass reads. */
  public readonly store: SecretStore;
  public readonly services: Readonly<Record<string, aws.ecs.Service>>;
  public readonly taskDefinitions: Readonly<Record<string, aws.ecs.TaskDefinition>>;
  /** The deploy steps, in the order they run: pre-deploy snapshot, one-off tasks, health gate. */
  public readonly preDeployBackup: command.local.Command;
  public readonly oneOffs: readonly command.local.Command[];
  public readonly healthGate: command.local.Command;
  /** Before the health gate: each service runs this release's task definition, its rollout completed. */
  public readonly releaseCheck: command.local.Command;
  /** `https://<domain>`, and the load balancer's DNS name the domain must point at. */
  public readonly endpoint: string;
  public readonly loadBalancerDns: pulumi.Output<string>;
  /** The CloudWatch Logs group of every task. */
  public readonly logGroupName: string;
  public readonly alarms: FargateAlarms;

  constructor(name: string, args: FargateAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook:fargate:FargateApp", name, {}, opts);
    const { app } = args;
    const child = { parent: this };
    const tags = { "runbook.app": app.id, "runbook.environment": app.environment };

    this.network = deployNetwork(name, app, this);
    this.rateLimit = deployRateLimit(name, app, this.network.loadBalancer.arn, this);
    const credentials = args.secrets.database;
    if (!credentials) throw new Error(`\`app.database\`: ${app.id} has no PostgreSQL credentials; Fargate apps use PostgreSQL`);
    this.data = deployDataServices(name, app, { securityGroup: this.network.dataSecurityGroup, password: credentials.bootstrapPassword }, this);

    this.cluster = new aws.ecs.Cluster(`${name}-cluster`, { settings: [{ name: "containerInsights", value: "enabled" }], tags }, child);
    this.logGroupName = `/runbook/${args.project}/${args.stack}/${app.id}`;
    const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, { name: this.logGroupName, retentionInDays: FARGATE_RUNTIME.logRetentionDays, tags }, child);

    // The backend's secret environment (the app's generated and external secrets, the database and cache
    // URLs), in Secrets Manager under the app's rotating key: what the tasks read, and break-glass reads too.
    const secretValues: Record<string, pulumi.Output<string>> = { ...args.secrets.env, DATABASE_URL: this.data.databaseUrl, ...(this.data.redisUrl && { REDIS_URL: this.data.redisUrl }) };
    this.store = new SecretStore(
      `${name}-secret-store`,
      {
        app: app.id,
        project: args.project,
        stack: args.stack,
        environment: app.environment,
        secrets: Object.entries(secretValues).map(([variable, value]) => ({ name: variable, value })),
        recoveryWindowDays: app.rotation.recoveryWindowDays,
      },
      child,
    );
    const secretArns = this.store.arns;
    const secretVersions = this.store.versions;

    const assume = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" }] });
    const executionRole = new aws.iam.Role(`${name}-execution-role`, { assumeRolePolicy: assume, tags }, child);
    new aws.iam.RolePolicyAttachment(`${name}-execution-managed`, { role: executionRole.name, policyArn: "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy" }, child);
    new aws.iam.RolePolicy(
      `${name}-execution-secrets`,
      {
        role: executionRole.id,
        policy: pulumi.all([Object.values(secretArns), this.store.key.arn]).apply(([arns, key]) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [...arns].sort() },
              { Effect: "Allow", Action: ["kms:Decrypt"], Resource: [key] },
            ],
          }),
        ),
      },
      child,
    );
    // The app's code gets a role with no permissions: it calls nothing of AWS.
    const taskRole = new aws.iam.Role(`${name}-task-role`, { assumeRolePolicy: assume, tags }, child);

    const region = logGroup.arn.apply((arn) => arn.split(":")[3]!);
    // ECS reads secrets when a task starts, and a task definition names them by ARN, which a rotation
    // keeps. So the secrets' current version ids go into the backend's task definitions: a rotation is a
    // new revision, which every service rolls out (as a changed env replaces a Docker container).
    const secretsRevision = pulumi
      .all(secretVersions.map((v) => v.versionId))
      .apply((ids) => createHash("sha256").update(ids.map((id) => id ?? "").join("\n")).digest("hex").slice(0, 16));
    const probe = probeHeaders({ publicHost: app.publicHost, proxy: { tls: true } });
    // The backend's kind (backend, worker, one-off task) reads the backend's env and its secrets; the frontend neither.
    const taskDefinition = (
      key: string,
      spec: { image: string; limits: ResourceLimits; health?: HealthcheckSpec; port?: number; command?: readonly string[]; backendEnv: boolean; oneOff?: boolean },
    ) => {
      const env = spec.backendEnv ? { ...app.backend.env } : { ...app.frontend!.env };
      const size = fargateTaskSize(spec.limits);
      const secrets = spec.backendEnv ? secretArns : {};
      return new aws.ecs.TaskDefinition(
        `${name}-${key}-task`,
        {
          family: `${app.id}-${app.environment}-${key}`,
          requiresCompatibilities: ["FARGATE"],
          networkMode: "awsvpc",
          cpu: String(size.cpu),
          memory: String(size.memory),
          runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
          executionRoleArn: executionRole.arn,
          taskRoleArn: taskRole.arn,
          // Older revisions stay registered: the one a rolled-back rollout returned to keeps running and
          // scaling, and `pulumi up` never deregisters what a service still runs (ecs/taskDefinition.d.ts skipDestroy).
          skipDestroy: true,
          containerDefinitions: pulumi.all([pulumi.output(secrets), region, logGroup.name, secretsRevision]).apply(([arns, r, group, revision]) =>
            renderContainerDefinitions({
              name: key,
              image: spec.image,
              ...(spec.port !== undefined && { port: spec.port }),
              ...(spec.command && { command: spec.command }),
              // A one-off task reads the current secrets when it starts; only long-running services must roll.
              env: spec.backendEnv && !spec.oneOff ? { ...env, [SECRETS_REVISION_VARIABLE]: revision } : env,
              secrets: arns,
              ...(spec.health && { health: spec.health }),
              limits: spec.limits,
              logs: { group, region: r, streamPrefix: key },
            }),
          ),
          tags: { ...tags, "runbook.service": key },
        },
        child,
      );
    };

    const services: ServiceSpec[] = [
      {
        key: "backend",
        service: "backend",
        image: app.backend.image,
        replicas: app.backend.replicas,
        limits: app.backend.limits,
        health: httpHealthcheck(app.backend.runtime, app.backend.port, app.backend.healthPath, probe),
        port: app.backend.port,
        target: "backend",
        backendEnv: true,
      },
      ...(app.frontend
        ? [{ key: "frontend", service: "frontend", image: app.frontend.image, replicas: app.frontend.replicas, limits: app.frontend.limits, health: httpHealthcheck(app.frontend.runtime, app.frontend.port, app.frontend.healthPath, probe), port: app.frontend.port, target: "frontend" as const, backendEnv: false }]
        : []),
      ...app.workers.map((w) => ({ key: `worker-${w.name}`, service: `worker:${w.name}`, image: app.backend.image, replicas: w.replicas, limits: w.limits, health: shellHealthcheck(w.healthcheck), command: w.command, backendEnv: true })),
    ];

    // Deploy steps: the pre-deploy snapshot whenever an image changes, then each one-off task of the release.
    const images = [...new Set(services.map((s) => s.image))].sort();
    this.preDeployBackup = new command.local.Command(
      `${name}-pre-deploy-snapshot`,
      {
        create: renderSnapshotScript(),
        environment: { DB_INSTANCE: this.data.database.identifier, DB_ARN: this.data.database.arn, SNAPSHOT_PREFIX: `${app.id}-${app.environment}-pre-deploy` },
        interpreter: ["/bin/sh", "-c"],
        triggers: images,
        logging: "stdoutAndStderr",
      },
      { parent: this, dependsOn: [this.data.database] },
    );
    const oneOffSpecs = [
      ...(app.backend.migrationCommand ? [{ key: "migrate", what: "migrations", command: app.backend.migrationCommand }] : []),
      ...(app.backend.releaseTask ? [{ key: "release-task", what: "release task", command: app.backend.releaseTask }] : []),
    ];
    const oneOffs: command.local.Command[] = [];
    let after: pulumi.Resource[] = [this.preDeployBackup, ...secretVersions, ...(this.data.cache ? [this.data.cache] : [])];
    for (const o of oneOffSpecs) {
      const definition = taskDefinition(o.key, { image: app.backend.image, limits: app.backend.limits, command: o.command, backendEnv: true, oneOff: true });
      const step = new command.local.Command(
        `${name}-${o.key}`,
        {
          create: renderOneOffTaskScript({ what: o.what, container: o.key, logGroup: this.logGroupName, streamPrefix: o.key, timeoutSeconds: FARGATE_RUNTIME.oneOffTimeoutSeconds, pollSeconds: FARGATE_RUNTIME.oneOffPollSeconds }),
          environment: {
            CLUSTER: this.cluster.arn,
            TASK_DEFINITION: definition.arn,
            SUBNETS: app.fargate.privateSubnetIds.join(","),
            SECURITY_GROUP: this.network.tasksSecurityGroup.id,
          },
          interpreter: ["/bin/sh", "-c"],
          // A new revision (a new image, a changed secret ARN or setting) runs it again.
          triggers: [definition.arn],
          logging: "stdoutAndStderr",
        },
        { parent: this, dependsOn: [...after, definition, this.data.database] },
      );
      oneOffs.push(step);
      after = [step];
    }
    this.oneOffs = oneOffs;

    const taskDefinitions: Record<string, aws.ecs.TaskDefinition> = {};
    const ecsServices: Record<string, aws.ecs.Service> = {};
    for (const s of services) {
      const definition = taskDefinition(s.key, { image: s.image, limits: s.limits, health: s.health, ...(s.port !== undefined && { port: s.port }), ...(s.command && { command: s.command }), backendEnv: s.backendEnv });
      taskDefinitions[s.key] = definition;
      const autoscaled = s.key === "backend" && app.fargate.autoscaling !== undefined;
      ecsServices[s.key] = new aws.ecs.Service(
        `${name}-${s.key}`,
        {
          cluster: this.cluster.arn,
          taskDefinition: definition.arn,
          desiredCount: s.replicas,
          launchType: "FARGATE",
          platformVersion: "LATEST",
          networkConfiguration: { subnets: [...app.fargate.privateSubnetIds], securityGroups: [this.network.tasksSecurityGroup.id], assignPublicIp: false },
          ...(s.target && {
            loadBalancers: [{ targetGroupArn: this.network.targetGroups[s.target]!.arn, containerName: s.key, containerPort: s.port! }],
            healthCheckGracePeriodSeconds: FARGATE_RUNTIME.healthCheckGraceSeconds,
          }),
          // Zero downtime: every old task serves until its replacement is healthy; a release that never is rolls back.
          deploymentMinimumHealthyPercent: 100,
          deploymentMaximumPercent: 200,
          deploymentCircuitBreaker: { enable: true, rollback: true },
          // `pulumi up` waits for the deployment to reach its steady state (and fails if it rolls back).
          waitForSteadyState: true,
          propagateTags: "SERVICE",
          enableExecuteCommand: false,
          tags: { ...tags, "runbook.service": s.service },
        },
        // With autoscaling, AWS owns the running count; `up` must not reset it to the replicas.
        // ECS refuses a service whose target group no listener uses yet: after the listener and its rules.
        { parent: this, dependsOn: [...after, this.network.https, ...this.network.rules], ...(autoscaled && { ignoreChanges: ["desiredCount"] }) },
      );
    }
    this.taskDefinitions = taskDefinitions;
    this.services = ecsServices;

    if (app.fargate.autoscaling) deployAutoscaling(name, { cluster: this.cluster, backend: ecsServices["backend"]!, floor: app.backend.replicas, ...app.fargate.autoscaling }, this);

    // Then the release check and the health gate through the load balancer (releaseSteps.ts).
    this.loadBalancerDns = this.network.loadBalancer.dnsName;
    const steps = deployReleaseChecks(name, { app, cluster: this.cluster, services: ecsServices, taskDefinitions, loadBalancerDns: this.loadBalancerDns }, this);
    this.releaseCheck = steps.releaseCheck;
    this.healthGate = steps.healthGate;
    this.endpoint = `https://${app.publicHost}`;

    this.alarms = new FargateAlarms(`${name}-alarms`, { app, network: this.network, data: this.data, cluster: this.cluster, services: ecsServices }, child);
    this.registerOutputs({ endpoint: this.endpoint, loadBalancerDns: this.loadBalancerDns });
  }
}
