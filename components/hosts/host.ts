/**
 * Host: where an app's containers run. Two kinds, from config:
 * - an existing Docker host (`apps.<id>.host`, ssh with its pinned `hostKey`, or the local socket):
 *   nothing is created, the host spec is handed on as it is;
 * - an AWS instance made by the stack (`apps.<id>.aws`): its ssh host key (generated in the stack,
 *   kept as a secret in the state), an instance role allowing only Systems Manager and the policy
 *   documents given (the backup writer's), encrypted root and data volumes, IMDSv2 only, an elastic
 *   IP, and user data that installs Docker and the host key. A fresh stack stands up a fresh
 *   machine: the disaster-recovery path.
 *
 * Its output `hostSpec` is the Docker host the app's provider and every deploy step use: for an
 * instance, `ssh://deploy@<elastic ip>` with the generated key pinned. Those values resolve only
 * once the instance has finished its setup (the readiness step), so nothing dials a half-built host.
 *
 * The host key: @pulumi/tls's PrivateKey (ED25519) is made once and kept in the state, so every run
 * pins the same key; a key made by Node's crypto at program time would change on every run, and
 * @pulumi/random makes no key pairs.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import type { AppSpec, HostSpec, MachineSpec } from "../../config/spec";
import { deployCommand, type DeployCommand } from "../app/deployCommand";
import { renderAssumeRolePolicy, SSM_MANAGED_POLICY_ARN } from "./iamPolicies";
import { hostPackages } from "./hostPackages";
import { HOST_READY_COMMAND, renderUserData } from "./userData";

export interface HostArgs {
  /** The app, resolved: `host`, and `machine` for a host the stack creates. */
  readonly app: Pick<AppSpec, "id" | "environment" | "host" | "machine" | "protectState" | "database" | "proxy" | "maintenance">;
  /** The security groups of an instance (the Firewall's); required with `app.machine`. */
  readonly securityGroupIds?: readonly pulumi.Input<string>[];
  /**
   * IAM policy documents (JSON) the instance role gets besides Systems Manager: the backup writer's.
   * Default none.
   */
  readonly extraPolicies?: readonly pulumi.Input<string>[];
}

export const HOST_DEFAULTS = {
  /** Where the data volume is attached (the setup script finds it by its id on Nitro). */
  dataDeviceName: "/dev/sdf",
  volumeType: "gp3",
  /** IMDSv2 only, one hop: containers (a hop further) cannot reach the metadata service or its role. */
  metadata: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1, instanceMetadataTags: "disabled" },
  /** A new instance boots and runs cloud-init before sshd answers: keep dialling (15 s per dial). */
  readyDialErrorLimit: 60,
} as const;

export class Host extends pulumi.ComponentResource {
  /** The Docker host the app's provider and deploy steps use. */
  public readonly hostSpec: HostSpec;
  /** The Docker host address (`ssh://deploy@<ip>` or the existing host's URL). */
  public readonly address: pulumi.Output<string>;
  /** The pinned public host key, where there is one. */
  public readonly hostKey?: pulumi.Output<string>;
  public readonly instance?: aws.ec2.Instance;
  public readonly dataVolume?: aws.ebs.Volume;
  public readonly elasticIp?: aws.ec2.Eip;
  public readonly role?: aws.iam.Role;
  public readonly instanceProfile?: aws.iam.InstanceProfile;
  /** Waits for the instance's first-boot setup. */
  public readonly ready?: DeployCommand;

  constructor(name: string, args: HostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook:hosts:Host", name, {}, opts);
    const { app } = args;
    const host = app.host;
    if (!app.machine) {
      if (host.kind === "created") throw new Error("`app.host` is `created`, so `app.machine` must describe the instance");
      this.hostSpec = host;
      this.address = pulumi.output(host.dockerHost);
      if (host.kind === "ssh" && host.hostKey !== undefined) this.hostKey = pulumi.output(host.hostKey);
      this.registerOutputs({ address: this.address });
      return;
    }
    if (host.kind !== "created") throw new Error("`app.machine` is given, so `app.host` must be `created`");
    if ((args.securityGroupIds ?? []).length === 0) throw new Error("`securityGroupIds` must name the instance's security group (the Firewall's)");

    const m: MachineSpec = app.machine;
    const parent = { parent: this };
    const stateOpts = { parent: this, protect: app.protectState, retainOnDelete: app.protectState };
    const tags = { Name: name, "runbook.app": app.id, "runbook.environment": app.environment };

    const key = new tls.PrivateKey(`${name}-host-key`, { algorithm: "ED25519" }, { ...parent, additionalSecretOutputs: ["privateKeyOpenssh", "privateKeyPem", "privateKeyPemPkcs8"] });
    const publicKey = key.publicKeyOpenssh.apply((k) => k.trim());
    this.hostKey = publicKey;

    this.role = new aws.iam.Role(`${name}-role`, { assumeRolePolicy: renderAssumeRolePolicy(), tags }, parent);
    new aws.iam.RolePolicyAttachment(`${name}-ssm`, { role: this.role.name, policyArn: SSM_MANAGED_POLICY_ARN }, parent);
    (args.extraPolicies ?? []).forEach((policy, i) => new aws.iam.RolePolicy(`${name}-policy-${i}`, { role: this.role!.name, policy }, parent));
    this.instanceProfile = new aws.iam.InstanceProfile(`${name}-profile`, { role: this.role.name, tags }, parent);

    const encryption = { encrypted: true, ...(m.kmsKeyId !== undefined && { kmsKeyId: m.kmsKeyId }) };
    // State: protected and kept on delete in prod, like the Docker volumes it holds.
    this.dataVolume = new aws.ebs.Volume(
      `${name}-data`,
      { availabilityZone: m.availabilityZone, size: m.dataVolumeGb, type: HOST_DEFAULTS.volumeType, ...encryption, tags },
      stateOpts,
    );

    const userData = pulumi
      .all([key.privateKeyOpenssh, publicKey, this.dataVolume.id])
      .apply(([privateOpenssh, publicOpenssh, dataVolumeId]) =>
        renderUserData({
          hostKey: { privateOpenssh, publicOpenssh },
          user: m.user,
          authorizedKeys: m.sshAuthorizedKeys,
          dataVolumeId,
          dataDeviceName: HOST_DEFAULTS.dataDeviceName,
          packages: hostPackages(app).map((p) => p.name),
        }),
      );
    this.instance = new aws.ec2.Instance(
      `${name}-instance`,
      {
        ami: m.amiId,
        instanceType: m.instanceType,
        subnetId: m.subnetId,
        vpcSecurityGroupIds: [...args.securityGroupIds!],
        iamInstanceProfile: this.instanceProfile.name,
        userData: pulumi.secret(userData),
        // cloud-init runs user data once per instance: a change (new authorized keys) on a stopped and
        // started instance would never be applied, so it gives a fresh instance instead. Docker's state
        // is on the data volume, which the new instance mounts as it is.
        userDataReplaceOnChange: true,
        rootBlockDevice: { volumeSize: m.rootVolumeGb, volumeType: HOST_DEFAULTS.volumeType, deleteOnTermination: true, ...encryption },
        metadataOptions: { ...HOST_DEFAULTS.metadata },
        tags,
        volumeTags: tags,
      },
      { ...parent, additionalSecretOutputs: ["userData", "userDataBase64"] },
    );
    // Replaced only with the volume detached from a stopped instance, never attached twice.
    new aws.ec2.VolumeAttachment(
      `${name}-data-attachment`,
      { deviceName: HOST_DEFAULTS.dataDeviceName, volumeId: this.dataVolume.id, instanceId: this.instance.id, stopInstanceBeforeDetaching: true },
      { ...parent, deleteBeforeReplace: true },
    );
    // The address in DNS: kept in prod like the state.
    this.elasticIp = new aws.ec2.Eip(`${name}-ip`, { domain: "vpc", instance: this.instance.id, tags }, { parent: this, protect: app.protectState });

    const ip = this.elasticIp.publicIp;
    this.ready = deployCommand(
      `${name}-ready`,
      {
        host: { kind: "ssh", dockerHost: pulumi.interpolate`ssh://${m.user}@${ip}`, user: m.user, host: ip, port: host.port, hostKey: publicKey },
        create: HOST_READY_COMMAND,
        triggers: [this.instance.id],
        dialErrorLimit: HOST_DEFAULTS.readyDialErrorLimit,
      },
      { parent: this, dependsOn: [this.instance] },
    );
    // Resolves once the host is ready: whatever uses the address waits for the setup.
    const afterReady = <T>(value: pulumi.Output<T>) => pulumi.all([value, this.ready!.urn]).apply(([v]) => v);
    this.address = afterReady(pulumi.interpolate`ssh://${m.user}@${ip}`);
    this.hostSpec = {
      kind: "ssh",
      dockerHost: this.address,
      user: m.user,
      host: afterReady(ip),
      port: host.port,
      hostKey: publicKey,
      dockerSshOpts: dockerSshKnownHostOpts(publicKey),
      machineId: this.instance.id,
    };
    this.registerOutputs({ address: this.address, hostKey: this.hostKey });
  }
}

/**
 * ssh options that make the Docker provider's ssh accept exactly the pinned key of a host the stack
 * creates, which is in nobody's known_hosts: `KnownHostsCommand` (OpenSSH 8.5 or later) prints it
 * as a known_hosts line for the host ssh looks up (`%H`), and the usual files are not read (a
 * recycled elastic IP may still be there with an old machine's key).
 */
export function dockerSshKnownHostOpts(publicKey: pulumi.Input<string>): pulumi.Input<string>[] {
  return ["-o", "UserKnownHostsFile=/dev/null", "-o", "GlobalKnownHostsFile=/dev/null", "-o", pulumi.output(publicKey).apply(knownHostsCommand)];
}

/** The ssh option that answers a known_hosts lookup with the pinned key (`%H`: the host looked up). */
export function knownHostsCommand(publicKey: string): string {
  if (!/^ssh-ed25519 [A-Za-z0-9+/]+=*$/.test(publicKey)) throw new Error("`publicKey` must be one ssh-ed25519 key, `ssh-ed25519 <base64>`");
  return `KnownHostsCommand=/bin/echo %H ${publicKey}`;
}
