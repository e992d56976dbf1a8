/**
 * Pulumi entry point: read and validate the stack's config, then declare the stack.
 *
 * The project is CommonJS, and the nodejs language host (`@pulumi/pulumi/cmd/run/run.js`) does
 * `require(program)` and calls the result only when the module itself is a function. So the module
 * IS the function (`export =`): an `export default` would give `{ default: [Function] }`, which the
 * host never calls, and a `pulumi up` would then delete every unprotected resource of the stack.
 * test/program/languageHost.test.ts loads this project through run.js itself to keep it that way.
 * Importing this module creates nothing.
 */
import * as pulumi from "@pulumi/pulumi";
import { PROJECT } from "./config/defaults";
import { ConfigError } from "./config/errors";
import { parseStackConfig } from "./config/resolve";
import { rotationClock } from "./config/rotationClock";
import { readPulumiConfig } from "./config/sources";
import { deployStack, type StackOutputs } from "./program";

async function main(): Promise<StackOutputs> {
  const project = pulumi.getProject() || PROJECT;
  try {
    // The rotation clock: the real time, or RUNBOOK_ROTATION_NOW in a preview (config/secrets.ts).
    const now = rotationClock(process.env, pulumi.runtime.isDryRun());
    return deployStack(parseStackConfig(readPulumiConfig(project), project, { now }));
  } catch (err) {
    if (err instanceof ConfigError) throw quietRunError(err.message);
    throw err;
  }
}

/**
 * A RunError the host prints as one line per problem, with no stack trace. Its stack is set to the
 * message: run.js's uncaughtHandler still formats the error for a tracing event (`util.inspect`),
 * and computing a real stack there maps every frame through source-map-support, measured at 30 s
 * of CPU before the CLI printed the config problems (test/program/languageHost.test.ts).
 */
function quietRunError(message: string): pulumi.RunError {
  const err = new pulumi.RunError(message);
  err.stack = message;
  return err;
}

export = main;
