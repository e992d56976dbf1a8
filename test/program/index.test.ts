/**
 * The Pulumi CLI's path: index.ts reads the config the engine gives it, validates it, and
 * declares the stack; a bad config fails with a RunError (no stack trace) naming every key path.
 */
import * as pulumi from "@pulumi/pulumi";
import { afterEach, describe, expect, it } from "vitest";
import main from "../../index";
import { mocks } from "../../plan/mockRuntime";
import { MockMonitorPrototype, waitForRPCs } from "../../plan/pulumiInternals";

const apps = {
  fdts: { backend: { tag: "2.4.0" } },
  handwork: { backend: { tag: "3.2.0" }, frontend: { tag: "3.2.0" }, proxy: { httpPort: 8080 } },
};

async function runMain(config: Record<string, string>, secretKeys: string[] = [], names: string[] = []) {
  pulumi.runtime.setAllConfig(config, secretKeys);
  await pulumi.runtime.setMocks(mocks, "runbook", "cli", false);
  const original = MockMonitorPrototype.registerResource;
  MockMonitorPrototype.registerResource = function (req, cb) {
    names.push(req.getName());
    return original.call(this, req, cb);
  };
  try {
    const outputs = await main();
    await waitForRPCs();
    return { outputs, names };
  } finally {
    MockMonitorPrototype.registerResource = original;
  }
}

afterEach(() => pulumi.runtime.setAllConfig({}));

describe("index.ts under the Pulumi engine", () => {
  it("declares the apps of the stack's config and returns their endpoints and releases", async () => {
    const { outputs, names } = await runMain(
      {
        "runbook:environment": "staging",
        "runbook:apps": JSON.stringify(apps),
        "runbook:secrets": JSON.stringify({ handwork: { STRIPE_SECRET_KEY: "sk_test_not_real" } }),
      },
      ["runbook:secrets"],
    );
    expect(names).toContain("fdts-backend-0");
    expect(names).toContain("handwork-health-gate");
    expect(outputs.environment).toBe("staging");
    expect(outputs.apps["handwork"]!.release).toEqual({ backend: "ghcr.io/handwork/backend:3.2.0", frontend: "ghcr.io/handwork/admin:3.2.0", proxy: "nginx:1.27.3-alpine" });
    expect(outputs.apps["handwork"]!.unsetExternalSecrets).toEqual(["PAYPAL_CLIENT_SECRET", "TWILIO_AUTH_TOKEN", "SENDGRID_API_KEY"]);
    expect(outputs.apps["fdts"]!.endpoint).toBe("http://localhost:80");
    expect(outputs.apps["handwork"]!.endpoint).toBe("http://localhost:8080");
  });

  it("fails with a RunError naming every bad key, before declaring any resource", async () => {
    const names: string[] = [];
    const run = runMain({ "runbook:environment": "prod", "runbook:apps": JSON.stringify({ fdts: { backend: { tag: "latest", replicas: 0 } } }) }, [], names);
    await expect(run).rejects.toBeInstanceOf(pulumi.RunError);
    await expect(run).rejects.toThrow(
      "invalid stack config (2 problems):\n  runbook:apps.fdts.backend.replicas: must be at least 1\n  runbook:apps.fdts.backend.tag: must be a pinned version in prod, not `latest` (a rollback needs the previous tag)",
    );
    expect(names).toEqual([]);
  });

  it("refuses an external secret the engine does not mark secret", async () => {
    const run = runMain({
      "runbook:environment": "staging",
      "runbook:apps": JSON.stringify(apps),
      "runbook:secrets": JSON.stringify({ handwork: { STRIPE_SECRET_KEY: "sk_test_not_real" } }),
    });
    await expect(run).rejects.toThrow("runbook:secrets.handwork.STRIPE_SECRET_KEY: must be a secret");
  });
});
