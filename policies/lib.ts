/**
 * What the policies share: the type tokens of the resources they read, and small readers of
 * container properties. Self-contained (only @pulumi/policy): the pack runs from its own folder.
 */
import type { PolicyConfigSchema, PolicyResource, ReportViolation, ResourceValidationArgs } from "@pulumi/policy";

export const TYPES = {
  container: "docker:index/container:Container",
  volume: "docker:index/volume:Volume",
  remoteImage: "docker:index/remoteImage:RemoteImage",
  appStack: "runbook:app:AppStack",
  localCommand: "command:local:Command",
  remoteCommand: "command:remote:Command",
} as const;

/** The label AppStack puts on every container to say what it is. */
export const ROLE_LABEL = "runbook.role";

export interface ContainerProps {
  readonly image?: string;
  readonly healthcheck?: { readonly tests?: readonly string[]; readonly interval?: string; readonly retries?: number };
  readonly restart?: string;
  readonly memory?: number;
  readonly cpus?: string;
  readonly logDriver?: string;
  readonly logOpts?: Readonly<Record<string, string>>;
  readonly ports?: readonly { readonly internal: number; readonly external?: number; readonly ip?: string }[];
  readonly envs?: readonly string[];
  readonly labels?: readonly { readonly label: string; readonly value: string }[];
}

export function roleOf(props: ContainerProps): string | undefined {
  return props.labels?.find((l) => l.label === ROLE_LABEL)?.value;
}

/** Health check commands that always pass: a broken service would report healthy. */
export const ALWAYS_PASSING_CHECKS: ReadonlySet<string> = new Set(["true", ":", "exit 0", "/bin/true", "/usr/bin/true", "echo ok", "sh -c true", "sh -c exit 0"]);

/**
 * The tag of an image reference (`repo:tag`, a registry port is not a tag); undefined without one;
 * `null` for a digest reference (`repo@sha256:...`), which is pinned by definition.
 */
export function imageTag(ref: string): string | undefined | null {
  if (ref.includes("@sha256:")) return null;
  const last = ref.slice(ref.lastIndexOf("/") + 1);
  return last.includes(":") ? last.slice(last.indexOf(":") + 1) : undefined;
}

/** Parses a duration such as `10s`, `1m30s` or `500ms` into seconds. */
export function durationSeconds(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) return undefined;
  const scale: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
  return parts.reduce((sum, p) => sum + Number(p[1]) * scale[p[2]!]!, 0);
}

/** Parses a json-file `max-size` (`10m`, `512k`, `1g`, or bytes) into MiB. */
export function sizeMb(text: string | undefined): number | undefined {
  const m = /^(\d+)([kmg]?)$/i.exec(text ?? "");
  if (!m) return undefined;
  const scale: Record<string, number> = { "": 1 / (1024 * 1024), k: 1 / 1024, m: 1, g: 1024 };
  return Number(m[1]) * scale[m[2]!.toLowerCase()]!;
}

/** A resource validation for Docker containers only, with typed props. */
export function forContainers(
  check: (props: ContainerProps, args: ResourceValidationArgs, report: ReportViolation) => void,
): (args: ResourceValidationArgs, report: ReportViolation) => void {
  return (args, report) => {
    if (args.type !== TYPES.container) return;
    check(args.props as ContainerProps, args, report);
  };
}

/** The resources of a stack that are children (at any depth) of `component`. */
export function descendants(resources: readonly PolicyResource[], component: PolicyResource): PolicyResource[] {
  return resources.filter((r) => {
    for (let p = r.parent; p; p = p.parent) if (p.urn === component.urn) return true;
    return false;
  });
}

/**
 * A policy's settings: what the engine configured, over the defaults of its schema. The Pulumi
 * CLI sends the defaults itself, but a pack served without them must still evaluate, not crash.
 */
export function settings<T extends object>(schema: PolicyConfigSchema, args: { getConfig<C extends object>(): C }): T {
  const defaults = Object.fromEntries(
    Object.entries(schema.properties).map(([key, prop]) => [key, (prop as { default?: unknown }).default]),
  );
  const configured = Object.fromEntries(Object.entries(args.getConfig<Record<string, unknown>>()).filter(([, v]) => v !== undefined));
  return { ...defaults, ...configured } as T;
}
