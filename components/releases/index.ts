export * from "./downMigration";
export * from "./migrations";
export * from "./record";
export * from "./releaseRecord";
export * from "./releasesFile";
