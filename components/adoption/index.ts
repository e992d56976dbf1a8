export * from "./adoptedVolume";
export * from "./composeHandover";
export * from "./handoverScripts";
export * from "./adoptionSteps";
