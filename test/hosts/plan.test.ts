/** The offline plan shows each app's host and firewall. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { runPlan } from "../../plan/cli";
import { ROOT, stackSpec } from "../helpers";
import { awsStackConfig } from "./fixtures";

describe("the offline plan's hosts and firewall", () => {
  it("names every prod app's host, its pinned key and its firewall rules", async () => {
    const out = await runPlan({ stack: "prod", json: false, cwd: ROOT });
    expect(out.exitCode).toBe(0);
    const section = out.stdout.split("Hosts and firewall:\n")[1]!.split("\n\n")[0]!;
    for (const app of stackSpec("prod").apps) {
      if (app.host.kind !== "ssh") throw new Error(`${app.id}: prod hosts are ssh hosts`);
      expect(section).toContain(`  ${app.id}: ${String(app.host.dockerHost)} (host key pinned)\n      host firewall\n      ports 80, 443: anywhere\n      ssh 22: ${app.firewall.adminCidrs.join(", ")}`);
    }
  });

  it("shows a created host and a lockdown as such, and plans them with no violation", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-aws-"));
    const raw = awsStackConfig({ lockdown: true, blockedCidrs: ["192.0.2.66/32"] }) as Record<string, unknown>;
    const file = path.join(dir, "Pulumi.aws.yaml");
    fs.writeFileSync(file, stringify({ config: { "aws:region": "eu-west-1", ...Object.fromEntries(Object.entries(raw).map(([k, v]) => [`runbook:${k}`, v])) } }));
    const out = await runPlan({ configFile: file, json: false, cwd: ROOT });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(out.stderr).toBe("");
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toContain(
      "  fdts: an instance the stack creates (t3.large, ami-0123456789abcdef0, subnet-0123456789abcdef0), reached as ssh://deploy@<its elastic IP> with a generated host key\n      security group, LOCKDOWN\n      ports 80, 443: admins only (203.0.113.0/24, 2001:db8:1::/48)\n      ssh 22: 203.0.113.0/24, 2001:db8:1::/48\n      blocked: 192.0.2.66/32",
    );
    expect(out.stdout).toContain("runbook:firewall:IncidentEvidence  fdts-evidence");
    expect(out.stdout).toContain("Policies: no violations.");
  });
});
