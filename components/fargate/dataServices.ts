/**
 * The state of a Fargate app, as managed services in its private subnets: PostgreSQL on RDS
 * (encrypted, never public, automated backups for point-in-time restore, deletion protection and a
 * final snapshot in prod) with an AWS Backup plan on the app's backup schedule and cloud retention,
 * and a scheduled test restore of its newest snapshot (restoreTesting.ts),
 * and Redis on ElastiCache (encrypted at rest and in transit, with an AUTH token) where the app has one.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { AppSpec } from "../../config/spec";
import { FARGATE_DEFAULTS, type FargateSpec } from "../../config/fargate";
import { rotationKeepers } from "../secrets/rotationWindow";
import { awsBackupCron } from "./awsCron";
import { deployRestoreTesting, type RestoreTesting } from "./restoreTesting";

/** The secret name of a Fargate app's Redis AUTH token (its keepers, rotation periods). */
export const REDIS_AUTH_TOKEN = "REDIS_AUTH_TOKEN";

export interface FargateData {
  readonly database: aws.rds.Instance;
  /** `postgresql://...` of the app's database (a secret). */
  readonly databaseUrl: pulumi.Output<string>;
  readonly cache?: aws.elasticache.ReplicationGroup;
  /** `rediss://...` with the AUTH token (a secret). */
  readonly redisUrl?: pulumi.Output<string>;
  readonly backupPlan: aws.backup.Plan;
  /** The scheduled test restore of the newest snapshot (restoreTesting.ts). */
  readonly restoreTesting: RestoreTesting;
}

/** The catalog image's major version (`postgres:16.4-alpine` -> `16`): RDS then takes the newest minor. */
export function postgresMajor(image: string): string {
  const m = /:(\d+)/.exec(image);
  if (!m) throw new Error(`database image ${JSON.stringify(image)} has no numeric PostgreSQL version tag`);
  return m[1]!;
}

export function deployDataServices(
  name: string,
  app: AppSpec & { readonly fargate: FargateSpec },
  args: { readonly securityGroup: aws.ec2.SecurityGroup; readonly password: pulumi.Output<string> },
  parent: pulumi.Resource,
): FargateData {
  const db = app.database;
  if (db.engine !== "postgres") throw new Error(`\`app.database\`: ${app.id} uses SQLite, which Fargate cannot keep (config/fargate.ts refuses it)`);
  const child = { parent };
  const tags = { "runbook.app": app.id, "runbook.environment": app.environment };
  const state = { parent, protect: app.protectState, retainOnDelete: app.protectState };

  // A final snapshot's name must be new at each deletion: a destroyed and recreated stack would otherwise
  // fail its next deletion on the name the first one left (a suffix made with the instance's stack).
  const finalSuffix = new random.RandomId(`${name}-db-final-snapshot-suffix`, { byteLength: 4 }, child);
  const subnets = new aws.rds.SubnetGroup(`${name}-db-subnets`, { subnetIds: [...app.fargate.privateSubnetIds], tags }, child);
  const database = new aws.rds.Instance(
    `${name}-db`,
    {
      identifierPrefix: `${app.id}-${app.environment}-`,
      engine: "postgres",
      engineVersion: postgresMajor(db.image),
      instanceClass: app.fargate.database.instanceClass,
      allocatedStorage: app.fargate.database.storageGb,
      // Storage grows on its own up to 4x before it fills (the runbooks' "disk full" incident).
      maxAllocatedStorage: app.fargate.database.storageGb * 4,
      storageType: "gp3",
      storageEncrypted: true,
      dbName: db.database,
      username: db.user,
      password: args.password,
      multiAz: app.fargate.database.multiAz,
      publiclyAccessible: false,
      dbSubnetGroupName: subnets.name,
      vpcSecurityGroupIds: [args.securityGroup.id],
      // Point-in-time restore back this many days (RDS keeps automated backups at most 35).
      backupRetentionPeriod: Math.min(FARGATE_DEFAULTS.maxPointInTimeDays, app.backups.cloudRetentionDays),
      copyTagsToSnapshot: true,
      deletionProtection: app.protectState,
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: pulumi.interpolate`${app.id}-${app.environment}-final-${finalSuffix.hex}`,
      autoMinorVersionUpgrade: true,
      tags: { ...tags, "runbook.role": "database" },
    },
    state,
  );
  const databaseUrl = pulumi.secret(pulumi.interpolate`postgresql://${db.user}:${args.password}@${database.address}:${database.port}/${db.database}?sslmode=require`);

  let cache: aws.elasticache.ReplicationGroup | undefined;
  let redisUrl: pulumi.Output<string> | undefined;
  if (app.cache) {
    // Rotates with the app's window (and an incident's generation) like every generated secret. ElastiCache
    // takes a new AUTH token in place with the ROTATE strategy, keeping the old one valid, and the new
    // REDIS_URL rolls every task (fargateApp.ts): no task is left with a token the cache refuses.
    const clock = { now: app.rotation.now, periodDays: app.rotation.periods[REDIS_AUTH_TOKEN] ?? app.rotation.periodDays, generation: app.rotation.generation };
    const token = new random.RandomPassword(
      `${name}-cache-token`,
      { length: 48, special: false, keepers: rotationKeepers({ app: app.id, name: REDIS_AUTH_TOKEN, kind: "database-password" }, clock) },
      child,
    );
    const cacheSubnets = new aws.elasticache.SubnetGroup(`${name}-cache-subnets`, { subnetIds: [...app.fargate.privateSubnetIds], tags }, child);
    const replicated = app.protectState;
    cache = new aws.elasticache.ReplicationGroup(
      `${name}-cache`,
      {
        description: `${app.id} Redis (${app.environment})`,
        engine: "redis",
        engineVersion: "7.1",
        nodeType: app.fargate.cacheNodeType,
        port: app.cache.port,
        numCacheClusters: replicated ? 2 : 1,
        automaticFailoverEnabled: replicated,
        multiAzEnabled: replicated,
        subnetGroupName: cacheSubnets.name,
        securityGroupIds: [args.securityGroup.id],
        atRestEncryptionEnabled: true,
        transitEncryptionEnabled: true,
        authToken: token.result,
        authTokenUpdateStrategy: "ROTATE",
        // A Redis that holds state (the LMS's queue and sessions) keeps daily snapshots a week; a cache none.
        snapshotRetentionLimit: app.cache.persistent ? 7 : 0,
        tags: { ...tags, "runbook.role": "cache" },
      },
      app.cache.persistent ? state : child,
    );
    redisUrl = pulumi.secret(pulumi.interpolate`rediss://:${token.result}@${cache.primaryEndpointAddress}:${app.cache.port}/0`);
  }

  // AWS Backup: snapshots on the app's backup schedule, kept its cloud retention (beyond RDS's 35 days).
  // Staging's vault may be deleted with its recovery points; prod's is protected and never emptied by a destroy.
  const vault = new aws.backup.Vault(`${name}-vault`, { forceDestroy: !app.protectState, tags }, app.protectState ? { parent, protect: true } : child);
  const backupRole = new aws.iam.Role(
    `${name}-backup-role`,
    { assumeRolePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "backup.amazonaws.com" }, Action: "sts:AssumeRole" }] }), tags },
    child,
  );
  new aws.iam.RolePolicyAttachment(`${name}-backup-role-policy`, { role: backupRole.name, policyArn: "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup" }, child);
  const backupPlan = new aws.backup.Plan(
    `${name}-backup-plan`,
    {
      rules: [
        {
          ruleName: `${app.id}-scheduled`,
          targetVaultName: vault.name,
          schedule: awsBackupCron(app.backups.schedule),
          lifecycle: { deleteAfter: app.backups.cloudRetentionDays },
        },
      ],
      tags,
    },
    child,
  );
  new aws.backup.Selection(`${name}-backup-selection`, { planId: backupPlan.id, iamRoleArn: backupRole.arn, resources: [database.arn] }, child);
  const restoreTesting = deployRestoreTesting(name, app, { vault, database, subnetGroup: subnets, securityGroup: args.securityGroup, tags }, parent);

  return { database, databaseUrl, ...(cache && { cache }), ...(redisUrl && { redisUrl }), backupPlan, restoreTesting };
}
