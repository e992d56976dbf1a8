import type { ResourceValidationPolicy } from "@pulumi/policy";
import { TYPES } from "../lib";
import { HOST_TYPES } from "./types";

const sshOptsOf = (v: unknown): string[] => {
  if (Array.isArray(v)) return v.map(String);
  if (typeof v === "string") {
    try {
      const parsed = JSON.parse(v) as unknown;
      return Array.isArray(parsed) ? parsed.map(String) : [v];
    } catch {
      return [v];
    }
  }
  return [];
};

/** Deploy steps send secrets (migrations' environment) to the host: it must be the host. */
export const sshHostKeyPinned: ResourceValidationPolicy = {
  name: "hosts-ssh-host-key-pinned",
  description:
    "Every deploy step over ssh verifies the host against a pinned host key, and every Docker provider reaching an ssh:// host refuses unknown host keys. Deploy steps carry the apps' secrets, and a host that is not verified could be anyone's.",
  validateResource: (args, report) => {
    const props = args.props as Record<string, unknown>;
    if (args.type === TYPES.remoteCommand) {
      const connection = (props["connection"] ?? {}) as { host?: string; hostKey?: string };
      if (!connection.hostKey) report(`${args.name}: connects to ${connection.host ?? "its host"} without connection.hostKey, so any host key is accepted; pin the host's key (apps.<id>.hostKey).`);
    }
    if (args.type === HOST_TYPES.dockerProvider && typeof props["host"] === "string" && props["host"].startsWith("ssh://")) {
      const opts = sshOptsOf(props["sshOpts"]).join(" ");
      if (!/StrictHostKeyChecking=yes/.test(opts)) report(`${args.name}: reaches ${props["host"]} without StrictHostKeyChecking=yes in sshOpts, so ssh may accept an unknown host key.`);
    }
  },
};
