import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../config/errors";
import { parseStackConfig } from "../../config/resolve";
import { OFFLINE_SECRET_PLACEHOLDER, readPulumiConfig, readStackFile } from "../../config/sources";

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
    expect(() => readStackFile(bad, "runbook")).toThrow(`${bad}: is not valid YAML`);
    const empty = stackFile("encryptionsalt: abc\n");
    expect(() => readStackFile(empty, "runbook")).toThrow(`${empty}: has no \`config:\` map`);
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
