/**
 * Pulumi entry point: read and validate the stack's config, then declare the stack.
 * Exported as a function, so importing this module creates nothing.
 */
import * as pulumi from "@pulumi/pulumi";
import { PROJECT } from "./config/defaults";
import { ConfigError } from "./config/errors";
import { parseStackConfig } from "./config/resolve";
import { readPulumiConfig } from "./config/sources";
import { deployStack } from "./program";

export default async function main() {
  const project = pulumi.getProject() || PROJECT;
  try {
    return deployStack(parseStackConfig(readPulumiConfig(project), project));
  } catch (err) {
    // One line per problem, no stack trace: the message names every key path.
    if (err instanceof ConfigError) throw new pulumi.RunError(err.message);
    throw err;
  }
}
