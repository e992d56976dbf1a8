/**
 * Hosts and firewall under mocks: a stack with a host it creates (fdts on AWS) beside an existing one
 * (lms over ssh). What is created, how the app is wired to the instance's address, and the exact
 * security group rules in normal mode, in a lockdown and with blocked CIDRs.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { runUnderMocks, type PlannedResource } from "../../plan/mockRuntime";
import { byType, inputs, isSecretWire, named } from "../helpers";
import { ADMIN, AWS_HOST, awsStackSpec } from "./fixtures";

const AWS_TYPES = {
  instance: "aws:ec2/instance:Instance",
  volume: "aws:ebs/volume:Volume",
  attachment: "aws:ec2/volumeAttachment:VolumeAttachment",
  eip: "aws:ec2/eip:Eip",
  role: "aws:iam/role:Role",
  attach: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  profile: "aws:iam/instanceProfile:InstanceProfile",
  sg: "aws:ec2/securityGroup:SecurityGroup",
  acl: "aws:ec2/networkAclRule:NetworkAclRule",
  key: "tls:index/privateKey:PrivateKey",
};
const BLOCKED = ["192.0.2.66/32", "2001:db8:bad::/48"];

let normal: readonly PlannedResource[];
let lockdown: readonly PlannedResource[];
let blocked: readonly PlannedResource[];
beforeAll(async () => {
  normal = (await runUnderMocks(awsStackSpec(), "prod")).resources;
  lockdown = (await runUnderMocks(awsStackSpec({ lockdown: true }), "prod")).resources;
  blocked = (await runUnderMocks(awsStackSpec({ blockedCidrs: BLOCKED }), "prod")).resources;
});

const under = (resources: readonly PlannedResource[], component: string) => {
  const root = named(resources, component);
  const inside = (r: PlannedResource): boolean => {
    for (let p = r.parent; p; p = resources.find((x) => x.urn === p)?.parent) if (p === root.urn) return true;
    return false;
  };
  return resources.filter(inside);
};
const ingress = (resources: readonly PlannedResource[]) => inputs(named(resources, "fdts-firewall-sg"))["ingress"];

describe("a host the stack creates (AWS)", () => {
  it("runs the steps that write to the instance's root volume again on a new instance (timers, scripts, release record), and only there", () => {
    const [instanceId] = inputs(named(normal, "fdts-host-ready"))["triggers"] as string[];
    expect(instanceId).toBeTruthy();
    expect(inputs(named(normal, "fdts-backups-install"))["triggers"]).toEqual([instanceId]);
    expect(inputs(named(normal, "fdts-maintenance-install"))["triggers"]).toEqual([instanceId]);
    expect((inputs(named(normal, "fdts-releases-host-file"))["triggers"] as unknown[]).slice(1)).toEqual([instanceId]);
    expect(inputs(named(normal, "lms-backups-install"))["triggers"]).toEqual([]);
    expect(inputs(named(normal, "lms-maintenance-install"))["triggers"]).toEqual([]);
    expect(inputs(named(normal, "lms-releases-host-file"))["triggers"]).toHaveLength(1);
  });

  it("creates the instance, its encrypted data volume, elastic IP, host key and an instance profile allowing only Systems Manager and the backup writer's document", () => {
    const host = under(normal, "fdts-host");
    for (const type of [AWS_TYPES.instance, AWS_TYPES.volume, AWS_TYPES.attachment, AWS_TYPES.eip, AWS_TYPES.role, AWS_TYPES.attach, AWS_TYPES.profile, AWS_TYPES.key]) {
      expect(byType(host, type), type).toHaveLength(1);
    }
    // program.ts hands the Host one extra document: the app's backup writer's (put and get on its prefix, no delete).
    expect(byType(host, AWS_TYPES.rolePolicy).map((r) => inputs(r)["policy"])).toEqual([inputs(named(normal, "fdts-backup-writer-policy"))["policy"]]);
    const instance = inputs(byType(host, AWS_TYPES.instance)[0]!);
    expect(instance).toMatchObject({ ami: AWS_HOST.amiId, instanceType: AWS_HOST.instanceType, subnetId: AWS_HOST.subnetId, userDataReplaceOnChange: true });
    expect(instance["metadataOptions"]).toEqual({ httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1, instanceMetadataTags: "disabled" });
    expect(instance["iamInstanceProfile"]).toMatch(/^fdts-host-profile-[0-9a-f]{7}$/);
    expect(instance["rootBlockDevice"]).toEqual({ volumeSize: 30, volumeType: "gp3", deleteOnTermination: true, encrypted: true });
    const sg = named(normal, "fdts-firewall-sg");
    expect(instance["vpcSecurityGroupIds"]).toHaveLength(1);
    expect(byType(under(normal, "fdts-host"), AWS_TYPES.instance)[0]!.dependencies).toContain(sg.urn);
    const volume = byType(host, AWS_TYPES.volume)[0]!;
    expect(inputs(volume)).toMatchObject({ availabilityZone: AWS_HOST.availabilityZone, size: 100, type: "gp3", encrypted: true });
    expect(volume.options).toMatchObject({ protect: true, retainOnDelete: true });
    expect(byType(host, AWS_TYPES.attachment)[0]!.options.deleteBeforeReplace).toBe(true);
    expect(inputs(byType(host, AWS_TYPES.attachment)[0]!)).toMatchObject({ deviceName: "/dev/sdf", stopInstanceBeforeDetaching: true });
    expect(inputs(byType(host, AWS_TYPES.attach)[0]!)["policyArn"]).toBe("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore");
    expect(JSON.parse(String(inputs(byType(host, AWS_TYPES.role)[0]!)["assumeRolePolicy"]))).toEqual({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
    });
    expect(inputs(byType(host, AWS_TYPES.key)[0]!)).toMatchObject({ algorithm: "ED25519" });
  });

  it("keeps the user data secret: it carries the private host key", () => {
    const instance = byType(under(normal, "fdts-host"), AWS_TYPES.instance)[0]!;
    expect(isSecretWire(instance.wireInputs["userData"])).toBe(true);
    expect(instance.options.additionalSecretOutputs).toEqual(expect.arrayContaining(["userData", "userDataBase64"]));
    expect(byType(under(normal, "fdts-host"), AWS_TYPES.key)[0]!.options.additionalSecretOutputs).toContain("privateKeyOpenssh");
  });

  it("wires the app's Docker provider and every deploy step to the instance's elastic IP and generated key, after the instance is ready", () => {
    const ready = named(normal, "fdts-host-ready");
    const provider = named(normal, "fdts-docker");
    const host = String(inputs(provider)["host"]);
    expect(host).toMatch(/^ssh:\/\/deploy@198\.51\.100\.\d+$/);
    expect(provider.dependencies).toContain(ready.urn);
    const sshOpts = JSON.parse(String(inputs(provider)["sshOpts"])) as string[];
    expect(sshOpts.slice(0, 6)).toEqual(["-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=/dev/null", "-o", "GlobalKnownHostsFile=/dev/null"]);
    expect(sshOpts[7]).toMatch(/^KnownHostsCommand=\/bin\/echo %H ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA[A-Za-z0-9+/]+=*$/);
    const key = sshOpts[7]!.split("%H ")[1];
    const steps = under(normal, "fdts").filter((r) => r.type === "command:remote:Command");
    expect(steps.map((s) => s.name).sort()).toEqual(["fdts-health-gate", "fdts-proxy-config"]);
    for (const s of steps) {
      const connection = (s.wireInputs["connection"] as { value: Record<string, unknown> }).value;
      expect(`ssh://deploy@${String(connection["host"])}`, s.name).toBe(host);
      expect(connection["hostKey"], s.name).toBe(key);
      expect(s.dependencies, s.name).toContain(ready.urn);
    }
    // The readiness step dials the instance with the same pinned key, patiently.
    const readyConnection = (ready.wireInputs["connection"] as { value: Record<string, unknown> }).value;
    expect(readyConnection).toMatchObject({ hostKey: key, user: "deploy", port: 22, dialErrorLimit: 60 });
  });

  it("an existing-host app gets none of them: its provider and steps keep the configured host and key", () => {
    const lms = [...under(normal, "lms-host"), ...under(normal, "lms-firewall")];
    for (const type of Object.values(AWS_TYPES)) expect(byType(lms, type), type).toEqual([]);
    expect(inputs(named(normal, "lms-docker"))["host"]).toBe("ssh://deploy@lms-prod.example.com");
    expect(byType(under(normal, "lms-firewall"), "command:remote:Command").map((r) => r.name)).toEqual(["lms-firewall-host-firewall"]);
  });
});

describe("the security group of a created host", () => {
  it("normal mode: 80 and 443 from anywhere, ssh from the admin blocks only, nothing else", () => {
    expect(ingress(normal)).toEqual([
      { description: "port 80, public", protocol: "tcp", fromPort: 80, toPort: 80, cidrBlocks: ["0.0.0.0/0"], ipv6CidrBlocks: ["::/0"] },
      { description: "port 443, public", protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"], ipv6CidrBlocks: ["::/0"] },
      { description: "ssh, admins only", protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: [ADMIN[0]], ipv6CidrBlocks: [ADMIN[1]] },
    ]);
    expect(inputs(named(normal, "fdts-firewall-sg"))).toMatchObject({ vpcId: AWS_HOST.vpcId, revokeRulesOnDelete: true });
    expect(byType(normal, AWS_TYPES.acl)).toEqual([]);
  });

  it("lockdown: 80 and 443 from the admin blocks only, ssh unchanged, no rule from anywhere", () => {
    expect(ingress(lockdown)).toEqual([
      { description: "port 80, admins only (incident lockdown)", protocol: "tcp", fromPort: 80, toPort: 80, cidrBlocks: [ADMIN[0]], ipv6CidrBlocks: [ADMIN[1]] },
      { description: "port 443, admins only (incident lockdown)", protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: [ADMIN[0]], ipv6CidrBlocks: [ADMIN[1]] },
      { description: "ssh, admins only", protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: [ADMIN[0]], ipv6CidrBlocks: [ADMIN[1]] },
    ]);
  });

  it("blocked CIDRs: one inbound deny entry each in the subnet's network ACL, numbered before its allow rule", () => {
    expect(ingress(blocked)).toEqual(ingress(normal));
    const rules = byType(blocked, AWS_TYPES.acl).map(inputs);
    expect(rules).toEqual([
      { networkAclId: AWS_HOST.networkAclId, ruleNumber: 10, egress: false, protocol: "-1", ruleAction: "deny", cidrBlock: "192.0.2.66/32" },
      { networkAclId: AWS_HOST.networkAclId, ruleNumber: 11, egress: false, protocol: "-1", ruleAction: "deny", ipv6CidrBlock: "2001:db8:bad::/48" },
    ]);
    for (const r of byType(blocked, AWS_TYPES.acl)) expect(r.options.deleteBeforeReplace, r.name).toBe(true);
  });
});

describe("the lockdown switch", () => {
  it("collects evidence after the firewall is applied, and every container and step of the app waits for it", () => {
    for (const id of ["fdts", "lms"]) {
      const collect = named(lockdown, `${id}-evidence-collect`);
      const firewall = id === "fdts" ? named(lockdown, "fdts-firewall-sg") : named(lockdown, "lms-firewall-host-firewall");
      expect(collect.dependencies, id).toContain(firewall.urn);
      expect(named(lockdown, `${id}-docker`).dependencies, id).toContain(collect.urn);
      for (const step of under(lockdown, id).filter((r) => r.type === "command:remote:Command")) expect(step.dependencies, step.name).toContain(collect.urn);
    }
    expect(normal.some((r) => r.name.endsWith("-evidence-collect"))).toBe(false);
  });

  it("turns the proxy's maintenance page on", () => {
    const spec = awsStackSpec({ lockdown: true });
    for (const app of spec.apps) expect(app.proxy.maintenance, app.id).toBe(true);
    for (const app of awsStackSpec().apps) expect(app.proxy.maintenance, app.id).toBe(false);
  });
});

describe("the policy pack over a stack with a created host", () => {
  it("finds no violation in normal mode, in a lockdown or with blocked CIDRs, under prod's policy config", async () => {
    const fs = await import("node:fs");
    const path = await import("node:path");
    const { policies } = await import("../../policies/pack");
    const { resolvePolicyConfig, runPolicies } = await import("../../plan/policyRunner");
    const { ROOT } = await import("../helpers");
    const levels = resolvePolicyConfig(policies, "mandatory", JSON.parse(fs.readFileSync(path.join(ROOT, "policies/config/prod.json"), "utf8")) as Record<string, unknown>);
    for (const resources of [normal, lockdown, blocked]) {
      const { violations } = await runPolicies(resources, policies, levels, false);
      expect(violations).toEqual([]);
    }
  });

  it("gives the instance role each extra policy document (the backup writer's), and the pack accepts it", async () => {
    const { deployHosting } = await import("../../components/hosts/hosting");
    const { renderObjectWriterPolicy } = await import("../../components/hosts/iamPolicies");
    const document = renderObjectWriterPolicy("fdts-backups-prod", "fdts/");
    const spec = awsStackSpec();
    const run = await runUnderMocks(spec, "prod", (s) => deployHosting(s.apps.find((a) => a.id === "fdts")!, undefined, [document]));
    const rolePolicies = byType(run.resources, AWS_TYPES.rolePolicy);
    expect(rolePolicies.map((r) => r.name)).toEqual(["fdts-host-policy-0"]);
    expect(inputs(rolePolicies[0]!)["policy"]).toBe(document);
    expect(rolePolicies[0]!.dependencies).toContain(named(run.resources, "fdts-host-role").urn);
  });
});

describe("existing hosts of the committed stacks", () => {
  it("create no AWS host, and each ssh host gets one host firewall step carrying the rules for every app's ports on it", async () => {
    const { stackSpec } = await import("../helpers");
    const { HOST_FIREWALL_COMMAND, renderHostFirewallInstallScript } = await import("../../components/firewall/hostFirewallRules");
    for (const stack of ["prod", "staging"]) {
      const spec = stackSpec(stack);
      const { resources } = await runUnderMocks(spec, stack);
      for (const type of Object.values(AWS_TYPES)) expect(byType(resources, type), `${stack} ${type}`).toEqual([]);
      const steps = resources.filter((r) => r.name.endsWith("-host-firewall"));
      const hosts = new Set(spec.apps.map((a) => (a.host.kind === "ssh" ? String(a.host.host) : "")));
      expect(steps, stack).toHaveLength(hosts.size);
      for (const step of steps) {
        const app = spec.apps.find((a) => step.name === `${a.id}-firewall-host-firewall`)!;
        const fw = app.firewall;
        if (fw.kind !== "host") throw new Error(`${app.id}: not a host firewall`);
        const sameHost = spec.apps.filter((a) => a.host.kind === "ssh" && app.host.kind === "ssh" && a.host.host === app.host.host);
        expect(fw.hostPorts).toEqual([...new Set(sameHost.flatMap((a) => a.firewall.publicPorts))].sort((x, y) => x - y));
        const i = inputs(step);
        expect(i["create"]).toBe(HOST_FIREWALL_COMMAND);
        expect(i["stdin"]).toBe(renderHostFirewallInstallScript({ publicPorts: fw.hostPorts, sshPort: fw.sshPort, adminCidrs: fw.adminCidrs, blockedCidrs: fw.blockedCidrs, lockdown: fw.lockdown }));
        expect((step.wireInputs["connection"] as { value: Record<string, unknown> }).value["hostKey"]).toMatch(/^ssh-ed25519 AAAA/);
        // The app's Docker provider waits for the host firewall.
        expect(named(resources, `${app.id}-docker`).dependencies).toContain(step.urn);
      }
    }
  });
});

describe("components refuse bad arguments before creating anything", () => {
  it.each([
    ["a created host without its security group", "Host", "`securityGroupIds` must name the instance's security group (the Firewall's)"],
    ["a lockdown without admin blocks", "Firewall", "`app.firewall.lockdown` needs `app.firewall.adminCidrs`: admins must still reach the host"],
    ["blocked CIDRs on a created host without its network ACL", "FirewallAcl", "`app.machine.networkAclId` is required with `app.firewall.blockedCidrs`"],
  ])("%s", async (_name, which, message) => {
    const { Host } = await import("../../components/hosts/host");
    const { Firewall } = await import("../../components/firewall/firewall");
    const fdts = awsStackSpec().apps.find((a) => a.id === "fdts")!;
    const program = () => {
      if (which === "Host") return new Host("x-host", { app: fdts });
      if (which === "Firewall") return new Firewall("x-firewall", { app: { ...fdts, firewall: { ...fdts.firewall, lockdown: true, adminCidrs: [] } } });
      const machine = { ...fdts.machine!, networkAclId: undefined };
      return new Firewall("x-firewall", { app: { ...fdts, machine, firewall: { ...fdts.firewall, blockedCidrs: ["192.0.2.1/32"] } } });
    };
    await expect(runUnderMocks(awsStackSpec(), "prod", program)).rejects.toThrow(message);
  });
});
