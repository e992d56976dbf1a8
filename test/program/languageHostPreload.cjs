/**
 * Preloaded (`node --require`) into the Pulumi nodejs language host (`@pulumi/pulumi/cmd/run`),
 * before the host loads the project. It points the SDK at Pulumi's mock monitor, so the host runs
 * the program exactly as `pulumi up` would (its own require of the project, its ts-node, its
 * config from PULUMI_CONFIG), and records what the program registers in the file LH_OUT.
 * Plain JavaScript on purpose: no TypeScript loader may be in place before the host's own.
 */
"use strict";
const fs = require("node:fs");
const { createHash } = require("node:crypto");

const root = process.env.LH_ROOT;
const out = process.env.LH_OUT;
const load = (m) => require(require.resolve(m, { paths: [root] }));
const pulumi = load("@pulumi/pulumi");
const { MockMonitor } = load("@pulumi/pulumi/runtime/mocks");

const resources = [];
let stackOutputs;
const register = MockMonitor.prototype.registerResource;
MockMonitor.prototype.registerResource = function (req, callback) {
  // LH_INPUTS=1: the inputs too, in the wire format the engine receives (secrets keep their marker).
  const inputs = process.env.LH_INPUTS === "1" ? req.getObject()?.toJavaScript() : undefined;
  resources.push({ type: req.getType(), name: req.getName(), parent: req.getParent() || undefined, ...(inputs && { inputs }) });
  return register.call(this, req, callback);
};
const registerOutputs = MockMonitor.prototype.registerResourceOutputs;
MockMonitor.prototype.registerResourceOutputs = function (req, callback) {
  if (req.getUrn().includes("::pulumi:pulumi:Stack::")) stackOutputs = req.getOutputs()?.toJavaScript();
  return registerOutputs.call(this, req, callback);
};

const digest = (s) => `sha256:${createHash("sha256").update(String(s)).digest("hex")}`;
pulumi.runtime.setMocks(
  {
    newResource: ({ type, name, inputs }) => {
      const state = { ...inputs };
      if (type === "docker:index/remoteImage:RemoteImage") state.imageId = digest(inputs.name);
      if (type.startsWith("docker:index/")) state.name = inputs.name ?? `${name}-${digest(name).slice(7, 14)}`;
      // The release record's StackReference to the stack itself: no earlier outputs (a first update).
      if (type === "pulumi:pulumi:StackReference") Object.assign(state, { outputs: {}, secretOutputNames: [] });
      if (type === "aws:sns/topic:Topic") state.arn = `arn:aws:sns:eu-west-1:123456789012:${name}`;
      if (type === "random:index/randomPassword:RandomPassword") state.result = "x".repeat(Number(inputs.length ?? 16));
      // Backups: what AWS computes for the backup buckets, keys and writers.
      if (type === "aws:s3/bucket:Bucket") {
        state.bucket = inputs.bucket ?? `${inputs.bucketPrefix ?? ""}${digest(name).slice(7, 19)}`;
        Object.assign(state, { arn: `arn:aws:s3:::${state.bucket}`, region: inputs.region ?? "eu-west-1" });
      }
      if (type === "aws:iam/user:User") Object.assign(state, { name: inputs.name ?? name, arn: `arn:aws:iam::111122223333:user/${name}` });
      if (type === "aws:iam/accessKey:AccessKey") state.secret = "mock-secret-access-key";
      if (type.startsWith("command:")) Object.assign(state, { stdout: "", stderr: "" });
      if (type === "random:index/randomBytes:RandomBytes") {
        const bytes = Buffer.alloc(Number(inputs.length ?? 32));
        Object.assign(state, { base64: bytes.toString("base64"), hex: bytes.toString("hex") });
      }
      if (type === "aws:kms/key:Key") Object.assign(state, { keyId: `${name}-key-id`, arn: `arn:aws:kms:eu-west-1:111122223333:key/${name}` });
      if (type === "aws:secretsmanager/secret:Secret") state.name = inputs.name ?? `${inputs.namePrefix ?? `${name}-`}${digest(name).slice(7, 33)}`;
      // Hosts the stack creates: a well-formed ed25519 public key, an elastic IP of TEST-NET-2, AWS-shaped ids.
      if (type === "tls:index/privateKey:PrivateKey") {
        const raw = createHash("sha256").update(name).digest();
        const wire = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from("ssh-ed25519"), Buffer.from([0, 0, 0, 32]), raw]);
        state.publicKeyOpenssh = `ssh-ed25519 ${wire.toString("base64")}\n`;
        state.privateKeyOpenssh = "-----BEGIN OPENSSH PRIVATE KEY-----\nb2ZmbGluZS1wbGFjZWhvbGRlcg==\n-----END OPENSSH PRIVATE KEY-----\n";
      }
      if (type === "aws:ec2/eip:Eip") state.publicIp = `198.51.100.${(createHash("sha1").update(name).digest()[0] % 250) + 1}`;
      if (["aws:iam/role:Role", "aws:iam/instanceProfile:InstanceProfile", "aws:ec2/securityGroup:SecurityGroup"].includes(type)) {
        state.name = inputs.name ?? `${name}-${digest(name).slice(7, 14)}`;
      }
      if (type === "aws:ec2/instance:Instance") state.arn = `arn:aws:ec2:eu-west-1:111122223333:instance/i-${createHash("sha1").update(name).digest("hex").slice(0, 17)}`;
      // Apps on ECS Fargate: the ARNs and names AWS gives (regions and accounts are placeholders).
      const arn = (service, resource) => `arn:aws:${service}:eu-west-1:111122223333:${resource}`;
      if (type === "aws:secretsmanager/secret:Secret") state.arn = arn("secretsmanager", `secret:${state.name}-AbCdEf`);
      if (type === "aws:secretsmanager/secretVersion:SecretVersion") state.versionId = digest(JSON.stringify(inputs.secretString ?? "")).slice(7, 43);
      if (type === "aws:cloudwatch/logGroup:LogGroup") state.arn = arn("logs", `log-group:${inputs.name ?? name}`);
      if (type === "aws:ecs/cluster:Cluster") Object.assign(state, { name: `${name}-c`, arn: arn("ecs", `cluster/${name}-c`) });
      if (type === "aws:ecs/taskDefinition:TaskDefinition") state.arn = arn("ecs", `task-definition/${inputs.family}:1`);
      if (type === "aws:ecs/service:Service") state.name = inputs.name ?? `${name}-s`;
      if (type === "aws:lb/loadBalancer:LoadBalancer") Object.assign(state, { arn: arn("elasticloadbalancing", `loadbalancer/app/${name}/1`), arnSuffix: `app/${name}/1`, dnsName: `${name}.eu-west-1.elb.amazonaws.com` });
      if (type === "aws:lb/targetGroup:TargetGroup") Object.assign(state, { arn: arn("elasticloadbalancing", `targetgroup/${name}/1`), arnSuffix: `targetgroup/${name}/1` });
      if (type === "aws:rds/instance:Instance") Object.assign(state, { identifier: `${inputs.identifierPrefix ?? ""}1`, arn: arn("rds", `db:${inputs.identifierPrefix ?? ""}1`), address: `${name}.rds.example`, port: 5432 });
      if (type === "aws:elasticache/replicationGroup:ReplicationGroup") state.primaryEndpointAddress = `${name}.cache.example`;
      if (type === "random:index/randomId:RandomId") state.hex = digest(name).slice(7, 15);
      const prefix = { "aws:ebs/volume:Volume": "vol", "aws:ec2/instance:Instance": "i", "aws:ec2/securityGroup:SecurityGroup": "sg", "aws:ec2/eip:Eip": "eipalloc" }[type];
      return { id: prefix ? `${prefix}-${createHash("sha1").update(name).digest("hex").slice(0, 17)}` : `${name}-id`, state };
    },
    call: ({ token }) => {
      throw new Error(`no mock for ${token}`);
    },
  },
  process.env.PULUMI_NODEJS_PROJECT,
  process.env.PULUMI_NODEJS_STACK,
  false,
  // What the CLI passes the language host as --organization (PULUMI_NODEJS_ORGANIZATION).
  process.env.PULUMI_NODEJS_ORGANIZATION || "organization",
);

process.on("exit", (code) => {
  fs.writeFileSync(out, JSON.stringify({ code, resources, stackOutputs }));
});
