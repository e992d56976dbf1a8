/**
 * Every Pulumi SDK internal the offline plan leans on, in one place. None of these are in the
 * SDK's public typings; test/plan/pulumiInternals.test.ts fails loudly if any of them changes
 * shape, which is why the Pulumi packages are pinned to exact versions.
 */
import { createRequire } from "node:module";
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
  /** The `import` option's id (empty when the resource is created). */
  getImportid(): string;
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

type DebuggablePromise = <T>(p: Promise<T>, ctx: unknown) => Promise<T>;
/**
 * runtime/debuggable.js's own exports object (not an import namespace, whose properties are
 * read-only): every SDK module calls it through this object (`debuggable_1.debuggablePromise(...)`).
 */
export const debuggableModule = createRequire(__filename)("@pulumi/pulumi/runtime/debuggable") as { debuggablePromise: DebuggablePromise };

let promiseStacksOff = false;
/**
 * The SDK's debuggablePromise records `new Error().stack` on every promise it makes, for the leak
 * report it prints when a program exits with promises pending. Under source maps (tsx, vitest) that
 * stack formatting was most of a mock run's time, measured at over half of the CPU of a prod plan. The
 * plan never prints that report: its promises are recorded without a stack. Errors keep theirs.
 */
export function recordPromisesWithoutStacks(): void {
  if (promiseStacksOff) return;
  promiseStacksOff = true;
  const original = debuggableModule.debuggablePromise;
  debuggableModule.debuggablePromise = function <T>(this: unknown, p: Promise<T>, ctx: unknown): Promise<T> {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return original.call(this, p, ctx) as Promise<T>;
    } finally {
      Error.stackTraceLimit = limit;
    }
  };
}

/** The wire format's secret and unknown markers (sdk/nodejs/runtime/rpc.ts). */
export const SPECIAL_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
export const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
