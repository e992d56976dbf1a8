export * from "./collectorConfig";
export * from "./logCollector";
