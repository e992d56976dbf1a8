export * from "./appStack";
export * from "./containerDefaults";
export * from "./deployCommand";
export * from "./healthGate";
export * from "./nginxConfig";
export * from "./proxy";
export * from "./proxyConfigScript";
export * from "./tlsMounts";
