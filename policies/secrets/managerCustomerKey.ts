import type { PolicyConfigSchema, PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { settings } from "../lib";
import { peek } from "./kinds";

const TYPES = { secret: "aws:secretsmanager/secret:Secret", key: "aws:kms/key:Key" } as const;

const configSchema: PolicyConfigSchema = {
  properties: {
    minRecoveryWindowDays: {
      type: "integer",
      minimum: 7,
      maximum: 30,
      default: 7,
      description: "Fewest days a deleted secret stays recoverable (Secrets Manager allows 7 to 30; 0 deletes at once).",
    },
  },
};

/**
 * Break-glass copies of the secrets are encrypted under a customer managed KMS key the stack makes,
 * with automatic key rotation on, and are recoverable after a deletion. Read without touching an
 * unknown value: `kmsKeyId` must be given and the secret must depend on such a key (in a first
 * preview the key's ARN is not known yet, but the dependency is).
 */
export const managerCustomerKey: StackValidationPolicy = {
  name: "secrets-manager-customer-key",
  description:
    "Every Secrets Manager secret is encrypted under a customer managed KMS key of the stack with key rotation enabled, and stays recoverable for a window after a deletion. The AWS managed key cannot be restricted or audited per app, and a secret deleted without a recovery window is gone.",
  configSchema,
  validateStack: (args, report) => {
    const { minRecoveryWindowDays } = settings<{ minRecoveryWindowDays: number }>(configSchema, args);
    const rotatingKey = (r: PolicyResource) => r.type === TYPES.key && peek(r.props, "enableKeyRotation") === true;
    for (const s of args.resources.filter((r) => r.type === TYPES.secret)) {
      const keyGiven = "kmsKeyId" in s.props && peek(s.props, "kmsKeyId") !== "" && peek(s.props, "kmsKeyId") !== null;
      const keys = s.dependencies.filter((d) => d.type === TYPES.key);
      if (!keyGiven || keys.length === 0) {
        report(`${s.name} is not encrypted under a customer managed KMS key of this stack (kmsKeyId must be the ARN of an aws.kms.Key with enableKeyRotation).`, s.urn);
      } else if (!keys.some(rotatingKey)) {
        report(`${s.name} is encrypted under ${keys.map((k) => k.name).join(", ")}, which does not rotate its key material (enableKeyRotation: true).`, s.urn);
      }
      const window = peek(s.props, "recoveryWindowInDays");
      if (typeof window === "number" && window < minRecoveryWindowDays) {
        report(`${s.name} has a recovery window of ${window} days; at least ${minRecoveryWindowDays} are required so a deleted secret can be restored.`, s.urn);
      }
    }
  },
};
