/**
 * The fully resolved, validated description of one stack: what components receive.
 * Built by config/resolve.ts from the catalog and the stack's config; components never read config.
 */
import type {
  ProxyRoute,
  ResourceLimits,
  SecretEnvDefinition,
  ServiceRuntime,
  StateVolume,
} from "../apps/types";
import type { MonitoringSpec } from "./monitoring";

export type Environment = "prod" | "staging";

/** Where an app's containers run: the local Docker socket, or a Docker host reached over ssh. */
export type HostSpec =
  | { readonly kind: "local"; readonly dockerHost: string }
  | {
      readonly kind: "ssh";
      readonly dockerHost: string;
      readonly user: string;
      readonly host: string;
      readonly port: number;
      /** The host's pinned public key (`<type> <base64>`); remote.Command checks none without it. */
      readonly hostKey?: string;
    };

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

  // Monitoring and alerts: resolved settings of that area go below this line.
  /** Prometheus, Alertmanager, Grafana and the exporters; undefined where the stack turns monitoring off. */
  readonly monitoring?: MonitoringSpec;

  // Hosts and firewall: resolved settings of that area go below this line.

  // Secret rotation: resolved settings of that area go below this line.
}

export interface StackSpec {
  readonly project: string;
  readonly environment: Environment;
  readonly apps: readonly AppSpec[];
}
