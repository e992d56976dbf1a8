export * from "./diagnoseScript";
export * from "./hostRun";
