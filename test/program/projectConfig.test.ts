/**
 * Pulumi.yaml and every committed Pulumi.<stack>.yaml as the Pulumi CLI checks them before the
 * program runs (rules in ./projectConfigRules.ts, from the CLI's source). The mock runtime never
 * applies these rules, so without this test a stack can plan cleanly offline and still stop
 * `pulumi preview` with "Stack 'prod' is missing configuration value 'secrets'".
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseStackConfig } from "../../config/resolve";
import { readPulumiConfig } from "../../config/sources";
import { MIN_PULUMI_CLI_VERSION } from "../../plan/pulumiCli";
import { ROOT } from "../helpers";
import { declarationsOf, projectProblems, stackConfigError } from "./projectConfigRules";

const project = parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as Record<string, unknown>;
const stackFiles = fs.readdirSync(ROOT).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f));
const stackOf = (file: string) => /^Pulumi\.(.+)\.yaml$/.exec(file)![1]!;

describe("Pulumi.yaml and the committed stacks, by the Pulumi CLI's project config rules", () => {
  it("finds the committed stack files", () => expect(stackFiles.sort()).toEqual(["Pulumi.prod.yaml", "Pulumi.staging.yaml"]));

  it(`Pulumi.yaml is a valid project for CLI ${MIN_PULUMI_CLI_VERSION}`, () => {
    expect(projectProblems(project, MIN_PULUMI_CLI_VERSION)).toEqual([]);
  });

  it.each(stackFiles)("%s passes the CLI's required-unless-default and type checks", (file) => {
    const doc = parse(fs.readFileSync(path.join(ROOT, file), "utf8")) as unknown;
    expect(stackConfigError(project, stackOf(file), doc)).toBeUndefined();
  });

  it("gives every optional project key a default the CLI accepts: secrets defaults to an empty object", () => {
    const secrets = declarationsOf(project).get("secrets")!;
    expect(secrets).toMatchObject({ type: "object", default: {} });
    // A stack that sets only the required keys is complete.
    const minimal = { config: { "runbook:environment": "staging", "runbook:apps": { fdts: { backend: { tag: "1.0.0" } } } } };
    expect(stackConfigError(project, "minimal", minimal)).toBeUndefined();
  });

  describe("the default as the CLI hands it to the program", () => {
    afterEach(() => pulumi.runtime.setAllConfig({}));
    it("is accepted by the program's config reader", () => {
      // config.go createConfigValue: an object default reaches the program as its JSON text.
      pulumi.runtime.setAllConfig({
        "runbook:environment": "staging",
        "runbook:apps": JSON.stringify({ fdts: { backend: { tag: "1.0.0" } } }),
        "runbook:secrets": JSON.stringify(declarationsOf(project).get("secrets")!.default),
      });
      const spec = parseStackConfig(readPulumiConfig("runbook"));
      expect(spec.apps.map((a) => a.id)).toEqual(["fdts"]);
    });
  });
});

describe("the project config rules themselves (exact CLI messages)", () => {
  const proj = (config: Record<string, unknown>) => ({ name: "runbook", runtime: "nodejs", config });
  const stack = (config: Record<string, unknown>) => ({ config });

  it("a project key with no default is required: every missing key in one message", () => {
    const p = proj({ environment: { type: "string" }, apps: { type: "object" }, secrets: { type: "object" } });
    expect(stackConfigError(p, "prod", stack({ "runbook:environment": "prod", "runbook:apps": { fdts: {} } }))).toBe("Stack 'prod' is missing configuration value 'secrets'");
    expect(stackConfigError(p, "prod", stack({}))).toBe("Stack 'prod' is missing configuration values 'apps', 'environment' and 'secrets'");
  });

  it.each([
    [{ type: "integer" }, 3, undefined],
    [{ type: "integer" }, "3", undefined],
    [{ type: "integer" }, "three", "must be of type 'integer'"],
    [{ type: "boolean" }, "true", undefined],
    [{ type: "boolean" }, "yes", "must be of type 'boolean'"],
    [{ type: "string" }, 8001, undefined],
    [{ type: "object" }, { a: 1 }, undefined],
    [{ type: "object" }, "a", "must be of type 'object'"],
    [{ type: "object" }, [1], "must be of type 'object'"],
    [{ type: "array", items: { type: "string" } }, ["a"], undefined],
    [{ type: "array", items: { type: "string" } }, [1], "must be of type 'array<string>'"],
    [{ type: "string", secret: true }, "plain", "must be encrypted as it's secret"],
    [{ type: "string", secret: true }, { secure: "v1:abc" }, undefined],
    [{ type: "object", secret: true }, { a: { secure: "v1:abc" } }, undefined],
  ])("checks a stack value against %j: %j -> %s", (decl, value, error) => {
    const result = stackConfigError(proj({ key: decl }), "s", stack({ "runbook:key": value }));
    if (error === undefined) expect(result).toBeUndefined();
    else expect(result).toBe(`Stack 's' with configuration key 'key' ${error}`);
  });

  it("checks a default against its type when the stack does not set the key", () => {
    expect(projectProblems(proj({ n: { type: "integer", default: "many" } }), MIN_PULUMI_CLI_VERSION)).toEqual([
      "The default value specified for configuration key 'n' is not of the expected type 'integer'",
    ]);
    expect(projectProblems(proj({ o: { type: "object", default: "" } }), MIN_PULUMI_CLI_VERSION)).toEqual([
      "The default value specified for configuration key 'o' is not of the expected type 'object'",
    ]);
    // `default: null` is no default at all: the key stays required.
    expect(stackConfigError(proj({ o: { type: "object", default: null } }), "s", stack({}))).toBe("Stack 's' is missing configuration value 'o'");
  });

  it("refuses the project declarations the CLI refuses", () => {
    expect(projectProblems(proj({ list: { type: "array" } }), MIN_PULUMI_CLI_VERSION)).toEqual([
      "The configuration key 'list' declares an array but does not specify the underlying type via the 'items' attribute",
    ]);
    expect(projectProblems(proj({ k: { type: "string", default: "a", value: "b" } }), MIN_PULUMI_CLI_VERSION)).toEqual([
      "project config 'k' cannot have both a 'default' and 'value' attribute",
    ]);
    expect(projectProblems(proj({ "aws:region": { type: "string" } }), MIN_PULUMI_CLI_VERSION)).toEqual([
      "Configuration key 'aws:region' is not namespaced by the project and should not define a type",
    ]);
    expect(projectProblems(proj({ k: { type: "string", required: true } }), MIN_PULUMI_CLI_VERSION)).toEqual(["#/config/k: additionalProperties 'required' not allowed"]);
  });

  it(`refuses type object before CLI ${MIN_PULUMI_CLI_VERSION}, which is why that is the minimum`, () => {
    expect(projectProblems(project, "3.186.0")).toEqual([
      '#/config/apps/type: value must be one of "string", "integer", "boolean", "array"',
      '#/config/secrets/type: value must be one of "string", "integer", "boolean", "array"',
      '#/config/alerting/type: value must be one of "string", "integer", "boolean", "array"',
    ]);
  });

  it("refuses a stack key without a namespace", () => {
    expect(stackConfigError(proj({}), "s", stack({ environment: "prod" }))).toBe(
      "could not parse environment as a configuration key (configuration keys should be of the form `<namespace>:<name>`)",
    );
  });
});
