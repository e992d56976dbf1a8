/**
 * Scaling, in words and numbers: what each app runs (services, replicas, CPUs, memory, totals), a
 * pure function of the spec, and HostCapacity, the component that states a host's memory and the apps
 * on it so the policy `capacity-host-memory` can add up their containers' limits. It gives the same
 * fields as its inputs (@pulumi/pulumi resource.js sends a component's args unless
 * PULUMI_NODEJS_SKIP_COMPONENT_INPUTS is set) and as its registered outputs, which stack policies read.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ResourceLimits } from "../../apps/types";
import type { AppSpec } from "../../config/spec";
import { DEFAULTS as MONITORING, monitoringServices } from "../monitoring/settings";
import { LOG_COLLECTOR, LOG_COLLECTOR_LIMITS } from "../logging/collectorConfig";

export interface ServiceCapacity {
  readonly replicas: number;
  /** Per container. */
  readonly cpus: number;
  readonly memoryMb: number;
  readonly memoryReservationMb?: number;
}

export interface AppCapacity {
  /** The host, as the apps sharing it name it. */
  readonly host: string;
  readonly services: Readonly<Record<string, ServiceCapacity>>;
  readonly totals: { readonly containers: number; readonly cpus: number; readonly memoryMb: number };
  /** The host's memory, where known, and where that figure comes from. */
  readonly hostMemoryMb?: number;
  readonly hostMemorySource: string;
}

const service = (replicas: number, limits: ResourceLimits): ServiceCapacity => ({
  replicas,
  cpus: limits.cpus,
  memoryMb: limits.memoryMb,
  ...(limits.memoryReservationMb !== undefined && { memoryReservationMb: limits.memoryReservationMb }),
});

/** Every long-running container the app runs, by service (monitoring as Monitoring runs it). */
export function capacityOf(app: AppSpec): AppCapacity {
  const services: Record<string, ServiceCapacity> = { backend: service(app.backend.replicas, app.backend.limits) };
  if (app.frontend) services["frontend"] = service(app.frontend.adminPort !== undefined ? 1 : app.frontend.replicas, app.frontend.limits);
  if (app.database.engine === "postgres") services["database"] = service(1, app.database.limits);
  if (app.database.engine === "postgres" && app.database.readReplicas > 0) services["database-replica"] = service(app.database.readReplicas, app.database.limits);
  if (app.database.engine === "postgres" && app.database.pooler) services["pooler"] = service(1, app.database.pooler.limits);
  if (app.cache) services["cache"] = service(1, app.cache.limits);
  for (const w of app.workers) services[`worker:${w.name}`] = service(w.replicas, w.limits);
  services["proxy"] = service(1, app.proxy.limits);
  if (app.monitoring) {
    for (const name of monitoringServices(app)) services[`monitoring:${name}`] = service(1, MONITORING.limits[name]);
  }
  if (app.logging) services[LOG_COLLECTOR.service] = service(1, LOG_COLLECTOR_LIMITS);
  const all = Object.values(services);
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    host: app.hostCapacity.hostKey,
    services,
    totals: {
      containers: all.reduce((s, x) => s + x.replicas, 0),
      cpus: round(all.reduce((s, x) => s + x.replicas * x.cpus, 0)),
      memoryMb: all.reduce((s, x) => s + x.replicas * x.memoryMb, 0),
    },
    ...(app.hostCapacity.memoryMb !== undefined && { hostMemoryMb: app.hostCapacity.memoryMb }),
    hostMemorySource: app.hostCapacity.source,
  };
}

export interface HostCapacityArgs {
  /** The host, as the apps sharing it name it (a Docker host URL, or `the host made for <app>`). */
  readonly host: string;
  /** Its memory in MiB; absent when unknown (the policy then has nothing to compare with). */
  readonly memoryMb?: number;
  /** Where the figure comes from (`apps.<id>.hostMemoryMb`, `instance type t3.large`). */
  readonly source: string;
  /** Catalog ids of the apps on the host: their containers carry `runbook.app=<id>`. */
  readonly apps: readonly string[];
}

export const HOST_CAPACITY_TYPE = "runbook:maintenance:HostCapacity";

export class HostCapacity extends pulumi.ComponentResource {
  public readonly host: string;
  public readonly memoryMb?: number;

  constructor(name: string, args: HostCapacityArgs, opts?: pulumi.ComponentResourceOptions) {
    if (args.apps.length === 0) throw new Error("`apps` must name at least one app on the host");
    if (args.memoryMb !== undefined && (!Number.isInteger(args.memoryMb) || args.memoryMb < 1)) throw new Error(`\`memoryMb\` must be a whole number of MiB (got ${args.memoryMb})`);
    const props = { host: args.host, ...(args.memoryMb !== undefined && { memoryMb: args.memoryMb }), source: args.source, apps: [...args.apps] };
    super(HOST_CAPACITY_TYPE, name, props, opts);
    this.host = args.host;
    if (args.memoryMb !== undefined) this.memoryMb = args.memoryMb;
    // A stack policy reads a resource's outputs (the engine's AnalyzeStack gets `Properties: v.Outputs`,
    // pkg/resource/deploy/step_generator.go AnalyzeResources): a component's outputs are what it registers.
    this.registerOutputs(props);
  }
}
