/**
 * The Pulumi CLI this project needs for `pulumi preview` / `pulumi up` (the offline plan needs none).
 * One constant, used by the plan's report, the README and the pull-request workflow's
 * `pulumi-version`; test/plan/pulumiCli.test.ts checks that they agree.
 */

/**
 * Pulumi.yaml declares `apps` and `secrets` as project config of `type: object`. Older CLIs refuse
 * the project file (`#/config/apps: ... value must be one of "string", "integer", "boolean",
 * "array"`): `object` joined the schema in pulumi/pulumi#20129 and its values parse since #20132,
 * first released in 3.187.0 (pulumi/pulumi CHANGELOG.md, "3.187.0 (2025-07-31)", "[yaml] Allow
 * config values to be parsed with type `object`").
 */
export const MIN_PULUMI_CLI_VERSION = "3.187.0";

/** Compares two `major.minor.patch` versions (a pre-release suffix is ignored): <0, 0 or >0. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.replace(/^v/, "").split(/[-+]/)[0]!.split(".").map((n) => Number(n) || 0);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
