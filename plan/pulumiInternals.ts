/**
 * Every Pulumi SDK internal the offline plan leans on, in one place. None of these are in the
 * SDK's public typings; test/plan/pulumiInternals.test.ts fails loudly if any of them changes
 * shape, which is why the Pulumi packages are pinned to exact versions.
 */
import * as mocks from "@pulumi/pulumi/runtime/mocks";
import * as settings from "@pulumi/pulumi/runtime/settings";

/** The parts of RegisterResourceRequest (protobuf) the plan reads. */
export interface RegisterResourceRequestLike {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getProvider(): string;
  getProtect(): boolean;
  hasProtect(): boolean;
  getDeletebeforereplace(): boolean;
  /**
   * Whether the program gave `deleteBeforeReplace` at all (resource.js sets it to
   * `opts.deleteBeforeReplace !== undefined`): `getDeletebeforereplace()` is false either way.
   */
  getDeletebeforereplacedefined(): boolean;
  getRetainondelete(): boolean;
  getIgnorechangesList(): string[];
  getAdditionalsecretoutputsList(): string[];
  getDependenciesList(): string[];
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
}

export interface MockMonitorLike {
  newUrn(parent: string, type: string, name: string): string;
  registerResource(req: RegisterResourceRequestLike, callback: (err: unknown, res: unknown) => void): Promise<void>;
}

export const MockMonitorPrototype = (mocks as unknown as { MockMonitor: { prototype: MockMonitorLike } }).MockMonitor.prototype;

/** Resolves when every outstanding resource registration and invoke has finished. */
export const waitForRPCs = (settings as unknown as { waitForRPCs: () => Promise<void> }).waitForRPCs;

/** The wire format's secret and unknown markers (sdk/nodejs/runtime/rpc.ts). */
export const SPECIAL_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
export const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
