import type { ResourceValidationPolicy } from "@pulumi/policy";
import { TYPES } from "../lib";

/** Every runbook's "no data lost": a stray `pulumi destroy` must not delete a database volume. */
export const volumeProtected: ResourceValidationPolicy = {
  name: "app-volume-protected",
  description:
    "Every volume of state is protected, and retained on delete where the engine reports it. The runbooks treat the database and uploads as data that must never be lost; a protected volume cannot be deleted by a pulumi destroy or a replacement.",
  validateResource: (args, report) => {
    if (args.type !== TYPES.volume) return;
    if (!args.opts.protect) {
      report(`Volume ${args.name} is not protected; set protect: true.`);
    }
    // The Pulumi CLI does not pass retainOnDelete to policies; the offline plan does.
    const retain = (args.opts as { retainOnDelete?: boolean }).retainOnDelete;
    if (retain === false) {
      report(`Volume ${args.name} is not retained on delete; set retainOnDelete: true.`);
    }
  },
};
