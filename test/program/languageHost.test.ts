/**
 * index.ts as the Pulumi CLI runs it: loaded by the nodejs language host's own code (run.js), with
 * the config the engine hands over. A wrong export shape (an `export default` the host never
 * calls) registers nothing but the root Stack, and fails here.
 */
import { describe, expect, it } from "vitest";
import { runLanguageHost } from "./languageHost";

const apps = {
  fdts: { backend: { tag: "2.4.0" } },
  handwork: { backend: { tag: "3.2.0" }, frontend: { tag: "3.2.0" }, proxy: { httpPort: 8080 } },
};

// The host compiles the whole program with its ts-node before declaring a resource, and each app
// brings its backups, monitoring, hosting and secret-store resources: well over a minute on 2 busy cores.
describe("index.ts loaded by the nodejs language host", () => {
  it("is called by the host: declares every app of the config and exports endpoints and releases as stack outputs", () => {
    const run = runLanguageHost(
      "staging",
      {
        "runbook:environment": "staging",
        "runbook:apps": apps,
        "runbook:secrets": { handwork: { STRIPE_SECRET_KEY: "sk_test_not_real" } },
      },
      ["runbook:secrets"],
    );
    expect(run.status, run.stderr).toBe(0);
    const names = run.resources.map((r) => r.name);
    expect(names).toContain("fdts-backend-0");
    expect(names).toContain("handwork-health-gate");
    expect(run.resources.filter((r) => r.type === "runbook:app:AppStack").map((r) => r.name).sort()).toEqual(["fdts", "handwork"]);
    const outputs = run.stackOutputs as { environment: string; apps: Record<string, { endpoint: string; release: Record<string, string>; unsetExternalSecrets: string[] }> };
    expect(outputs.environment).toBe("staging");
    expect(outputs.apps["handwork"]!.release).toMatchObject({ backend: "ghcr.io/handwork/backend:3.2.0", frontend: "ghcr.io/handwork/admin:3.2.0" });
    expect(outputs.apps["handwork"]!.unsetExternalSecrets).toEqual(["PAYPAL_CLIENT_SECRET", "TWILIO_AUTH_TOKEN", "SENDGRID_API_KEY"]);
    expect(outputs.apps["handwork"]!.endpoint).toBe("http://localhost:8080");
    // The secret's value never reaches the host's output.
    expect(`${run.stdout}${run.stderr}`).not.toContain("sk_test_not_real");
  }, 180_000);

  it("stands up a host of its own for an app with `aws` (tls, AWS and the host key through the host's own loader) and reports its address", async () => {
    const { awsStackConfig } = await import("../hosts/fixtures");
    const raw = awsStackConfig({ lockdown: true }) as { environment: string; apps: Record<string, unknown> };
    const run = runLanguageHost("prod", { "runbook:environment": raw.environment, "runbook:apps": raw.apps });
    expect(run.status, run.stderr).toBe(0);
    const types = new Set(run.resources.map((r) => r.type));
    for (const t of ["aws:ec2/instance:Instance", "aws:ebs/volume:Volume", "aws:ec2/eip:Eip", "tls:index/privateKey:PrivateKey", "aws:ec2/securityGroup:SecurityGroup", "command:local:Command"]) {
      expect(types.has(t), t).toBe(true);
    }
    const outputs = run.stackOutputs as { apps: Record<string, { hosting: { host: string; hostKey: string; firewall: string[] } }> };
    expect(outputs.apps["fdts"]!.hosting.host).toMatch(/^ssh:\/\/deploy@198\.51\.100\.\d+$/);
    expect(outputs.apps["fdts"]!.hosting.hostKey).toMatch(/^ssh-ed25519 AAAA/);
    expect(outputs.apps["fdts"]!.hosting.firewall[0]).toBe("security group, LOCKDOWN");
    expect(outputs.apps["lms"]!.hosting.host).toBe("ssh://deploy@lms-prod.example.com");
  }, 180_000);

  it("fails the update with one line per bad key and no stack trace, before declaring any resource", () => {
    const run = runLanguageHost("prod", { "runbook:environment": "prod", "runbook:apps": { fdts: { backend: { tag: "latest", replicas: 0 } } } });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(
      "invalid stack config (2 problems):\n  runbook:apps.fdts.backend.replicas: must be at least 1\n  runbook:apps.fdts.backend.tag: must be a pinned version in prod, not `latest` (a rollback needs the previous tag)",
    );
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.resources.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
  });

  it("refuses an external secret the engine does not mark secret", () => {
    const run = runLanguageHost("staging", {
      "runbook:environment": "staging",
      "runbook:apps": apps,
      "runbook:secrets": { handwork: { STRIPE_SECRET_KEY: "sk_test_not_real" } },
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("runbook:secrets.handwork.STRIPE_SECRET_KEY: must be a secret");
    expect(run.stderr).not.toContain("sk_test_not_real");
  });
});
