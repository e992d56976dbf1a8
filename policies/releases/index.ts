export * from "./imageKeptLocally";
