export * from "./collectorConfig";
export * from "./logCollector";
export * from "./logSearch";
