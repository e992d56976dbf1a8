export * from "./appSecrets";
export * from "./databaseOwnerLock";
export * from "./databaseRoles";
export * from "./databaseRolesScript";
export * from "./rotationWindow";
export * from "./scramVerifier";
export * from "./secretStore";
