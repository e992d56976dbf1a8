/**
 * Runs the program under Pulumi's mock runtime and records every resource it declares, with
 * the resource options the mocks API does not show (parent, protect, dependencies...).
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { catalogIds } from "../apps";
import type { StackSpec } from "../config/spec";
import { deployStack } from "../program";
import {
  MockMonitorPrototype,
  recordPromisesWithoutStacks,
  waitForRPCs,
  type MockMonitorLike,
  type RegisterResourceRequestLike,
} from "./pulumiInternals";

export interface PlannedResource {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly parent?: string;
  readonly custom: boolean;
  /** URNs this resource depends on (explicit dependsOn and inputs that are outputs of others). */
  readonly dependencies: readonly string[];
  readonly options: {
    readonly protect: boolean;
    /** As the program declared it; undefined when it did not (the provider's default applies). */
    readonly deleteBeforeReplace?: boolean;
    readonly retainOnDelete: boolean;
    readonly ignoreChanges: readonly string[];
    readonly additionalSecretOutputs: readonly string[];
    /** The `import` option: the id of an existing resource the engine reads instead of creating one. */
    readonly importId?: string;
  };
  /** Inputs in Pulumi's wire format: secrets and unknowns keep their markers. */
  readonly wireInputs: Readonly<Record<string, unknown>>;
}

type Recorder = (r: PlannedResource) => void;
let recorder: Recorder | undefined;
let installed = false;

function installCapture(): void {
  if (installed) return;
  installed = true;
  recordPromisesWithoutStacks();
  const original = MockMonitorPrototype.registerResource;
  MockMonitorPrototype.registerResource = async function (this: MockMonitorLike, req: RegisterResourceRequestLike, callback) {
    const parent = req.getParent();
    recorder?.({
      type: req.getType(),
      name: req.getName(),
      urn: this.newUrn(parent, req.getType(), req.getName()),
      ...(parent && { parent }),
      custom: req.getCustom(),
      dependencies: [...new Set(req.getDependenciesList())],
      options: {
        protect: req.hasProtect() ? req.getProtect() : false,
        ...(req.getDeletebeforereplacedefined() && { deleteBeforeReplace: req.getDeletebeforereplace() }),
        retainOnDelete: req.getRetainondelete(),
        ignoreChanges: req.getIgnorechangesList(),
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        ...(req.getImportid() && { importId: req.getImportid() }),
      },
      wireInputs: req.getObject()?.toJavaScript() ?? {},
    });
    return original.call(this, req, callback);
  };
}

const shortHash = (s: string) => createHash("sha1").update(s).digest("hex").slice(0, 7);
const fakeDigest = (s: string) => `sha256:${createHash("sha256").update(s).digest("hex")}`;

/** What the providers would compute, for the few outputs the program reads. */
function mockState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (type) {
    case "docker:index/remoteImage:RemoteImage":
      return { ...inputs, imageId: fakeDigest(String(inputs["name"])), repoDigest: `${String(inputs["name"]).split(":")[0]}@${fakeDigest(String(inputs["name"]))}` };
    case "docker:index/container:Container":
    case "docker:index/network:Network":
    case "docker:index/volume:Volume":
      return { ...inputs, name: inputs["name"] ?? `${name}-${createHash("sha1").update(name).digest("hex").slice(0, 7)}` };
    case "random:index/randomPassword:RandomPassword":
      // Never a real secret: the mock's value is a fixed filler of the requested length.
      return { ...inputs, result: "x".repeat(Number(inputs["length"] ?? 16)) };
    case "random:index/randomId:RandomId":
      return { ...inputs, hex: createHash("sha1").update(name).digest("hex").slice(0, 2 * Number(inputs["byteLength"] ?? 4)) };
    case "random:index/randomBytes:RandomBytes": {
      // Zero bytes of the requested length, in both encodings the provider returns.
      const bytes = Buffer.alloc(Number(inputs["length"] ?? 32));
      return { ...inputs, base64: bytes.toString("base64"), hex: bytes.toString("hex") };
    }
    case "aws:kms/key:Key": {
      return { ...inputs, keyId: fakeUuid(name), arn: mockKmsKeyArn(name) };
    }
    case "aws:secretsmanager/secret:Secret": {
      // The provider names a secret from its prefix and adds Secrets Manager's own 6-character suffix to the ARN.
      const secretName = String(inputs["name"] ?? `${String(inputs["namePrefix"] ?? `${name}-`)}${createHash("sha1").update(name).digest("hex").slice(0, 26)}`);
      return { ...inputs, name: secretName, arn: `arn:aws:secretsmanager:${MOCK_AWS.region}:${MOCK_AWS.account}:secret:${secretName}-AbCdEf` };
    }
    case "tls:index/privateKey:PrivateKey": {
      // A well-formed ed25519 public key (wire format) derived from the name; never a real key pair.
      const raw = createHash("sha256").update(name).digest();
      const wire = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from("ssh-ed25519"), Buffer.from([0, 0, 0, 32]), raw]);
      const publicKeyOpenssh = `ssh-ed25519 ${wire.toString("base64")}\n`;
      const privateKeyOpenssh = "-----BEGIN OPENSSH PRIVATE KEY-----\nb2ZmbGluZS1wbGFjZWhvbGRlci1ub3QtYS1rZXk=\n-----END OPENSSH PRIVATE KEY-----\n";
      return { ...inputs, publicKeyOpenssh, privateKeyOpenssh };
    }
    case "aws:iam/role:Role":
    case "aws:iam/instanceProfile:InstanceProfile":
    case "aws:ec2/securityGroup:SecurityGroup":
      // Autonamed by the provider, as Docker names are: the resource name and a random suffix.
      return { ...inputs, name: inputs["name"] ?? `${name}-${createHash("sha1").update(name).digest("hex").slice(0, 7)}` };
    case "aws:ec2/instance:Instance":
      return { ...inputs, arn: `arn:aws:ec2:${MOCK_AWS.region}:${MOCK_AWS.account}:instance/${mockId(type, name)}` };
    case "aws:ec2/eip:Eip":
      // An address of TEST-NET-2 (RFC 5737), derived from the name.
      return { ...inputs, publicIp: `198.51.100.${(createHash("sha1").update(name).digest()[0]! % 250) + 1}` };
    case "aws:sns/topic:Topic":
      return { ...inputs, arn: `arn:aws:sns:eu-west-1:123456789012:${name}` };
    // Backups: what AWS computes for the backup buckets, keys and writers (names, ARNs, the region).
    case "aws:s3/bucket:Bucket": {
      const bucket = String(inputs["bucket"] ?? `${String(inputs["bucketPrefix"] ?? "")}${createHash("sha1").update(name).digest("hex").slice(0, 12)}`);
      return { ...inputs, bucket, arn: `arn:aws:s3:::${bucket}`, region: inputs["region"] ?? MOCK_AWS.region };
    }
    case "aws:iam/user:User":
      return { ...inputs, name: inputs["name"] ?? name, arn: `arn:aws:iam::${MOCK_AWS.account}:user${String(inputs["path"] ?? "/")}${name}` };
    case "aws:iam/accessKey:AccessKey":
      // Never a real key: a filler the plan shows only as a secret.
      return { ...inputs, secret: "mock-secret-access-key" };
    // Container orchestration: what AWS computes for an app on ECS Fargate (ARNs, names, endpoints).
    case "aws:secretsmanager/secretVersion:SecretVersion":
      // Secrets Manager's version id: a new one for each new value.
      return { ...inputs, versionId: fakeUuid(JSON.stringify(inputs["secretString"] ?? "")) };
    case "aws:cloudwatch/logGroup:LogGroup":
      return { ...inputs, arn: `arn:aws:logs:${MOCK_AWS.region}:${MOCK_AWS.account}:log-group:${String(inputs["name"] ?? name)}` };
    case "aws:ecs/cluster:Cluster":
      return { ...inputs, name: inputs["name"] ?? `${name}-${shortHash(name)}`, arn: `arn:aws:ecs:${MOCK_AWS.region}:${MOCK_AWS.account}:cluster/${name}-${shortHash(name)}` };
    case "aws:ecs/taskDefinition:TaskDefinition":
      // A revision per content: a new container definition is a new revision, as ECS registers it.
      return { ...inputs, revision: 1, arn: `arn:aws:ecs:${MOCK_AWS.region}:${MOCK_AWS.account}:task-definition/${String(inputs["family"])}:${shortHash(JSON.stringify(inputs["containerDefinitions"] ?? ""))}` };
    case "aws:ecs/service:Service":
      return { ...inputs, name: inputs["name"] ?? `${name}-${shortHash(name)}` };
    case "aws:lb/loadBalancer:LoadBalancer":
      return { ...inputs, arn: `arn:aws:elasticloadbalancing:${MOCK_AWS.region}:${MOCK_AWS.account}:loadbalancer/app/${name}/${shortHash(name)}`, arnSuffix: `app/${name}/${shortHash(name)}`, dnsName: `${name}-${shortHash(name)}.${MOCK_AWS.region}.elb.amazonaws.com` };
    case "aws:wafv2/webAcl:WebAcl":
      return { ...inputs, arn: `arn:aws:wafv2:${MOCK_AWS.region}:${MOCK_AWS.account}:regional/webacl/${name}/${fakeUuid(name)}` };
    case "aws:lb/targetGroup:TargetGroup":
      return { ...inputs, arn: `arn:aws:elasticloadbalancing:${MOCK_AWS.region}:${MOCK_AWS.account}:targetgroup/${name}/${shortHash(name)}`, arnSuffix: `targetgroup/${name}/${shortHash(name)}` };
    case "aws:lb/listener:Listener":
      return { ...inputs, arn: `arn:aws:elasticloadbalancing:${MOCK_AWS.region}:${MOCK_AWS.account}:listener/app/${name}/${shortHash(name)}` };
    case "aws:rds/instance:Instance": {
      const identifier = `${String(inputs["identifierPrefix"] ?? "")}${shortHash(name)}`;
      return { ...inputs, identifier, arn: `arn:aws:rds:${MOCK_AWS.region}:${MOCK_AWS.account}:db:${identifier}`, address: `${identifier}.abcdefghijkl.${MOCK_AWS.region}.rds.amazonaws.com`, port: 5432 };
    }
    case "aws:elasticache/replicationGroup:ReplicationGroup":
      return { ...inputs, primaryEndpointAddress: `master.${name}.abcdef.euw1.cache.amazonaws.com` };
    case "aws:backup/vault:Vault": {
      const vaultName = String(inputs["name"] ?? `${name}-${shortHash(name)}`);
      return { ...inputs, name: vaultName, arn: `arn:aws:backup:${MOCK_AWS.region}:${MOCK_AWS.account}:backup-vault:${vaultName}` };
    }
    case "aws:cloudwatch/eventRule:EventRule": {
      const ruleName = String(inputs["name"] ?? `${name}-${shortHash(name)}`);
      return { ...inputs, name: ruleName, arn: `arn:aws:events:${MOCK_AWS.region}:${MOCK_AWS.account}:rule/${ruleName}` };
    }
    case "aws:rds/subnetGroup:SubnetGroup":
    case "aws:elasticache/subnetGroup:SubnetGroup":
      return { ...inputs, name: inputs["name"] ?? `${name}-${shortHash(name)}` };
    case "pulumi:pulumi:StackReference":
      // A recovery stack's source: what that stack would export about each app's backups; for the
      // stack's reference to itself (the release record), no earlier releases: a first update. The
      // engine's builtin provider returns `outputs` and `secretOutputNames`; getOutput indexes `outputs`.
      return { ...inputs, outputs: mockStackExports(String(inputs["name"] ?? name)), secretOutputNames: [] };
    case "command:local:Command":
    case "command:remote:Command":
      return { ...inputs, stdout: schemaReadBackStdout(String(inputs["create"] ?? "")) ?? "", stderr: "" };
    default:
      return { ...inputs };
  }
}

export const MOCK_ORGANIZATION = "organization";

/**
 * What a schema revision read-back prints (components/releases/migrations.ts), derived from the
 * image in its command so each release has its own revision: alembic's `<rev> (head)`, Django's
 * `showmigrations --list`.
 */
export function schemaReadBackStdout(create: string): string | undefined {
  const rev = createHash("sha1").update(create).digest("hex").slice(0, 12);
  if (create.endsWith(" alembic current")) return `${rev} (head)\n`;
  if (create.endsWith(" showmigrations --list")) return `auth\n [X] 0001_initial\n [X] 0012_alter_user_first_name_max_length\ncore\n [X] 0001_initial\n [X] 0002_${rev}\n`;
  return undefined;
}

/** A stable UUID-shaped id from a resource name. */
const fakeUuid = (name: string) => {
  const h = createHash("sha1").update(name).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

/** AWS ids have a shape the program may check (`vol-` + hex): the mock gives each type its own. */
const AWS_ID_PREFIXES: Readonly<Record<string, string>> = {
  "aws:ebs/volume:Volume": "vol",
  "aws:ec2/instance:Instance": "i",
  "aws:ec2/securityGroup:SecurityGroup": "sg",
  "aws:ec2/eip:Eip": "eipalloc",
};

export function mockId(type: string, name: string): string {
  const prefix = AWS_ID_PREFIXES[type];
  return prefix ? `${prefix}-${createHash("sha1").update(name).digest("hex").slice(0, 17)}` : `${name}-id`;
}

/** What another stack of this program exports (AppOutputs.backups of every catalog app), as placeholders. */
export function mockStackExports(stack: string): Record<string, unknown> {
  const slug = stack.replace(/[^a-z0-9-]/gi, "-").toLowerCase();
  const apps = Object.fromEntries(
    catalogIds.map((id) => {
      const bucket = `${id}-${slug}-backups`;
      return [id, { backups: { bucket, bucketArn: `arn:aws:s3:::${bucket}`, prefix: id, kmsKeyArn: mockKmsKeyArn(`${id}-${slug}-backup-key`) } }];
    }),
  );
  return { environment: "prod", apps };
}

/** The account and region the mocks put in AWS ARNs (as the KMS and Secrets Manager mocks): placeholders, never a real account. */
export const MOCK_AWS = { region: "eu-west-1", account: "111122223333" } as const;

/** The ARN the mocks give the KMS key named `name`. */
export const mockKmsKeyArn = (name: string) => `arn:aws:kms:${MOCK_AWS.region}:${MOCK_AWS.account}:key/${fakeUuid(name)}`;

const noFunctions = (args: pulumi.runtime.MockCallArgs): never => {
  throw new Error(`the offline plan has no mock for the function ${args.token}`);
};

export const mocks: pulumi.runtime.Mocks = {
  newResource: (args) => ({ id: mockId(args.type, args.name), state: mockState(args.type, args.name, args.inputs) }),
  call: noFunctions,
};

/**
 * A first `pulumi preview`: nothing exists yet, so the engine hands back each resource's inputs and
 * leaves what the provider would compute unknown (ids, image digests, generated names, passwords).
 * Under the mock runtime with `preview = true`, an output the mock does not return is unknown and an
 * empty id is unknown (runtime/resource.js, rpc.js `deserializeProperty`).
 */
export const firstPreviewMocks: pulumi.runtime.Mocks = {
  newResource: (args) => ({ id: undefined, state: { ...args.inputs, ...autoname(args.type, args.name, args.inputs) } }),
  call: noFunctions,
};

/**
 * Names the provider gives during Check, so a preview knows them: pulumi-docker autonames `name`
 * (provider/resources.go, `prov.SetAutonaming(255, "-")`), which the engine's Check fills in before
 * any preview of a create.
 */
function autoname(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const autonamed = ["docker:index/container:Container", "docker:index/network:Network", "docker:index/volume:Volume"];
  return autonamed.includes(type) ? { name: mockState(type, name, inputs)["name"] } : {};
}

export interface RunOptions {
  /** Run as a first preview would: provider outputs unknown, `apply` callbacks on them never run. */
  readonly preview?: boolean;
  /**
   * How long the program may take to finish its registrations. In preview an output awaited by
   * hand never resolves; the run then fails with a message instead of hanging.
   */
  readonly timeoutMs?: number;
  /** Other mocks than the plan's (a test that wants provider outputs of its own, say). */
  readonly mocks?: pulumi.runtime.Mocks;
}

const DEFAULT_TIMEOUT_MS = 60_000;

function withTimeout<T>(work: Promise<T>, ms: number, preview: boolean): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `the program's resources did not finish registering within ${ms / 1000} s${
              preview ? " in preview mode: something awaits an output that stays unknown in a preview (an apply that never runs)" : ""
            }`,
          ),
        ),
      ms,
    );
    timer.unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export interface PlanRun {
  readonly resources: readonly PlannedResource[];
  readonly outputs: unknown;
}

/**
 * Declares the stack under mocks and returns every resource it registered. Runs may follow one
 * another in a process: each gets a fresh mock monitor and its own record.
 */
export async function runUnderMocks(
  spec: StackSpec,
  stack: string,
  program: (spec: StackSpec) => unknown = deployStack,
  options: RunOptions = {},
): Promise<PlanRun> {
  installCapture();
  const resources: PlannedResource[] = [];
  recorder = (r) => resources.push(r);
  const preview = options.preview ?? false;
  try {
    // The organization is what the CLI passes the language host (`--organization`, runtime/state.js
    // PULUMI_NODEJS_ORGANIZATION); a self-managed backend's is `organization`. The release record's
    // StackReference to the stack itself is named with it.
    await pulumi.runtime.setMocks(options.mocks ?? (preview ? firstPreviewMocks : mocks), spec.project, stack, preview, MOCK_ORGANIZATION);
    let outputs: unknown;
    try {
      outputs = program(spec);
    } catch (err) {
      // Let what the program declared before it threw finish on this run's monitor; otherwise
      // it lands on the next run's and fails there as an unknown resource.
      await waitForRPCs().catch(() => undefined);
      throw err;
    }
    await withTimeout(waitForRPCs(), options.timeoutMs ?? DEFAULT_TIMEOUT_MS, preview);
    const seen = new Set<string>();
    for (const r of resources) {
      if (seen.has(r.urn)) throw new Error(`two resources share the URN ${r.urn}`);
      seen.add(r.urn);
    }
    return { resources, outputs };
  } finally {
    recorder = undefined;
  }
}
