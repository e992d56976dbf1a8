export * from "./app";
export * from "./secrets";
// Areas export their components below: backups, monitoring, hosts, firewall.
export * from "./monitoring";

