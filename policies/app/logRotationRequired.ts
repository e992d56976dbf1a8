import type { PolicyConfigSchema, ResourceValidationPolicy } from "@pulumi/policy";
import { forContainers, settings, sizeMb } from "../lib";

const configSchema: PolicyConfigSchema = {
  properties: {
    maxSizeMb: { type: "integer", minimum: 1, maximum: 10240, default: 100, description: "Largest allowed log file, in MiB." },
    maxFiles: { type: "integer", minimum: 1, maximum: 100, default: 10, description: "Most rotated files kept." },
  },
};

/** FairLens "Log rotation to prevent disk space issues"; FDTS weekly logrotate. */
export const logRotationRequired: ResourceValidationPolicy = {
  name: "app-container-log-rotation-required",
  description:
    "Every container rotates its logs (json-file or local driver with max-size and max-file). The runbooks rotate logs so that they never fill the disk.",
  configSchema,
  validateResource: forContainers((props, args, report) => {
    const { maxSizeMb, maxFiles } = settings<{ maxSizeMb: number; maxFiles: number }>(configSchema, args);
    const driver = props.logDriver ?? "json-file";
    if (driver !== "json-file" && driver !== "local") {
      if (driver === "none") report(`Container ${args.name} discards its logs (log driver "none"); keep them with rotation.`);
      return; // syslog, journald, fluentd... rotate outside the host's Docker
    }
    const size = sizeMb(props.logOpts?.["max-size"]);
    const files = Number(props.logOpts?.["max-file"] ?? "1");
    if (size === undefined) {
      report(`Container ${args.name} has no log rotation; set logOpts max-size (at most ${maxSizeMb}m) and max-file.`);
      return;
    }
    if (size > maxSizeMb) report(`Container ${args.name} keeps log files of up to ${props.logOpts?.["max-size"]}; at most ${maxSizeMb}m is allowed.`);
    if (!Number.isInteger(files) || files < 1 || files > maxFiles) {
      report(`Container ${args.name} keeps ${props.logOpts?.["max-file"]} log files; from 1 to ${maxFiles} are allowed.`);
    }
  }),
};
