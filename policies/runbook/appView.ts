/**
 * A stack's resources grouped by app, the way the runbook requirements name them. Containers are
 * found by their labels (`runbook.app`, `runbook.environment`, `runbook.service`); deploy steps by
 * being children of the same AppStack as those containers; generated secrets by their keepers
 * (`runbook.app`, `runbook.secret`), as random resources carry no labels.
 */
import type { PolicyResource } from "@pulumi/policy";
import { TYPES, type ContainerProps } from "../lib";

export const LABELS = { app: "runbook.app", environment: "runbook.environment", service: "runbook.service" } as const;

export interface AppView {
  readonly id: string;
  /** The AppStack the containers belong to: where a finding about the whole app is reported. */
  readonly component?: PolicyResource;
  /** `prod`, `staging`, ... from the containers' labels. */
  readonly environment: string;
  readonly containers: readonly PolicyResource[];
  /** The containers of one service (`backend`, `worker:rq`...). */
  service(name: string): PolicyResource[];
  /** A deploy step of the app, by its name's suffix (`migrate`, `release-task`, `proxy-config`, `health-gate`). */
  step(suffix: string): PolicyResource | undefined;
  /** Random resources that generate the app's secret `name`. */
  secret(name: string): PolicyResource[];
  /** Every resource of the stack: for checks that read resources outside the AppStack (backups). */
  readonly resources: readonly PolicyResource[];
  /** Every random resource that generates a secret of the app. */
  readonly secrets: readonly PolicyResource[];
}

export const labelOf = (r: PolicyResource, label: string): string | undefined =>
  (r.props as ContainerProps).labels?.find((l) => l.label === label)?.value;

const isCommand = (r: PolicyResource) => r.type === TYPES.localCommand || r.type === TYPES.remoteCommand;
const RANDOM = new Set(["random:index/randomBytes:RandomBytes", "random:index/randomPassword:RandomPassword", "random:index/randomString:RandomString"]);

export function appViews(resources: readonly PolicyResource[]): AppView[] {
  const containers = resources.filter((r) => r.type === TYPES.container && labelOf(r, LABELS.app) !== undefined);
  const ids = [...new Set(containers.map((c) => labelOf(c, LABELS.app)!))].sort();
  return ids.map((id) => {
    const own = containers.filter((c) => labelOf(c, LABELS.app) === id);
    const parents = new Set(own.map((c) => c.parent?.urn).filter((u): u is string => u !== undefined));
    const steps = resources.filter((r) => isCommand(r) && r.parent !== undefined && parents.has(r.parent.urn));
    const secrets = resources.filter((r) => RANDOM.has(r.type) && (r.props["keepers"] as Record<string, string> | undefined)?.[LABELS.app] === id);
    // The app's AppStack: other components (monitoring) label their containers with the app too.
    const component = own.map((c) => c.parent).find((p) => p?.type === TYPES.appStack) ?? own[0]!.parent;
    return {
      id,
      ...(component && { component }),
      environment: labelOf(own[0]!, LABELS.environment) ?? "",
      containers: own,
      service: (name) => own.filter((c) => labelOf(c, LABELS.service) === name),
      step: (suffix) => steps.find((s) => s.name.endsWith(`-${suffix}`)),
      secret: (name) => secrets.filter((s) => (s.props["keepers"] as Record<string, string>)["runbook.secret"] === name),
      resources,
      secrets,
    };
  });
}
