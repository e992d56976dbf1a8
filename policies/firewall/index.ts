export * from "./ingressPublicWebOnly";
export * from "./privatePortsClosed";
export * from "./sshAdminOnly";
