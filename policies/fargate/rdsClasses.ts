/**
 * vCPUs and memory of an RDS instance class, from its name (AWS "DB instance classes" tables): the
 * burstable t3/t4g sizes, and the general-purpose (m) and memory-optimised (r) families, whose
 * `large` has 2 vCPUs with 8 GiB (m) or 16 GiB (r), doubling with each size. Undefined for a class
 * outside these. Self-contained: the program's config uses it too, to pick a class that holds the
 * runbook's database limits.
 */
const BURSTABLE: Readonly<Record<string, readonly [number, number]>> = {
  micro: [2, 1024],
  small: [2, 2048],
  medium: [2, 4096],
  large: [2, 8192],
  xlarge: [4, 16_384],
  "2xlarge": [8, 32_768],
};

export function rdsClassSize(instanceClass: string): { readonly cpus: number; readonly memoryMb: number } | undefined {
  const burstable = /^db\.t[34]g?\.([a-z0-9]+)$/.exec(instanceClass);
  if (burstable) {
    const size = BURSTABLE[burstable[1]!];
    return size && { cpus: size[0], memoryMb: size[1] };
  }
  const m = /^db\.([mr])[5-8][a-z]*\.(large|xlarge|(\d+)xlarge)$/.exec(instanceClass);
  if (!m) return undefined;
  const factor = m[2] === "large" ? 1 : m[2] === "xlarge" ? 2 : 2 * Number(m[3]);
  return { cpus: 2 * factor, memoryMb: (m[1] === "m" ? 8192 : 16_384) * factor };
}
