export * from "./cidr";
export * from "./evidence";
export * from "./firewall";
export * from "./hostFirewallRules";
export * from "./incidentEvidence";
export * from "./securityGroupRules";
