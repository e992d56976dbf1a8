export * from "./host";
export * from "./iamPolicies";
export * from "./userData";
export * from "./hosting";
export * from "./describe";
