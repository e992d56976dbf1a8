/**
 * SecretStore: a copy of every rotating value of an app in AWS Secrets Manager, for operators'
 * break-glass reads (`aws secretsmanager get-secret-value`), encrypted under a customer managed KMS
 * key of the app with automatic key rotation, and recoverable for a window after a deletion.
 *
 * One secret per variable the app reads; a rotation writes a new version (SecretVersion's
 * `secret_string` forces a new version: terraform-provider-aws secret_version.go, ForceNew), and the
 * replaced one keeps Secrets Manager's AWSPREVIOUS label. Values go in as Pulumi secrets only.
 */
import * as kms from "@pulumi/aws/kms";
import * as secretsmanager from "@pulumi/aws/secretsmanager";
import * as pulumi from "@pulumi/pulumi";
import type { StoredSecret } from "./appSecrets";

export interface SecretStoreArgs {
  /** The app id (names, tags). */
  readonly app: string;
  /** The Pulumi project and stack: two stacks in one account never share a secret name. */
  readonly project: string;
  readonly stack: string;
  readonly environment: string;
  /** The values to store, by the variable name the app reads (AppSecrets.stored). */
  readonly secrets: readonly StoredSecret[];
  /** Days a deleted secret stays recoverable: 7 to 30. Default 30. */
  readonly recoveryWindowDays?: number;
  /** Days between automatic rotations of the KMS key's material: 90 to 2560. Default 90 (quarterly). */
  readonly keyRotationDays?: number;
}

const DEFAULTS = { recoveryWindowDays: 30, keyRotationDays: 90, keyDeletionWindowDays: 30 } as const;

/** Secrets Manager names: letters, digits and /_+=.@- (the name prefix keeps them). */
const NAME_CHARS = /^[A-Za-z0-9/_+=.@-]+$/;

export class SecretStore extends pulumi.ComponentResource {
  public readonly key: kms.Key;
  /** Each stored secret's name in Secrets Manager, by variable: what a break-glass read asks for. */
  public readonly names: Readonly<Record<string, pulumi.Output<string>>>;
  /** Each stored secret's ARN, by variable: what an ECS task definition's `secrets` reference. */
  public readonly arns: Readonly<Record<string, pulumi.Output<string>>>;
  /** The value of each secret: what waits for the value to be in Secrets Manager. */
  public readonly versions: readonly secretsmanager.SecretVersion[];

  constructor(name: string, args: SecretStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook:secrets:SecretStore", name, {}, opts);
    const recoveryWindowInDays = args.recoveryWindowDays ?? DEFAULTS.recoveryWindowDays;
    const rotationPeriodInDays = args.keyRotationDays ?? DEFAULTS.keyRotationDays;
    if (!Number.isInteger(recoveryWindowInDays) || recoveryWindowInDays < 7 || recoveryWindowInDays > 30) {
      throw new Error(`\`recoveryWindowDays\` must be a whole number from 7 to 30 (got ${recoveryWindowInDays}); 0 would delete without recovery`);
    }
    if (!Number.isInteger(rotationPeriodInDays) || rotationPeriodInDays < 90 || rotationPeriodInDays > 2560) {
      throw new Error(`\`keyRotationDays\` must be a whole number from 90 to 2560 (got ${rotationPeriodInDays}), as KMS allows`);
    }
    const seen = new Set<string>();
    for (const s of args.secrets) {
      if (seen.has(s.name)) throw new Error(`\`secrets\`: ${s.name} is given twice`);
      seen.add(s.name);
    }
    const prefix = `${args.project}/${args.stack}/${args.app}`;
    if (!NAME_CHARS.test(prefix)) throw new Error(`\`project\`, \`stack\` and \`app\` must make a Secrets Manager name (letters, digits, /_+=.@-): ${prefix}`);
    const tags = { "runbook.app": args.app, "runbook.environment": args.environment, "runbook.stack": args.stack };

    this.key = new kms.Key(
      `${name}-key`,
      {
        description: `Encrypts the secrets of ${args.app} (${args.stack}) in Secrets Manager`,
        enableKeyRotation: true,
        rotationPeriodInDays,
        deletionWindowInDays: DEFAULTS.keyDeletionWindowDays,
        tags,
      },
      { parent: this },
    );
    const names: Record<string, pulumi.Output<string>> = {};
    const arns: Record<string, pulumi.Output<string>> = {};
    const versions: secretsmanager.SecretVersion[] = [];
    for (const s of args.secrets) {
      const slug = `${name}-${s.name.toLowerCase().replace(/_/g, "-")}`;
      const secret = new secretsmanager.Secret(
        slug,
        {
          namePrefix: `${prefix}/${s.name}-`,
          description: `${s.name} of ${args.app} (${args.stack}), as the app reads it; a copy for break-glass reads, rotated by the stack`,
          kmsKeyId: this.key.arn,
          recoveryWindowInDays,
          tags: { ...tags, "runbook.secret": s.name },
        },
        { parent: this },
      );
      versions.push(new secretsmanager.SecretVersion(`${slug}-value`, { secretId: secret.id, secretString: pulumi.secret(s.value) }, { parent: this }));
      names[s.name] = secret.name;
      arns[s.name] = secret.arn;
    }
    this.names = names;
    this.arns = arns;
    this.versions = versions;
    this.registerOutputs({ names: this.names, keyArn: this.key.arn });
  }
}
