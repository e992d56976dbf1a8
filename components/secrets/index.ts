export * from "./appSecrets";
