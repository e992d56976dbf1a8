import type { StackValidationPolicy } from "@pulumi/policy";
import type { ContainerProps } from "../lib";
import { appViews } from "./appView";
import type { RequirementsData } from "./requirements";

/** Names that say "secret", and URLs that carry a password. */
const SECRET_NAME = /(SECRET|PASSWORD|PASSWD|TOKEN|API_KEY|PRIVATE_KEY|CREDENTIALS|WEBHOOK_URL)/i;
const URL_WITH_PASSWORD = /:\/\/[^/@\s:]+:[^/@\s]+@/;

/**
 * CrossGuard hands policies secret values unwrapped and unmarked (pulumi/pulumi-policy#241), so
 * no policy can tell a secret input from plain text. What it can tell: a variable that looks like a
 * secret but is not one of the secrets the app declares (which the program generates or takes from
 * secure config, and passes only as Pulumi secrets) was set some other way, in plain text.
 */
export const secretEnvDeclared = (data: RequirementsData): StackValidationPolicy => ({
  name: "runbook-secret-env-declared",
  description:
    "A container carries a secret-looking variable only if it is one of the app's declared secrets. A DJANGO_SECRET_KEY, DB_PASSWORD or a DATABASE_URL with a password set under any other name sits in plain text in the stack file, the state and the plan.",
  validateStack: (args, report) => {
    for (const app of appViews(args.resources)) {
      const declared = new Set(data[app.id]?.secretEnv ?? []);
      for (const c of app.containers) {
        const envs = (c.props as ContainerProps).envs ?? [];
        for (let i = 0; i < envs.length; i++) {
          // An entry unknown in a preview is computed by the program (a generated or secret value),
          // never typed as plain text in the stack file: nothing to refuse.
          let entry: string;
          try {
            entry = envs[i]!;
          } catch (err) {
            if (err instanceof Error && err.constructor.name === "UnknownValueError") continue;
            throw err;
          }
          const eq = entry.indexOf("=");
          const name = eq < 0 ? entry : entry.slice(0, eq);
          const value = eq < 0 ? "" : entry.slice(eq + 1);
          if (declared.has(name) || !(SECRET_NAME.test(name) || URL_WITH_PASSWORD.test(value))) continue;
          // Names only: a violation message never carries a value.
          report(`${app.id}: ${c.name} carries ${name}, which looks like a secret but is not one of ${app.id}'s secrets (${[...declared].join(", ") || "none"}); declare it in the catalog or set it with \`pulumi config set --secret\`.`, c.urn);
        }
      }
    }
  },
});
