/**
 * The size of a Fargate task for a container's limits. Fargate runs only certain CPU and memory
 * pairs (AWS ECS developer guide, "Task CPU and memory"); the task is the smallest pair that holds
 * the container's CPUs and its memory limit, and the container keeps its own hard limit inside it, so
 * it is killed at the runbook's memory figure exactly as on a Docker host.
 */
import type { ResourceLimits } from "../../apps/types";

/** CPU units (1024 = one vCPU) and the memory (MiB) each allows: every step from min to max. */
const SIZES: readonly { readonly cpu: number; readonly memory: readonly number[] }[] = [
  { cpu: 256, memory: [512, 1024, 2048] },
  { cpu: 512, memory: range(1024, 4096, 1024) },
  { cpu: 1024, memory: range(2048, 8192, 1024) },
  { cpu: 2048, memory: range(4096, 16_384, 1024) },
  { cpu: 4096, memory: range(8192, 30_720, 1024) },
  { cpu: 8192, memory: range(16_384, 61_440, 4096) },
  { cpu: 16_384, memory: range(32_768, 122_880, 8192) },
];

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let m = from; m <= to; m += step) out.push(m);
  return out;
}

export interface TaskSize {
  /** Task CPU units, as ECS takes them (`"512"`). */
  readonly cpu: number;
  /** Task memory, MiB. */
  readonly memory: number;
}

/** The smallest Fargate size with at least the container's CPUs and memory limit; throws beyond the largest. */
export function fargateTaskSize(limits: ResourceLimits): TaskSize {
  const cpuUnits = Math.ceil(limits.cpus * 1024);
  for (const size of SIZES) {
    if (size.cpu < cpuUnits) continue;
    const memory = size.memory.find((m) => m >= limits.memoryMb);
    if (memory !== undefined) return { cpu: size.cpu, memory };
  }
  throw new Error(`no Fargate task size holds ${limits.cpus} CPUs and ${limits.memoryMb} MiB (the largest is 16 vCPU and 120 GiB)`);
}

/** Whether a CPU and memory pair is one Fargate runs (for the policies' reading of a task definition). */
export function isFargateSize(cpu: number, memory: number): boolean {
  return SIZES.some((s) => s.cpu === cpu && s.memory.includes(memory));
}
