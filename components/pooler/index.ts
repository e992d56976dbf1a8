export * from "./connectionPooler";
export * from "./pgbouncerConfig";
