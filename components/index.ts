export * from "./app";
export * from "./secrets";
// Areas export their components below: backups, monitoring, hosts, firewall.
export * from "./hosts";
export * from "./firewall";
export * from "./monitoring";

export * from "./maintenance";
