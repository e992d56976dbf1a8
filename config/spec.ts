/**
 * The fully resolved, validated description of one stack: what components receive.
 * Built by config/resolve.ts from the catalog and the stack's config; components never read config.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { BackupSpec } from "./backups";
import type {
  DatabaseCheckDefinition,
  FailedLoginsQueryDefinition,
  ProxyRoute,
  ResourceLimits,
  SecretEnvDefinition,
  ServiceRuntime,
  StateVolume,
} from "../apps/types";
import type { RotationSpec } from "./secrets";
import type { MonitoringSpec } from "./monitoring";
import type { ReleasesSpec } from "./releases";
import type { HostCapacitySpec, MaintenanceSpec } from "./maintenance";
import type { PoolerSpec } from "./pooler";
import type { LoggingSpec } from "./logging";
import type { FargateSpec } from "./fargate";

export type Environment = "prod" | "staging";

/**
 * Where an app's containers run: the local Docker socket, a Docker host reached over ssh, or a host
 * the stack creates (`created`: its address is known only once the Host component has made it, and
 * the Host component hands back the `ssh` spec with Outputs in place of strings).
 */
export type HostSpec =
  | { readonly kind: "local"; readonly dockerHost: string }
  | {
      readonly kind: "ssh";
      readonly dockerHost: pulumi.Input<string>;
      readonly user: string;
      readonly host: pulumi.Input<string>;
      readonly port: number;
      /** The host's pinned public key (`<type> <base64>`); remote.Command checks none without it. */
      readonly hostKey?: pulumi.Input<string>;
      /**
       * Extra ssh options for the Docker provider: a host the stack creates is not in anyone's
       * known_hosts, so its pinned key is given to ssh directly.
       */
      readonly dockerSshOpts?: readonly pulumi.Input<string>[];
      /**
       * The instance of a host the stack creates. What deploy steps wrote to its root volume (timers,
       * scripts, the release record) is not on a replacement instance: those steps run again on a new one.
       */
      readonly machineId?: pulumi.Input<string>;
    }
  | { readonly kind: "created"; readonly user: string; readonly port: number };

export interface LogRotationSpec {
  /** json-file `max-size`, e.g. `10m`. */
  readonly maxSize: string;
  /** json-file `max-file`. */
  readonly maxFile: number;
}

export interface HttpServiceSpec {
  /** `repository:tag`. */
  readonly image: string;
  readonly port: number;
  readonly healthPath: string;
  readonly runtime: ServiceRuntime;
  readonly limits: ResourceLimits;
  readonly env: Readonly<Record<string, string>>;
}

export interface BackendSpec extends HttpServiceSpec {
  readonly replicas: number;
  readonly metricsPath?: string;
  readonly migrationCommand?: readonly string[];
  readonly releaseTask?: readonly string[];
  readonly secretEnv: readonly SecretEnvDefinition[];
  readonly volumes: readonly StateVolume[];
  readonly needsEgress: boolean;
  /** The runbook's own database check, run inside a backend container by `npm run diagnose` (apps/types.ts). */
  readonly databaseCheck?: DatabaseCheckDefinition;
  /** The runbook's failed-login count from the app's records (catalog), for `npm run diagnose`. */
  readonly failedLoginsQuery?: FailedLoginsQueryDefinition;
}

export interface FrontendSpec extends HttpServiceSpec {
  readonly adminPort?: number;
  /** Containers of the frontend; an admin UI always runs one. */
  readonly replicas: number;
}

export type DatabaseSpec =
  | {
      readonly engine: "postgres";
      readonly image: string;
      readonly database: string;
      readonly user: string;
      readonly port: number;
      readonly limits: ResourceLimits;
      /** Streaming hot standbys beside the primary (`database.readReplicas`, config/readReplicas.ts); 0: none. */
      readonly readReplicas: number;
      /** PgBouncer in front of it for the backends and workers (`database.pooler`, config/pooler.ts); absent when off. */
      readonly pooler?: PoolerSpec;
    }
  | { readonly engine: "sqlite"; readonly path: string; readonly volume: string; readonly walMode: boolean };

export interface CacheSpec {
  readonly image: string;
  readonly port: number;
  readonly limits: ResourceLimits;
  /** Append-only file on a protected volume; `false`: a cache only, nothing persisted. */
  readonly persistent: boolean;
}

export interface WorkerSpec {
  readonly name: string;
  readonly command: readonly string[];
  readonly healthcheck: string;
  readonly replicas: number;
  readonly limits: ResourceLimits;
}

export interface TlsSpec {
  /** Path of the certificate chain on the Docker host, mounted read-only into the proxy. */
  readonly certificateFile: string;
  readonly keyFile: string;
}

export interface ProxySpec {
  readonly image: string;
  readonly httpPort: number;
  readonly httpsPort: number;
  readonly tls?: TlsSpec;
  readonly maintenance: boolean;
  readonly rateLimit: { readonly requestsPerSecond: number; readonly burst: number };
  readonly clientMaxBodyMb: number;
  readonly limits: ResourceLimits;
  readonly routes: readonly ProxyRoute[];
  readonly healthEndpoints: readonly string[];
}

export interface HealthGateSpec {
  /** Attempts per endpoint before `pulumi up` fails. */
  readonly attempts: number;
  readonly intervalSeconds: number;
}

export interface AppSpec {
  readonly id: string;
  readonly displayName: string;
  readonly runbook: string;
  readonly environment: Environment;
  readonly host: HostSpec;
  /**
   * The public host name the proxy serves (`apps.<id>.domain`), `localhost` when none is set. Health
   * probes send it as the Host header, as a browser would: a Django ALLOWED_HOSTS refuses anything else.
   */
  readonly publicHost: string;
  /** Volumes of state are protected and retained on delete (prod). */
  readonly protectState: boolean;
  readonly logRotation: LogRotationSpec;
  readonly backend: BackendSpec;
  readonly frontend?: FrontendSpec;
  readonly database: DatabaseSpec;
  readonly cache?: CacheSpec;
  readonly workers: readonly WorkerSpec[];
  readonly proxy: ProxySpec;
  readonly healthGate: HealthGateSpec;
  /**
   * Values of the app's external secrets that the stack supplies. Plain strings in memory only:
   * components wrap them with `pulumi.secret` before they reach any resource.
   */
  readonly externalSecrets: Readonly<Record<string, string>>;
  /** External secrets the app reads that the stack has not set (reported by the plan). */
  readonly unsetExternalSecrets: readonly string[];

  // Backups: resolved settings of that area go below this line.
  /** Schedule, retention, verification, pre-deploy backup and recovery source of the app's backups. */
  readonly backups: BackupSpec;

  // Monitoring and alerts: resolved settings of that area go below this line.
  /** Prometheus, Alertmanager, Grafana and the exporters; undefined where the stack turns monitoring off. */
  readonly monitoring?: MonitoringSpec;

  // Hosts and firewall: resolved settings of that area go below this line.
  /** The AWS instance the stack creates for this app (`apps.<id>.aws`); absent for an existing host. */
  readonly machine?: MachineSpec;
  /** Ingress the app's host admits, the blocked addresses, and the incident lockdown. */
  readonly firewall: FirewallSpec;

  // Secret rotation: resolved settings of that area go below this line.
  /** Rotation of the app's generated secrets: clock, period, incident generation (config/secrets.ts). */
  readonly rotation: RotationSpec;

  // Releases and rollback: resolved settings of that area go below this line.
  /** Releases kept on record, how the schema migrates, and a rollback's down-migration (config/releases.ts). */
  readonly releases: ReleasesSpec;

  // Maintenance, scaling and diagnostics: resolved settings of that area go below this line.
  /** Scheduled jobs on the host and the maintenance window (config/maintenance.ts). */
  readonly maintenance: MaintenanceSpec;
  /** The app's host as the apps sharing it name it, and its memory where known. */
  readonly hostCapacity: HostCapacitySpec;

  /** An A record for the app's name at its host's public address (`apps.<id>.dns`, config/dns.ts). */
  readonly dns?: DnsSpec;

  // Adoption: resolved settings of that area go below this line.
  /** A running docker-compose deployment this stack takes over (`apps.<id>.adopt`, config/adoption.ts). */
  readonly adoption?: AdoptionSpec;

  /** The log collector and where it forwards (`apps.<id>.logging`, config/logging.ts); absent when off. */
  readonly logging?: LoggingSpec;

  /**
   * ECS Fargate in place of a Docker host (`apps.<id>.fargate`, config/fargate.ts): the program
   * deploys components/fargate for the app, and none of the Docker host's components.
   */
  readonly fargate?: FargateSpec;
}

/** A Route 53 A record: `address` for an existing host; a host the stack creates gives its elastic IP. */
export interface DnsSpec {
  readonly zoneId: string;
  /** The record's name: `dns.name`, else the app's `domain`. */
  readonly name: string;
  readonly ttl: number;
  /** Take over a record that already exists (a recovery stack replacing another stack's record). */
  readonly allowOverwrite: boolean;
  readonly address?: string;
}

/** The compose project to take over, and the existing Docker volume of each state volume. */
export interface AdoptionSpec {
  /** The `com.docker.compose.project` label of the running containers. */
  readonly project: string;
  /** State volume key (`data`, `uploads`, `pgdata`, `redis-data`) -> existing Docker volume name. */
  readonly volumes: Readonly<Record<string, string>>;
}

/** An EC2 instance made by the stack: ids come from config, never from a lookup. */
export interface MachineSpec {
  readonly instanceType: string;
  readonly amiId: string;
  readonly vpcId: string;
  readonly subnetId: string;
  /** The subnet's zone: the data volume is made there. */
  readonly availabilityZone: string;
  /** The subnet's network ACL, where blocked CIDRs become deny entries. */
  readonly networkAclId?: string;
  /** Public keys the deploy user accepts. */
  readonly sshAuthorizedKeys: readonly string[];
  readonly rootVolumeGb: number;
  readonly dataVolumeGb: number;
  /** Customer KMS key for the volumes; the account's default EBS key when absent. */
  readonly kmsKeyId?: string;
  /** The deploy user (docker group). */
  readonly user: string;
}

interface FirewallCommon {
  /** Canonical CIDR blocks admins connect from (ssh always; 80/443 too during a lockdown). */
  readonly adminCidrs: readonly string[];
  /** Addresses refused everything. */
  readonly blockedCidrs: readonly string[];
  /** Incident lockdown: public 80/443 closed, admins still admitted; the maintenance page on. */
  readonly lockdown: boolean;
  readonly sshPort: number;
  /** The ports this app's proxy publishes. */
  readonly publicPorts: readonly number[];
}

/**
 * How the host is guarded: a security group (a host the stack creates), a host firewall applied by
 * a deploy step over ssh (an existing host; one app per host applies it, for every app's ports), or
 * nothing the program manages (the local Docker socket: the machine running Pulumi).
 */
export type FirewallSpec =
  | (FirewallCommon & { readonly kind: "security-group" })
  | (FirewallCommon & {
      readonly kind: "host";
      readonly appliesHostFirewall: boolean;
      /** The app whose Firewall applies the host's rules (the first app of the stack on that host). */
      readonly appliedBy: string;
      /** The public ports of every app on the host. */
      readonly hostPorts: readonly number[];
    })
  | (FirewallCommon & { readonly kind: "none" });

export interface StackSpec {
  readonly project: string;
  readonly environment: Environment;
  readonly apps: readonly AppSpec[];
}
