export * from "./hostMemory";
