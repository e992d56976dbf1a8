/**
 * What the plan shows about replacement: the JSON's options.deleteBeforeReplace is what the
 * program declared (true, false, or absent), and the tree marks every resource whose replacement
 * deletes first, by declaration or by the provider's default (pulumi-docker: containers).
 */
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import { describe, expect, it } from "vitest";
import { runUnderMocks } from "../../plan/mockRuntime";
import { PROVIDER_DELETE_BEFORE_REPLACE, deleteBeforeReplaceOf } from "../../plan/providerDefaults";
import { runPlan } from "../../plan/cli";
import { planDocument, renderTree } from "../../plan/report";
import { CONTAINER, ROOT, stackSpec } from "../helpers";

describe("replacement in the plan", () => {
  it("says what the program declared and marks delete-first replacements, provider defaults included", async () => {
    const run = await runUnderMocks(stackSpec("staging"), "replacement", () => {
      new docker.Container("undeclared", { image: "img" });
      new docker.Container("declared-false", { image: "img" }, { deleteBeforeReplace: false });
      new docker.Container("declared-true", { image: "img" }, { deleteBeforeReplace: true });
      new docker.Volume("volume", {});
      new random.RandomPassword("password", { length: 32 }, { deleteBeforeReplace: true });
    });
    const doc = planDocument("s", "staging", run.resources, [], []);
    const option = (name: string) => doc.resources.find((r) => r.name === name)!.options;
    expect("deleteBeforeReplace" in option("undeclared")).toBe(false);
    expect(option("declared-false").deleteBeforeReplace).toBe(false);
    expect(option("declared-true").deleteBeforeReplace).toBe(true);
    expect("deleteBeforeReplace" in option("volume")).toBe(false);

    const line = (name: string) => renderTree(run.resources).split("\n").find((l) => l.endsWith(`  ${name}`) || l.includes(`  ${name}  [`))!;
    expect(line("undeclared")).toMatch(/ undeclared {2}\[deleteBeforeReplace \(provider default\)\]$/);
    expect(line("declared-false")).toMatch(/ declared-false$/);
    expect(line("declared-true")).toMatch(/ declared-true {2}\[deleteBeforeReplace\]$/);
    expect(line("volume")).toMatch(/ volume$/);
    expect(line("password")).toMatch(/ password {2}\[deleteBeforeReplace\]$/);
  });

  it("keeps the provider default for Docker containers, with its source", () => {
    expect(PROVIDER_DELETE_BEFORE_REPLACE[CONTAINER]).toEqual({
      deleteBeforeReplace: true,
      source: "pulumi/pulumi-docker provider/resources.go: docker_container DeleteBeforeReplace: true",
    });
    expect(deleteBeforeReplaceOf({ type: "docker:index/network:Network", options: { protect: false, retainOnDelete: false, ignoreChanges: [], additionalSecretOutputs: [] } })).toBeUndefined();
  });

  it("marks, for the committed prod stack, exactly the containers that delete first", async () => {
    const outcome = await runPlan({ stack: "prod", json: false, cwd: ROOT });
    const json = outcome.document!;
    const text = outcome.stdout;
    for (const r of json.resources) {
      const tree = text.split("\n").find((l) => l.includes(`${r.type}  ${r.name}`))!;
      const declared = r.options.deleteBeforeReplace;
      const expected =
        declared === true ? "deleteBeforeReplace" : declared === undefined && r.type === CONTAINER ? "deleteBeforeReplace (provider default)" : undefined;
      const marks = /\[(.*)\]$/.exec(tree)?.[1]?.split(", ") ?? [];
      if (expected) expect(marks, tree).toContain(expected);
      else expect(marks.filter((m) => m.startsWith("deleteBeforeReplace")), tree).toEqual([]);
    }
    // Each proxy publishes host ports and declares it.
    expect(text).toMatch(/docker:index\/container:Container {2}lms-proxy {2}\[deleteBeforeReplace\]/);
  });
});
