export * from "./app";
export * from "./secrets";
// Areas export their components below: backups, monitoring, hosts, firewall.
export * from "./backups";
export * from "./hosts";
export * from "./firewall";
export * from "./monitoring";
// Adoption:
export * from "./adoption";
// Releases and rollback:
export * from "./releases";
// Maintenance, scaling and diagnostics:
export * from "./maintenance";
// Connection pooling:
export * from "./pooler";
// Centralized logging:
export * from "./logging";
