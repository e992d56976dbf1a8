/**
 * External secrets set in a stack (test/fixtures/Pulumi.secrets.yaml sets every one of three apps,
 * as `secure:` values) leave the program only as Pulumi secrets: "[secret]" in the plan, secret on
 * the wire to every container and deploy step, and never in plain text, ciphertext or placeholder.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { PROJECT } from "../../config/defaults";
import { parseStackConfig } from "../../config/resolve";
import { OFFLINE_SECRET_PLACEHOLDER, readStackFile } from "../../config/sources";
import type { StackSpec } from "../../config/spec";
import { AppSecrets } from "../../components/secrets/appSecrets";
import { runUnderMocks, type PlannedResource } from "../../plan/mockRuntime";
import { REDACTED, type PlanDocument } from "../../plan/report";
import { CONTAINER, ROOT, inputs, isSecretWire, runPlanCli } from "../helpers";

const FIXTURE = path.join(ROOT, "test/fixtures/Pulumi.secrets.yaml");
const fixtureText = fs.readFileSync(FIXTURE, "utf8");
const ciphertexts = [...fixtureText.matchAll(/secure: (\S+)/g)].map((m) => m[1]!);
const spec: StackSpec = parseStackConfig(readStackFile(FIXTURE, PROJECT), PROJECT);

describe("external secrets set in a stack", () => {
  let doc: PlanDocument;
  let stdout: string;
  let resources: readonly PlannedResource[];
  beforeAll(async () => {
    const res = runPlanCli(["--config-file", FIXTURE, "--json"]);
    expect(res.status, res.stderr).toBe(0);
    stdout = res.stdout;
    doc = JSON.parse(stdout) as PlanDocument;
    resources = (await runUnderMocks(spec, "secrets")).resources;
  });

  it("sets every external secret of the fixture's apps, so the plan warns of none", () => {
    expect(ciphertexts).toHaveLength(7);
    expect(spec.apps.map((a) => [a.id, Object.keys(a.externalSecrets).sort(), a.unsetExternalSecrets])).toEqual([
      ["fairlens", ["ALGORAND_API_KEY"], []],
      ["lms", ["FIREBASE_CREDENTIALS_JSON", "SLACK_WEBHOOK_URL"], []],
      ["handwork", ["PAYPAL_CLIENT_SECRET", "SENDGRID_API_KEY", "STRIPE_SECRET_KEY", "TWILIO_AUTH_TOKEN"], []],
    ]);
    expect(doc.warnings).toEqual([]);
  });

  it("never prints a secret: no ciphertext, no placeholder, no NAME=value in plain text", () => {
    for (const c of ciphertexts) expect(stdout).not.toContain(c);
    expect(stdout).not.toContain(OFFLINE_SECRET_PLACEHOLDER);
    for (const app of spec.apps) for (const name of Object.keys(app.externalSecrets)) expect(stdout).not.toContain(`${name}=`);
  });

  it("passes each one to every backend and worker only inside a Pulumi secret, shown as [secret]", () => {
    for (const app of spec.apps) {
      const carriers = resources.filter((r) => r.type === CONTAINER && (r.name.startsWith(`${app.id}-backend-`) || r.name.startsWith(`${app.id}-worker-`)));
      expect(carriers.length, app.id).toBeGreaterThan(0);
      for (const c of carriers) {
        const envs = c.wireInputs["envs"] as unknown[];
        for (const name of Object.keys(app.externalSecrets)) {
          const carrying = envs.filter((e) => JSON.stringify(e).includes(`"${name}=`));
          expect(carrying, `${c.name} ${name}`).toHaveLength(1);
          expect(isSecretWire(carrying[0]), `${c.name} ${name}`).toBe(true);
        }
        expect((inputs(c)["envs"] as unknown[]).filter((e) => e === REDACTED).length).toBeGreaterThanOrEqual(Object.keys(app.externalSecrets).length);
        expect(doc.resources.find((r) => r.urn === c.urn)!.inputs).toEqual(inputs(c));
      }
    }
  });

  it("hands them to the migration step on stdin as a secret", () => {
    for (const app of spec.apps) {
      const migrate = resources.find((r) => r.name === `${app.id}-migrate`)!;
      expect(isSecretWire(migrate.wireInputs["stdin"]), app.id).toBe(true);
      expect(inputs(migrate)["stdin"]).toBe(REDACTED);
    }
  });

  it("AppSecrets wraps each one as a secret itself, not only where AppStack interpolates it", async () => {
    const handwork = spec.apps.find((a) => a.id === "handwork")!;
    let env: AppSecrets["env"] = {};
    await runUnderMocks(spec, "app-secrets", () => {
      env = new AppSecrets("h-secrets", { app: handwork }).env;
    });
    for (const name of Object.keys(handwork.externalSecrets)) expect(await pulumi.isSecret(env[name]!), name).toBe(true);
  });
});
