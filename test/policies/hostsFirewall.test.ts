/**
 * The hosts and firewall policies as plain functions: a compliant baseline (what the program
 * declares), then one field broken per case, with the exact message.
 */
import { describe, expect, it } from "vitest";
import { renderObjectWriterPolicy, SSM_MANAGED_POLICY_ARN } from "../../components/hosts/iamPolicies";
import { securityGroupEgress, securityGroupIngress } from "../../components/firewall/securityGroupRules";
import * as firewall from "../../policies/firewall";
import * as hosts from "../../policies/hosts";
import { check } from "./harness";

const SG = "aws:ec2/securityGroup:SecurityGroup";
const INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const RULE = "aws:ec2/securityGroupRule:SecurityGroupRule";
const INSTANCE = "aws:ec2/instance:Instance";
const VOLUME = "aws:ebs/volume:Volume";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment";
const REMOTE = "command:remote:Command";
const PROVIDER = "pulumi:providers:docker";

const ADMIN = ["203.0.113.0/24", "2001:db8:1::/48"];
/** The security group the Firewall declares, normal mode and lockdown. */
const sg = (lockdown = false) => ({
  type: SG,
  name: "sg",
  props: { ingress: securityGroupIngress({ publicPorts: [80, 443], sshPort: 22, adminCidrs: ADMIN, lockdown }), egress: securityGroupEgress() },
});
const withIngress = (extra: Record<string, unknown>) => ({ ...sg(), props: { ...sg().props, ingress: [...sg().props.ingress, extra] } });
const anywhere = { cidrBlocks: ["0.0.0.0/0"], ipv6CidrBlocks: [] };

describe("firewall-ingress-public-web-only", () => {
  const p = firewall.ingressPublicWebOnly;
  it("passes the Firewall's security group, in normal mode and in a lockdown", async () => {
    expect(await check(p, sg())).toEqual([]);
    expect(await check(p, sg(true))).toEqual([]);
  });
  it.each([
    ["PostgreSQL from anywhere", withIngress({ protocol: "tcp", fromPort: 5432, toPort: 5432, ...anywhere }), "sg: ingress[3] admits tcp 5432 from 0.0.0.0/0; only TCP 80 and 443 may be open to anywhere."],
    ["a port range from anywhere", withIngress({ protocol: "tcp", fromPort: 80, toPort: 443, cidrBlocks: [], ipv6CidrBlocks: ["::/0"] }), "sg: ingress[3] admits tcp 80-443 from ::/0; only TCP 80 and 443 may be open to anywhere."],
    ["all traffic from anywhere", withIngress({ protocol: "-1", fromPort: 0, toPort: 0, ...anywhere }), "sg: ingress[3] admits all traffic from 0.0.0.0/0; only TCP 80 and 443 may be open to anywhere."],
    ["udp 443 from anywhere", withIngress({ protocol: "udp", fromPort: 443, toPort: 443, ...anywhere }), "sg: ingress[3] admits udp 443 from 0.0.0.0/0; only TCP 80 and 443 may be open to anywhere."],
    ["a separate ingress rule", { type: INGRESS_RULE, name: "r", props: { ipProtocol: "tcp", fromPort: 8080, toPort: 8080, cidrIpv4: "0.0.0.0/0" } }, "r: the rule admits tcp 8080 from 0.0.0.0/0; only TCP 80 and 443 may be open to anywhere."],
  ])("refuses %s", async (_name, resource, message) => {
    expect(await check(p, resource)).toEqual([message]);
  });
});

describe("firewall-ssh-admin-only", () => {
  const p = firewall.sshAdminOnly;
  it("passes the Firewall's security group", async () => {
    expect(await check(p, sg())).toEqual([]);
  });
  it.each([
    ["ssh from anywhere", withIngress({ protocol: "tcp", fromPort: 22, toPort: 22, ...anywhere }), "sg: ingress[3] admits ssh (22) from anywhere (0.0.0.0/0); admit the admin CIDR blocks only."],
    ["ssh from a /8", withIngress({ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["10.0.0.0/8"], ipv6CidrBlocks: [] }), "sg: ingress[3] admits ssh (22) from 10.0.0.0/8, wider than /16; admit the admin CIDR blocks only."],
    ["all traffic from an IPv6 /16", withIngress({ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: [], ipv6CidrBlocks: ["2001::/16"] }), "sg: ingress[3] admits ssh (22) from 2001::/16, wider than /32; admit the admin CIDR blocks only."],
    ["an ec2 rule with ssh from anywhere", { type: RULE, name: "r", props: { type: "ingress", protocol: "tcp", fromPort: 0, toPort: 1024, cidrBlocks: [], ipv6CidrBlocks: ["::/0"] } }, "r: the rule admits ssh (22) from anywhere (::/0); admit the admin CIDR blocks only."],
  ])("refuses %s", async (_name, resource, message) => {
    expect(await check(p, resource)).toEqual([message]);
  });
  it("reads egress rules as no ingress", async () => {
    expect(await check(p, { type: RULE, name: "r", props: { type: "egress", protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] } })).toEqual([]);
  });
});

describe("firewall-private-ports-closed", () => {
  const p = firewall.privatePortsClosed;
  it("passes the Firewall's security group", async () => {
    expect(await check(p, sg())).toEqual([]);
  });
  it.each([
    ["PostgreSQL from an admin block", withIngress({ protocol: "tcp", fromPort: 5432, toPort: 5432, cidrBlocks: ["203.0.113.0/24"], ipv6CidrBlocks: [] }), "sg: ingress[3] admits private port 5432 from 203.0.113.0/24."],
    ["a range over Redis and Prometheus", withIngress({ protocol: "tcp", fromPort: 6000, toPort: 9100, cidrBlocks: ["10.1.0.0/16"], ipv6CidrBlocks: [] }), "sg: ingress[3] admits private ports 6379, 9090, 9093, 9100 from 10.1.0.0/16."],
    ["Grafana through a separate rule", { type: INGRESS_RULE, name: "r", props: { ipProtocol: "tcp", fromPort: 3000, toPort: 3000, cidrIpv6: "2001:db8::/32" } }, "r: the rule admits private port 3000 from 2001:db8::/32."],
  ])("refuses %s", async (_name, resource, message) => {
    expect(await check(p, resource)).toEqual([message]);
  });
});

const instance = {
  type: INSTANCE,
  name: "i",
  props: {
    rootBlockDevice: { volumeSize: 30, volumeType: "gp3", encrypted: true },
    metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
  },
};
const instanceWith = (props: Record<string, unknown>) => ({ ...instance, props: { ...instance.props, ...props } });

describe("hosts-volume-encrypted", () => {
  const p = hosts.volumeEncrypted;
  it("passes the Host's instance and data volume", async () => {
    expect(await check(p, instance)).toEqual([]);
    expect(await check(p, { type: VOLUME, name: "v", props: { size: 100, encrypted: true } })).toEqual([]);
  });
  it.each([
    ["an unencrypted root volume", instanceWith({ rootBlockDevice: { volumeSize: 30 } }), "i: the root volume is not encrypted (rootBlockDevice.encrypted must be true)."],
    ["an unencrypted block device", instanceWith({ ebsBlockDevices: [{ deviceName: "/dev/sdg", encrypted: false }] }), "i: block device /dev/sdg is not encrypted."],
    ["an unencrypted EBS volume", { type: VOLUME, name: "v", props: { size: 100 } }, "v: the volume is not encrypted (encrypted must be true)."],
  ])("refuses %s", async (_name, resource, message) => {
    expect(await check(p, resource)).toEqual([message]);
  });
});

describe("hosts-instance-metadata-tokens-required", () => {
  const p = hosts.instanceMetadataTokensRequired;
  it("passes the Host's instance", async () => {
    expect(await check(p, instance)).toEqual([]);
  });
  it.each([
    ["optional tokens (IMDSv1)", instanceWith({ metadataOptions: { httpTokens: "optional", httpPutResponseHopLimit: 1 } }), 'i: metadataOptions.httpTokens is optional; it must be "required" (IMDSv2).'],
    ["no metadata options", instanceWith({ metadataOptions: undefined }), 'i: metadataOptions.httpTokens is unset (optional); it must be "required" (IMDSv2).'],
    ["a hop limit containers can reach", instanceWith({ metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 } }), "i: metadataOptions.httpPutResponseHopLimit is 2; it must be at most 1."],
  ])("refuses %s", async (_name, resource, message) => {
    const messages = await check(p, resource);
    expect(messages[0]).toBe(message);
  });
  it("allows a larger hop limit when the stack's policy config does", async () => {
    expect(await check(p, instanceWith({ metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 } }), { maxHopLimit: 2 })).toEqual([]);
  });
});

describe("hosts-iam-policy-least-privilege", () => {
  const p = hosts.iamPolicyLeastPrivilege;
  const doc = (actions: unknown, extra: Record<string, unknown> = {}) => ({ type: ROLE_POLICY, name: "rp", props: { policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: actions, Resource: "*", ...extra }] }) } });
  it("passes the backup writer's document and the Systems Manager attachment", async () => {
    expect(await check(p, { type: ROLE_POLICY, name: "rp", props: { policy: renderObjectWriterPolicy("fdts-backups", "fdts/") } })).toEqual([]);
    expect(await check(p, { type: ATTACHMENT, name: "a", props: { policyArn: SSM_MANAGED_POLICY_ARN } })).toEqual([]);
  });
  it.each([
    ["a wildcard action", doc("s3:*"), "rp: the policy, statement 0, allows the wildcard action s3:*; name each action."],
    ["delete on backups", doc(["s3:PutObject", "s3:DeleteObject"]), "rp: the policy, statement 0, allows s3:DeleteObject, which deletes backups or lifts their protection."],
    ["suspending versioning", doc(["s3:PutBucketVersioning"]), "rp: the policy, statement 0, allows s3:PutBucketVersioning, which deletes backups or lifts their protection."],
    ["NotAction", { type: ROLE_POLICY, name: "rp", props: { policy: JSON.stringify({ Statement: [{ Effect: "Allow", NotAction: "iam:*", Resource: "*" }] }) } }, "rp: the policy, statement 0, allows NotAction: every action but those named; name the actions instead."],
    ["a managed admin policy", { type: ATTACHMENT, name: "a", props: { policyArn: "arn:aws:iam::aws:policy/AdministratorAccess" } }, `a: attaches arn:aws:iam::aws:policy/AdministratorAccess; a host's role carries only ${SSM_MANAGED_POLICY_ARN}.`],
    ["a document that is not JSON", { type: ROLE_POLICY, name: "rp", props: { policy: "{not json" } }, "rp: the policy is not a JSON policy document."],
  ])("refuses %s", async (_name, resource, message) => {
    expect(await check(p, resource)).toEqual([message]);
  });
  it("ignores a Deny with a wildcard (it only takes away)", async () => {
    expect(await check(p, { type: ROLE_POLICY, name: "rp", props: { policy: JSON.stringify({ Statement: [{ Effect: "Deny", Action: "s3:Delete*", Resource: "*" }] }) } })).toEqual([]);
  });
});

describe("the backup writer's policy document (sample the Host takes as extraPolicies)", () => {
  it("allows put and get on its prefix only, and listing that prefix only", () => {
    const policy = JSON.parse(renderObjectWriterPolicy("lms-backups-prod", "lms/daily/")) as { Statement: { Effect: string; Action: string | string[]; Resource: string; Condition?: unknown }[] };
    expect(policy.Statement).toEqual([
      { Sid: "PutAndGetBackups", Effect: "Allow", Action: ["s3:PutObject", "s3:GetObject"], Resource: "arn:aws:s3:::lms-backups-prod/lms/daily/*" },
      { Sid: "ListBackups", Effect: "Allow", Action: "s3:ListBucket", Resource: "arn:aws:s3:::lms-backups-prod", Condition: { StringLike: { "s3:prefix": ["lms/daily/*"] } } },
    ]);
    const actions = policy.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions.filter((a) => /delete|\*/i.test(a))).toEqual([]);
  });
  it("refuses a bucket or prefix that would widen it", () => {
    expect(() => renderObjectWriterPolicy("lms-backups", "*")).toThrow("`prefix` must be a key prefix ending in / (got *)");
    expect(() => renderObjectWriterPolicy("*", "lms/")).toThrow("`bucket` must be an S3 bucket name (got *)");
  });
});

describe("hosts-ssh-host-key-pinned", () => {
  const p = hosts.sshHostKeyPinned;
  const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJl0EPPx/2ItuwpX+EKsF0GxH/x7Z/+V3JRm7SEp89vD";
  it("passes a deploy step with a pinned key and a provider that checks keys strictly", async () => {
    expect(await check(p, { type: REMOTE, name: "s", props: { connection: { host: "h.example.com", user: "deploy", hostKey: key } } })).toEqual([]);
    expect(await check(p, { type: PROVIDER, name: "d", props: { host: "ssh://deploy@h.example.com", sshOpts: JSON.stringify(["-o", "StrictHostKeyChecking=yes"]) } })).toEqual([]);
    expect(await check(p, { type: PROVIDER, name: "d", props: { host: "unix:///var/run/docker.sock" } })).toEqual([]);
  });
  it.each([
    ["a step without a host key", { type: REMOTE, name: "s", props: { connection: { host: "h.example.com", user: "deploy" } } }, "s: connects to h.example.com without connection.hostKey, so any host key is accepted; pin the host's key (apps.<id>.hostKey)."],
    ["a provider without strict checking", { type: PROVIDER, name: "d", props: { host: "ssh://deploy@h.example.com", sshOpts: ["-o", "StrictHostKeyChecking=no"] } }, "d: reaches ssh://deploy@h.example.com without StrictHostKeyChecking=yes in sshOpts, so ssh may accept an unknown host key."],
  ])("refuses %s", async (_name, resource, message) => {
    expect(await check(p, resource)).toEqual([message]);
  });
});
