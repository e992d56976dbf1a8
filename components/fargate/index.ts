export * from "./alarms";
export * from "./containerDefinitions";
export * from "./dataServices";
export * from "./deployScripts";
export * from "./fargateApp";
export * from "./listenerRules";
export * from "./loadBalancer";
export * from "./taskSize";
