export * from "./capacity";
export * from "./maintenance";
export * from "./maintenanceWindow";
export { maintenanceJobs, MAINTENANCE_JOB_DEFAULTS, SQLITE_PRAGMAS } from "./jobs";
export { SCHEDULES } from "./units";
export * from "./deploy";
