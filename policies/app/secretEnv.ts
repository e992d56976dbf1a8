import type { PolicyConfigSchema, ResourceValidationPolicy } from "@pulumi/policy";
import { forContainers, settings } from "../lib";

const configSchema: PolicyConfigSchema = {
  properties: {
    secretNamePatterns: {
      type: "array",
      items: { type: "string" },
      default: ["SECRET", "PASSWORD", "TOKEN", "API_KEY", "PRIVATE_KEY", "CREDENTIALS", "WEBHOOK_URL"],
      description: "A variable whose name contains one of these (case-insensitive) is a secret.",
    },
  },
};

/**
 * FDTS security incident: "Change all credentials"; secrets must never sit in plain text.
 *
 * CrossGuard hands secret values to policies unwrapped, with no mark of their secretness
 * (pulumi/pulumi-policy#241), so a policy cannot tell a secret input from a plain one. What it can
 * see, under the CLI and offline alike, is whether the container keeps `envs` secret in the state:
 * a container that carries a secret variable must list `envs` in additionalSecretOutputs. The
 * program additionally wraps every secret value with pulumi.secret (tested under mocks).
 */
export const secretEnv: ResourceValidationPolicy = {
  name: "app-container-secret-env",
  description:
    "A container whose environment carries a secret (a variable named like a secret, or a URL with credentials) keeps its environment secret in the state. The runbooks rotate JWT keys, database passwords and API keys; none of them may be stored in plain text.",
  configSchema,
  validateResource: forContainers((props, args, report) => {
    const { secretNamePatterns } = settings<{ secretNamePatterns: string[] }>(configSchema, args);
    const secretNames = (props.envs ?? [])
      .map((e) => {
        const eq = e.indexOf("=");
        return { name: eq < 0 ? e : e.slice(0, eq), value: eq < 0 ? "" : e.slice(eq + 1) };
      })
      .filter(({ name, value }) => secretNamePatterns.some((p) => name.toUpperCase().includes(p.toUpperCase())) || /:\/\/[^/@\s:]+:[^/@\s]+@/.test(value))
      .map(({ name }) => name);
    if (secretNames.length > 0 && !args.opts.additionalSecretOutputs.includes("envs")) {
      // Names only: a violation message must never carry a secret value.
      report(`Container ${args.name} passes secret variables ${secretNames.join(", ")} but does not keep envs secret; add "envs" to additionalSecretOutputs and pass the values as Pulumi secrets.`);
    }
  }),
};
