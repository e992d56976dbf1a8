/**
 * What the Fargate policies read: an ECS task definition's containers (its `containerDefinitions`
 * JSON), and a stack's Fargate apps (their services, task definitions, one-off steps and database),
 * found by the tags the program puts on them (`runbook.app`, `runbook.environment`, `runbook.service`).
 * Self-contained (only @pulumi/policy): the pack runs from its own folder.
 */
import type { PolicyResource } from "@pulumi/policy";
import { TYPES } from "../lib";

export const FARGATE_TYPES = {
  taskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
  service: "aws:ecs/service:Service",
  listener: "aws:lb/listener:Listener",
  loadBalancer: "aws:lb/loadBalancer:LoadBalancer",
  webAcl: "aws:wafv2/webAcl:WebAcl",
  webAclAssociation: "aws:wafv2/webAclAssociation:WebAclAssociation",
  rdsInstance: "aws:rds/instance:Instance",
  backupVault: "aws:backup/vault:Vault",
  restoreTestingPlan: "aws:backup/restoreTestingPlan:RestoreTestingPlan",
  restoreTestingSelection: "aws:backup/restoreTestingSelection:RestoreTestingSelection",
  scalingTarget: "aws:appautoscaling/target:Target",
  component: "runbook:fargate:FargateApp",
} as const;

/** Task definitions of one-off tasks (judged by their exit code, not a health check). */
export const ONE_OFF_SERVICES: readonly string[] = ["migrate", "release-task"];

export interface EcsContainer {
  readonly name?: string;
  readonly image?: string;
  readonly command?: readonly string[];
  readonly memory?: number;
  readonly cpu?: number;
  readonly environment?: readonly { readonly name: string; readonly value?: string }[];
  readonly secrets?: readonly { readonly name: string; readonly valueFrom: string }[];
  readonly healthCheck?: { readonly command?: readonly string[]; readonly interval?: number };
  readonly logConfiguration?: { readonly logDriver?: string; readonly options?: Readonly<Record<string, string>> };
}

type Tags = Readonly<Record<string, string>> | undefined;
export const tagOf = (r: { props: Record<string, unknown> }, tag: string): string | undefined => (r.props["tags"] as Tags)?.[tag];

/** The containers of a task definition; a definition that is not a JSON list reads as none. */
export function containersOf(props: Record<string, unknown>): EcsContainer[] {
  const text = props["containerDefinitions"];
  if (typeof text !== "string") return [];
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? (parsed as EcsContainer[]) : [];
  } catch {
    return [];
  }
}

export interface FargateService {
  /** As requirements name it: `backend`, `frontend`, `worker:rq`. */
  readonly service: string;
  readonly resource: PolicyResource;
  readonly taskDefinition?: PolicyResource;
  readonly containers: readonly EcsContainer[];
}

export interface FargateAppView {
  readonly id: string;
  readonly environment: string;
  readonly component?: PolicyResource;
  readonly services: readonly FargateService[];
  /** A deploy step of the app by its name's suffix (`migrate`, `release-task`, `pre-deploy-snapshot`, `health-gate`). */
  step(suffix: string): PolicyResource | undefined;
  /** The task definition a step runs, by the step's name suffix. */
  stepTask(suffix: string): PolicyResource | undefined;
  /** The autoscaling floor of a service, where it scales. */
  minCapacity(service: FargateService): number | undefined;
}

export function fargateApps(resources: readonly PolicyResource[]): FargateAppView[] {
  const services = resources.filter((r) => r.type === FARGATE_TYPES.service && tagOf(r, "runbook.app") !== undefined);
  const ids = [...new Set(services.map((s) => tagOf(s, "runbook.app")!))].sort();
  return ids.map((id) => {
    const own = services.filter((s) => tagOf(s, "runbook.app") === id);
    const component = own[0]!.parent;
    const children = component ? resources.filter((r) => r.parent?.urn === component.urn) : [];
    const taskOf = (r: PolicyResource) => r.dependencies.find((d) => d.type === FARGATE_TYPES.taskDefinition);
    const step = (suffix: string) => children.find((r) => r.type === TYPES.localCommand && r.name.endsWith(`-${suffix}`));
    return {
      id,
      environment: tagOf(own[0]!, "runbook.environment") ?? "",
      ...(component && { component }),
      services: own.map((resource) => {
        const taskDefinition = taskOf(resource);
        return { service: tagOf(resource, "runbook.service")!, resource, ...(taskDefinition && { taskDefinition }), containers: taskDefinition ? containersOf(taskDefinition.props) : [] };
      }),
      step,
      stepTask: (suffix) => {
        const s = step(suffix);
        return s ? taskOf(s) : undefined;
      },
      minCapacity: (service) => {
        const target = resources.find((r) => r.type === FARGATE_TYPES.scalingTarget && r.dependencies.some((d) => d.urn === service.resource.urn));
        return target ? Number(target.props["minCapacity"]) : undefined;
      },
    };
  });
}
