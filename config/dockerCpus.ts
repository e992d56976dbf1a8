/**
 * Docker CPU limits as the Docker provider reads them back. pulumi-docker's container `cpus` is
 * ForceNew, and the provider stores what it reads from Docker, not what was sent: the upstream
 * provider (kreuzwerker/terraform-provider-docker, internal/provider/helpers.go
 * `nanoInt64ToDecimalString`) formats NanoCPUs with big.Rat.FloatString(9), returns
 * FloatString(1) when that string holds exactly nine `0` characters, and otherwise trims trailing
 * zeros. A value sent in any other spelling ("1" instead of "1.0") differs on every run and
 * replaces the container on every `pulumi up`. So the program sends exactly that spelling, and
 * config refuses values it cannot spell so that they read back unchanged.
 */

const NANO = 1_000_000_000n;

/** NanoCPUs of a decimal number, or undefined when it is finer than 1e-9 (docker's "value is too precise"). */
export function nanoCpus(cpus: number): bigint | undefined {
  if (!Number.isFinite(cpus) || cpus <= 0) return undefined;
  const [whole, frac = ""] = cpus.toFixed(12).split(".");
  if (/[1-9]/.test(frac.slice(9))) return undefined;
  return BigInt(whole!) * NANO + BigInt(frac.slice(0, 9).padEnd(9, "0"));
}

/** big.Rat.FloatString(digits) of nano / 1e9: rounded half away from zero. */
function floatString(nano: bigint, digits: number): string {
  const scale = 10n ** BigInt(digits);
  let scaled = (nano * scale) / NANO;
  if (((nano * scale) % NANO) * 2n >= NANO) scaled += 1n;
  if (digits === 0) return scaled.toString();
  const text = scaled.toString().padStart(digits + 1, "0");
  return `${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

/** The provider's read-back spelling of a NanoCPUs value (`nanoInt64ToDecimalString`). */
export function readBackCpus(nano: bigint): string {
  const str = floatString(nano, 9);
  if ([...str].filter((c) => c === "0").length === 9) return floatString(nano, 1);
  return str.replace(/0+$/, "");
}

/** The `cpus` string to send: the spelling Docker reads back, so no diff ever appears. */
export function formatCpus(cpus: number): string {
  const nano = nanoCpus(cpus);
  if (nano === undefined) throw new Error(`\`cpus\` ${cpus} must be a positive number with at most 9 decimals`);
  return readBackCpus(nano);
}

/** Why a CPU count cannot be sent so that it reads back unchanged, or undefined when it can. */
export function cpusProblem(cpus: number): string | undefined {
  const nano = nanoCpus(cpus);
  if (nano === undefined) return "must be a positive number with at most 9 decimals";
  const spelled = readBackCpus(nano);
  if (spelled.endsWith(".")) {
    return `cannot be sent so that Docker reads it back unchanged (the Docker provider reads ${cpus} back as "${spelled}", which Docker may not parse back, and a changed value replaces the container on every update); choose a value near it, such as ${cpus - 0.5} or ${cpus + 1}`;
  }
  if (nanoCpus(Number(spelled)) !== nano) {
    return `is read back by the Docker provider as ${spelled}, a different limit, which would replace the container on every update; choose a value that reads back as itself, such as 0.1, 0.25, 0.5 or 1.5`;
  }
  return undefined;
}
