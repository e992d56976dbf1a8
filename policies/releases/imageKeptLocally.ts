import type { ResourceValidationPolicy } from "@pulumi/policy";
import { TYPES } from "../lib";

/**
 * Issue 12: "Images of recorded releases stay on the host so a rollback never waits for a pull".
 * pulumi-docker removes an image from the host when its RemoteImage is replaced or deleted unless
 * `keepLocally` is set (terraform-provider-docker `removeImage`: `if keep_locally { return nil }`);
 * the image prune job, not the provider, decides which images go (it keeps what releases.json names).
 */
export const imageKeptLocally: ResourceValidationPolicy = {
  name: "releases-image-kept-locally",
  description:
    "Every image the program pulls is kept on the host when its resource is replaced or deleted. A rollback to a recorded release then never waits for a pull, and only the prune job, which keeps the recorded releases' images, removes images.",
  validateResource: (args, report) => {
    if (args.type !== TYPES.remoteImage) return;
    if (args.props["keepLocally"] !== true) {
      report(`Image ${String(args.props["name"] ?? args.name)} is removed from the host when it is replaced (keepLocally is not true); set keepLocally: true so a rollback finds it without a pull.`);
    }
  },
};
