/**
 * Maintenance, scaling and diagnostics: the stack settings of that area, their cross-field rules,
 * and how they resolve. `apps.<id>.maintenance` turns the scheduled jobs off (they are on by
 * default), opens a maintenance window (a backup first, then the maintenance page) or says when
 * windows open by themselves (`schedule`, read by `npm run maintenance-window -- --auto`);
 * `apps.<id>.hostMemoryMb` says how much memory the app's Docker host has, for the capacity policy.
 */
import { z } from "zod";
import { OS_UPDATES_MODES, type OsUpdatesMode } from "../components/maintenance/osUpdates";
import type { RawProblem } from "./schema";
import { cronProblem, durationProblem, timezoneProblem, WINDOW_TIMEZONE_DEFAULT, type WindowSchedule } from "./windowSchedule";

export const MAINTENANCE_DEFAULTS = {
  /** Scheduled jobs (database upkeep, pruning, log retention, certificate renewal) are installed. */
  enabled: true,
  /** No maintenance window. */
  window: false,
  /** An existing host is its owner's to patch; a created host runs unattended-upgrades (components/maintenance/osUpdates.ts). */
  osUpdates: "off" as OsUpdatesMode,
} as const;

/**
 * Memory of the EC2 instance types a stack may make, in MiB. Source: the "Memory (GiB)" column of
 * https://aws.amazon.com/ec2/instance-types/ (general purpose T3, T3a, M5, M6i, M7i; memory optimized
 * R5, R6i). A type not listed has no known size: set `hostMemoryMb` for it.
 */
export const INSTANCE_MEMORY_MB: Readonly<Record<string, number>> = {
  "t3.micro": 1024, "t3.small": 2048, "t3.medium": 4096, "t3.large": 8192, "t3.xlarge": 16384, "t3.2xlarge": 32768,
  "t3a.micro": 1024, "t3a.small": 2048, "t3a.medium": 4096, "t3a.large": 8192, "t3a.xlarge": 16384, "t3a.2xlarge": 32768,
  "m5.large": 8192, "m5.xlarge": 16384, "m5.2xlarge": 32768, "m5.4xlarge": 65536,
  "m6i.large": 8192, "m6i.xlarge": 16384, "m6i.2xlarge": 32768, "m6i.4xlarge": 65536,
  "m7i.large": 8192, "m7i.xlarge": 16384, "m7i.2xlarge": 32768, "m7i.4xlarge": 65536,
  "r5.large": 16384, "r5.xlarge": 32768, "r5.2xlarge": 65536,
  "r6i.large": 16384, "r6i.xlarge": 32768, "r6i.2xlarge": 65536,
};

/** `apps.<id>.maintenance.schedule`: the shape; the cron, zone and duration are checked in maintenanceProblems. */
export const windowScheduleSchema = z.strictObject({
  cron: z.string({ error: 'must be a cron expression such as "0 2 * * 0#1"' }),
  durationMinutes: z
    .number({ error: "must be a whole number of minutes" })
    .int({ error: "must be a whole number of minutes" })
    .min(1, { error: "must be at least 1 (minutes)" }),
  timezone: z.string({ error: 'must be an IANA time zone such as "UTC"' }).optional(),
});

export const maintenanceSchema = z.strictObject({
  enabled: z.boolean({ error: "must be true or false" }).optional(),
  window: z.boolean({ error: "must be true or false" }).optional(),
  schedule: windowScheduleSchema.optional(),
  osUpdates: z.enum(OS_UPDATES_MODES, { error: 'must be "off", "security" (packages from a security archive) or "all" (the runbook\'s apt upgrade)' }).optional(),
});

/** The keys this area adds to `apps.<id>` (spread into appConfig). */
export const maintenanceKeys = {
  maintenance: maintenanceSchema.optional(),
  hostMemoryMb: z
    .number({ error: "must be a whole number of MiB" })
    .int({ error: "must be a whole number of MiB" })
    .min(256, { error: "must be at least 256 (MiB)" })
    .max(16_777_216, { error: "must be at most 16777216 (16 TiB)" })
    .optional(),
};

export interface MaintenanceSpec {
  /** Scheduled jobs installed on the app's host. */
  readonly enabled: boolean;
  /** A maintenance window is open: a backup is taken first, then the maintenance page is on. */
  readonly window: boolean;
  /** When windows open by themselves (`npm run maintenance-window -- --auto` turns `window` on and off). */
  readonly schedule?: WindowSchedule;
  /** The weekly `os-updates` job: which packages it upgrades on the host, or "off". */
  readonly osUpdates: OsUpdatesMode;
}

/** How much memory the app's host has, and where that figure comes from. */
export interface HostCapacitySpec {
  /** The host, as apps sharing it name it: the Docker host URL, or the host made for the app. */
  readonly hostKey: string;
  readonly memoryMb?: number;
  readonly source: string;
}

type Raw = Record<string, unknown>;
const isObject = (v: unknown): v is Raw => v !== null && typeof v === "object" && !Array.isArray(v);

/** The host an app runs on, as a key shared by the apps on it. */
export function hostKeyOf(appId: string, app: Raw, defaultHost: string): string {
  if (app["aws"] !== undefined) return `the host made for ${appId}`;
  return typeof app["host"] === "string" ? app["host"] : defaultHost;
}

/** A schedule's cron, zone and duration, each problem on its own key (the shape is zod's). */
export function windowScheduleProblems(appId: string, schedule: unknown): RawProblem[] {
  if (!isObject(schedule) || typeof schedule["cron"] !== "string") return [];
  const at = (key: string) => ["apps", appId, "maintenance", "schedule", key];
  const cron = cronProblem(schedule["cron"]);
  const timezone = typeof schedule["timezone"] === "string" ? schedule["timezone"] : WINDOW_TIMEZONE_DEFAULT;
  const zone = timezoneProblem(timezone);
  const problems: RawProblem[] = [...(cron ? [{ path: at("cron"), message: cron }] : []), ...(zone ? [{ path: at("timezone"), message: zone }] : [])];
  const minutes = schedule["durationMinutes"];
  if (!cron && !zone && typeof minutes === "number" && Number.isInteger(minutes) && minutes >= 1) {
    const duration = durationProblem({ cron: schedule["cron"], durationMinutes: minutes, timezone });
    if (duration) problems.push({ path: at("durationMinutes"), message: duration });
  }
  return problems;
}

/** The app's window schedule, with its zone defaulted; undefined when it has none. */
export function resolveWindowSchedule(maintenance: unknown): WindowSchedule | undefined {
  const s = isObject(maintenance) && isObject(maintenance["schedule"]) ? maintenance["schedule"] : undefined;
  if (!s || typeof s["cron"] !== "string" || typeof s["durationMinutes"] !== "number") return undefined;
  return { cron: s["cron"], durationMinutes: s["durationMinutes"], timezone: typeof s["timezone"] === "string" ? s["timezone"] : WINDOW_TIMEZONE_DEFAULT };
}

/**
 * Apps on one host must not disagree on its size, and a host the stack makes takes its size from the
 * instance type, which `hostMemoryMb` must not contradict.
 */
export function maintenanceProblems(raw: unknown, defaultHost: string): RawProblem[] {
  const problems: RawProblem[] = [];
  const apps = isObject(raw) && isObject(raw["apps"]) ? raw["apps"] : {};
  const sizes = new Map<string, [string, number]>();
  for (const [appId, appRaw] of Object.entries(apps)) {
    if (isObject(appRaw) && isObject(appRaw["maintenance"])) problems.push(...windowScheduleProblems(appId, appRaw["maintenance"]["schedule"]));
    if (!isObject(appRaw) || typeof appRaw["hostMemoryMb"] !== "number") continue;
    const size = appRaw["hostMemoryMb"];
    const aws = isObject(appRaw["aws"]) ? appRaw["aws"] : undefined;
    const known = typeof aws?.["instanceType"] === "string" ? INSTANCE_MEMORY_MB[aws["instanceType"]] : undefined;
    if (known !== undefined && known !== size) {
      problems.push({ path: ["apps", appId, "hostMemoryMb"], message: `is ${size} but instance type ${String(aws?.["instanceType"])} has ${known} MiB; remove hostMemoryMb (it is taken from the instance type)` });
    }
    const host = hostKeyOf(appId, appRaw, defaultHost);
    const other = sizes.get(host);
    if (other && other[1] !== size) {
      problems.push({ path: ["apps", appId, "hostMemoryMb"], message: `is ${size} but ${other[0]} on the same host (${host}) says ${other[1]}; apps on one host must agree on its size` });
    } else if (!other) sizes.set(host, [appId, size]);
  }
  return problems;
}

/** The app's maintenance settings and its host's size (from `hostMemoryMb`, its instance type, or another app on the host). */
export function resolveMaintenance(appId: string, app: Raw, apps: Readonly<Record<string, unknown>>, defaultHost: string): { maintenance: MaintenanceSpec; hostCapacity: HostCapacitySpec } {
  const m = isObject(app["maintenance"]) ? app["maintenance"] : {};
  const hostKey = hostKeyOf(appId, app, defaultHost);
  const aws = isObject(app["aws"]) ? app["aws"] : undefined;
  const instanceType = typeof aws?.["instanceType"] === "string" ? aws["instanceType"] : undefined;
  let capacity: HostCapacitySpec = { hostKey, source: "unknown: set apps.<id>.hostMemoryMb" };
  const sharing = Object.entries(apps).filter(([id, a]) => isObject(a) && hostKeyOf(id, a, defaultHost) === hostKey);
  const configured = sharing.map(([id, a]) => [id, (a as Raw)["hostMemoryMb"]] as const).find(([, v]) => typeof v === "number");
  if (instanceType !== undefined && INSTANCE_MEMORY_MB[instanceType] !== undefined) {
    capacity = { hostKey, memoryMb: INSTANCE_MEMORY_MB[instanceType], source: `instance type ${instanceType}` };
  } else if (configured) {
    capacity = { hostKey, memoryMb: configured[1] as number, source: `apps.${configured[0]}.hostMemoryMb` };
  }
  return {
    maintenance: {
      enabled: typeof m["enabled"] === "boolean" ? m["enabled"] : MAINTENANCE_DEFAULTS.enabled,
      window: typeof m["window"] === "boolean" ? m["window"] : MAINTENANCE_DEFAULTS.window,
      osUpdates: OS_UPDATES_MODES.find((mode) => mode === m["osUpdates"]) ?? MAINTENANCE_DEFAULTS.osUpdates,
      ...(resolveWindowSchedule(m) && { schedule: resolveWindowSchedule(m)! }),
    },
    hostCapacity: capacity,
  };
}
