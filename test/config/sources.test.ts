import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../config/errors";
import { parseStackConfig } from "../../config/resolve";
import { OFFLINE_SECRET_PLACEHOLDER, readPulumiConfig, readStackFile } from "../../config/sources";
import { runPlanCli } from "../helpers";

const dirs: string[] = [];
function stackFile(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stackfile-"));
  dirs.push(dir);
  const file = path.join(dir, "Pulumi.test.yaml");
  fs.writeFileSync(file, text);
  return file;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe("reading a stack file offline", () => {
  it("keeps the project's keys, leaves other namespaces to their providers, and masks secure values", () => {
    const raw = readStackFile(
      stackFile(
        [
          "config:",
          "  aws:region: eu-west-1",
          "  runbook:environment: staging",
          "  runbook:secrets:",
          "    handwork:",
          "      STRIPE_SECRET_KEY:",
          "        secure: v1:Zm9vYmFy:YmF6",
          "",
        ].join("\n"),
      ),
      "runbook",
    );
    expect(raw).toEqual({ environment: "staging", secrets: { handwork: { STRIPE_SECRET_KEY: { secure: OFFLINE_SECRET_PLACEHOLDER } } } });
    expect(JSON.stringify(raw)).not.toContain("YmF6");
  });

  it("names the file when it is not YAML or has no config map", () => {
    const bad = stackFile("config: [unclosed\n");
    expect(() => readStackFile(bad, "runbook")).toThrow(ConfigError);
    expect(() => readStackFile(bad, "runbook")).toThrow(`${bad}:2:1: is not valid YAML`);
    const empty = stackFile("encryptionsalt: abc\n");
    expect(() => readStackFile(empty, "runbook")).toThrow(`${empty}: has no \`config:\` map`);
  });
});

describe("stack config keys, as strict as the Pulumi CLI", () => {
  it("refuses a key without a namespace, which the CLI cannot parse, and accepts <ns>:config:<name>", () => {
    const file = stackFile("config:\n  environment: prod\n  runbook:config:apps: {}\n");
    expect(() => readStackFile(file, "runbook")).toThrow(
      "environment: is not a config key the Pulumi CLI accepts: keys are <namespace>:<name> (here `runbook:environment`)",
    );
    expect(readStackFile(stackFile("config:\n  runbook:config:environment: prod\n"), "runbook")).toEqual({ environment: "prod" });
  });
});

describe("a YAML error in a stack file", () => {
  const problems = (text: string) => {
    try {
      readStackFile(stackFile(text), "runbook");
    } catch (err) {
      return (err as ConfigError).problems.map((p) => `${p.path.replace(/^.*Pulumi\.test\.yaml/, "FILE")}: ${p.message}`);
    }
    return [];
  };

  it.each([
    ["a tab used as indentation", "config:\n  runbook:environment: prod\n\trunbook:apps: {}\n", "FILE:3:1: is not valid YAML: Tabs are not allowed as indentation"],
    ["a key given twice", "config:\n  runbook:environment: prod\n  runbook:environment: staging\n", "FILE:3:3: is not valid YAML: Map keys must be unique"],
    [
      "a nested map on one line",
      "config:\n  runbook:apps:\n    fdts:\n      backend: tag: 1.0\n",
      "FILE:4:16: is not valid YAML: Nested mappings are not allowed in compact mappings",
    ],
  ])("points at the line and column of %s", (_label, text, expected) => {
    expect(problems(text)).toEqual([expected]);
  });

  it("reports every YAML error at once, and never echoes the file's text", () => {
    const found = problems("config:\n  runbook:secrets: sk_live_typed_by_mistake: 1\n  runbook:x: 1\n  runbook:x: 2\n");
    expect(found.map((p) => p.split(": ")[0])).toEqual(["FILE:2:20", "FILE:4:3"]);
    expect(found.join("\n")).not.toContain("sk_live");
  });

  it("reaches the user of the plan as exit 2 with FILE:LINE:COLUMN", () => {
    const file = stackFile("config:\n  runbook:environment: prod\n  runbook:apps:\n    fdts:\n      backend:\n\t\ttag: 1.0\n");
    const res = runPlanCli(["--config-file", file]);
    expect(res.status).toBe(2);
    expect(res.stdout).toBe("");
    expect(res.stderr).toContain(`${file}:6:1: is not valid YAML: Tabs are not allowed as indentation`);
  });
});

describe("reading config from the Pulumi engine", () => {
  const base = {
    "runbook:environment": "staging",
    "runbook:apps": JSON.stringify({ handwork: { backend: { tag: "3.2.0" }, frontend: { tag: "3.2.0" } } }),
    "runbook:secrets": JSON.stringify({ handwork: { STRIPE_SECRET_KEY: "sk_test_not_real" } }),
  };
  afterEach(() => pulumi.runtime.setAllConfig({}));

  it("accepts external secrets the engine marks secret, and passes their value on", () => {
    pulumi.runtime.setAllConfig(base, ["runbook:secrets"]);
    const raw = readPulumiConfig("runbook");
    expect(raw["secrets"]).toEqual({ handwork: { STRIPE_SECRET_KEY: { secure: "sk_test_not_real" } } });
    const spec = parseStackConfig(raw);
    expect(spec.apps[0]!.externalSecrets).toEqual({ STRIPE_SECRET_KEY: "sk_test_not_real" });
    expect(spec.apps[0]!.unsetExternalSecrets).toEqual(["PAYPAL_CLIENT_SECRET", "TWILIO_AUTH_TOKEN", "SENDGRID_API_KEY"]);
  });

  it("refuses the same secret set as plain text", () => {
    pulumi.runtime.setAllConfig(base, []);
    expect(() => parseStackConfig(readPulumiConfig("runbook"))).toThrow(
      "runbook:secrets.handwork.STRIPE_SECRET_KEY: must be a secret: set it with `pulumi config set --secret --path <key>`, never as plain text",
    );
  });
});
