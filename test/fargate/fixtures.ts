/** Stack configs with one app on ECS Fargate, for the Fargate tests. Ids are placeholders of the right shape. */
import { rawStackConfig } from "../helpers";
import type { RawConfig } from "../../config/resolve";

export const FARGATE = {
  vpcId: "vpc-0123456789abcdef0",
  publicSubnetIds: ["subnet-0a0000000000000a1", "subnet-0a0000000000000a2"],
  privateSubnetIds: ["subnet-0b0000000000000b1", "subnet-0b0000000000000b2"],
  certificateArn: "arn:aws:acm:eu-west-1:111122223333:certificate/0e1f2a3b-0000-4000-8000-000000000001",
} as const;

/** The keys of a Docker-host app that a Fargate app refuses (config/fargate.ts): removed when moving it. */
const HOST_ONLY = ["host", "hostKey", "aws", "firewall", "monitoring", "maintenance", "logging", "dns", "adopt", "hostMemoryMb"];

/**
 * The committed stack, with `app` moved to Fargate: its host-only settings removed, `fargate` set
 * (with `extra` over it), everything else as committed.
 */
export function withFargate(stack: "prod" | "staging", apps: string | readonly string[], extra: Record<string, unknown> = {}): RawConfig {
  const raw = structuredClone(rawStackConfig(stack)) as unknown as { apps: Record<string, Record<string, unknown>> };
  for (const app of typeof apps === "string" ? [apps] : apps) moveToFargate(raw.apps, app, extra);
  return raw as unknown as RawConfig;
}

function moveToFargate(apps: Record<string, Record<string, unknown>>, app: string, extra: Record<string, unknown>): void {
  const cfg = apps[app]!;
  for (const key of HOST_ONLY) delete cfg[key];
  const proxy = cfg["proxy"] as Record<string, unknown> | undefined;
  if (proxy) for (const key of ["tls", "httpPort", "httpsPort"]) delete proxy[key];
  const database = cfg["database"] as Record<string, unknown> | undefined;
  if (database) for (const key of ["limits", "tag", "readReplicas", "pooler"]) delete database[key];
  const cache = cfg["cache"] as Record<string, unknown> | undefined;
  if (cache) for (const key of ["limits", "tag"]) delete cache[key];
  const backups = cfg["backups"] as Record<string, unknown> | undefined;
  if (backups) delete backups["restoreFrom"];
  cfg["domain"] ??= `${app}.example.com`;
  cfg["fargate"] = { ...FARGATE, ...extra };
}
