import type { ResourceValidationPolicy } from "@pulumi/policy";
import { HOST_TYPES } from "./types";

type Device = { encrypted?: boolean; deviceName?: string };

/** Backups and state live on these disks (every runbook's "Backup and Recovery"). */
export const volumeEncrypted: ResourceValidationPolicy = {
  name: "hosts-volume-encrypted",
  description:
    "Every disk of a host the stack creates is encrypted: the instance's root and block devices, and every EBS volume. The hosts hold the apps' databases, uploads and backups, and a snapshot or a retired disk must not give them away.",
  validateResource: (args, report) => {
    const props = args.props as { rootBlockDevice?: Device; ebsBlockDevices?: Device[]; encrypted?: boolean };
    if (args.type === HOST_TYPES.instance) {
      if (props.rootBlockDevice?.encrypted !== true) report(`${args.name}: the root volume is not encrypted (rootBlockDevice.encrypted must be true).`);
      for (const d of props.ebsBlockDevices ?? []) {
        if (d.encrypted !== true) report(`${args.name}: block device ${d.deviceName ?? "?"} is not encrypted.`);
      }
    }
    if (args.type === HOST_TYPES.volume && props.encrypted !== true) report(`${args.name}: the volume is not encrypted (encrypted must be true).`);
  },
};
