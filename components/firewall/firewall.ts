/**
 * Firewall: what may reach an app's host. Three kinds, from the resolved FirewallSpec:
 * - `security-group` (a host the stack creates): a security group admitting the proxy's public
 *   ports from anywhere and ssh from the admin blocks only, nothing else, with inline rules, so
 *   the provider removes any rule added by hand; blocked CIDRs become deny entries of the subnet's
 *   network ACL (a security group cannot deny);
 * - `host` (an existing Docker host over ssh): the host firewall of hostFirewallRules.ts, installed
 *   and applied as root by a deploy step whenever its rules change. One app per host applies it,
 *   for the ports of every app on that host;
 * - `none` (the local Docker socket, the machine running Pulumi): nothing is changed.
 * Lockdown: the public ports admit the admin blocks only; ssh is unchanged.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import type { AppSpec } from "../../config/spec";
import { describeFirewall } from "../hosts/describe";
import { deployCommand, type DeployCommand } from "../app/deployCommand";
import { HOST_FIREWALL_COMMAND, renderHostFirewallInstallScript } from "./hostFirewallRules";
import { networkAclDenies, securityGroupEgress, securityGroupIngress, type SecurityGroupRule } from "./securityGroupRules";

export interface FirewallArgs {
  /** The app, resolved: its `firewall`, its `host`, and `machine` for a host the stack creates. */
  readonly app: Pick<AppSpec, "id" | "environment" | "host" | "machine" | "firewall">;
}

export const FIREWALL_DEFAULTS = {
  /** Network ACL rule numbers of blocked CIDRs start here: before the default ACL's allow-all (100). */
  aclRuleNumberBase: 10,
} as const;

export class Firewall extends pulumi.ComponentResource {
  public readonly securityGroup?: aws.ec2.SecurityGroup;
  public readonly networkAclRules: readonly aws.ec2.NetworkAclRule[];
  /** The deploy step that installs and applies the host firewall (existing hosts). */
  public readonly hostFirewall?: DeployCommand;
  /** The rules in words (stack output). */
  public readonly summary: readonly string[];
  /** Resources that must be in place before anything relies on the firewall. */
  public readonly applied: readonly pulumi.Resource[];

  constructor(name: string, args: FirewallArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook:firewall:Firewall", name, {}, opts);
    const { app } = args;
    const fw = app.firewall;
    if (fw.lockdown && fw.adminCidrs.length === 0) throw new Error("`app.firewall.lockdown` needs `app.firewall.adminCidrs`: admins must still reach the host");
    if (fw.kind === "security-group" && !app.machine) throw new Error("`app.firewall.kind` is security-group, so `app.machine` must give its VPC");
    if (fw.blockedCidrs.length > 0 && fw.kind === "security-group" && !app.machine?.networkAclId) {
      throw new Error("`app.machine.networkAclId` is required with `app.firewall.blockedCidrs`");
    }
    const parent = { parent: this };
    this.summary = describeFirewall(fw);
    const acl: aws.ec2.NetworkAclRule[] = [];

    if (fw.kind === "security-group") {
      const tags = { Name: name, "runbook.app": app.id, "runbook.environment": app.environment };
      const rule = (r: SecurityGroupRule) => ({ ...r, ...(r.ipv6CidrBlocks.length === 0 && { ipv6CidrBlocks: [] }) });
      this.securityGroup = new aws.ec2.SecurityGroup(
        `${name}-sg`,
        {
          description: `${app.id} (${app.environment}): proxy ports from anywhere, ssh from admins only`,
          vpcId: app.machine!.vpcId,
          ingress: securityGroupIngress(fw).map(rule),
          egress: securityGroupEgress().map(rule),
          revokeRulesOnDelete: true,
          tags,
        },
        parent,
      );
      for (const deny of networkAclDenies(fw.blockedCidrs, FIREWALL_DEFAULTS.aclRuleNumberBase)) {
        acl.push(
          new aws.ec2.NetworkAclRule(
            `${name}-deny-${deny.ruleNumber}`,
            { networkAclId: app.machine!.networkAclId!, egress: false, protocol: "-1", ruleAction: "deny", ...deny },
            // A rule number can be taken once per ACL: the old entry goes before the new one.
            { ...parent, deleteBeforeReplace: true },
          ),
        );
      }
    } else if (fw.kind === "host" && fw.appliesHostFirewall) {
      const script = renderHostFirewallInstallScript({ publicPorts: fw.hostPorts, sshPort: fw.sshPort, adminCidrs: fw.adminCidrs, blockedCidrs: fw.blockedCidrs, lockdown: fw.lockdown });
      this.hostFirewall = deployCommand(
        `${name}-host-firewall`,
        { host: app.host, create: HOST_FIREWALL_COMMAND, stdin: script, triggers: [createHash("sha256").update(script).digest("hex")] },
        parent,
      );
    }
    this.networkAclRules = acl;
    this.applied = [...(this.securityGroup ? [this.securityGroup] : []), ...acl, ...(this.hostFirewall ? [this.hostFirewall] : [])];
    this.registerOutputs({ summary: this.summary });
  }
}
