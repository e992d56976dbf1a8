/**
 * The schema of a stack's config (the `runbook:` keys of Pulumi.<stack>.yaml), with zod.
 * Unknown keys are errors. Rules that span fields or need the catalog are in ./crossField, and
 * run beside the schema so every problem is reported in one pass.
 */
import { z } from "zod";
import { catalogIds } from "../apps";
import { backupsConfig } from "./backups";
import { cpusProblem } from "./dockerCpus";
import { rotationConfig } from "./secrets";
import { hostsAndFirewallKeys } from "./hosts";
import { NAME as DOMAIN, dnsKeys } from "./dns";
import { adoptSchema } from "./adoption";
import { alertingSchema, monitoringSchema, type AlertingConfig } from "./monitoring";
import { releasesKeys } from "./releases";
import { maintenanceKeys } from "./maintenance";
import { readReplicasSchema } from "./readReplicas";
import { poolerSchema } from "./pooler";
import { loggingKeys } from "./logging";
import { fargateKeys } from "./fargate";

/** A TLS file on the Docker host: an absolute path of letters, digits and ._/@+- (no spaces). */
const TLS_PATH = /^\/[A-Za-z0-9._/@+-]+$/;
const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const IMAGE_REPOSITORY = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;

// `pulumi config set --path` (which `npm run rollback` uses through the Automation API) stores a value
// made of digits only as an integer (pulumi/pulumi#17586, #18287): a tag such as 20240101 comes back a number.
const tag = z
  .union([z.string(), z.number().int().nonnegative()], { error: "must be an image tag string" })
  .transform(String)
  .pipe(z.string().regex(IMAGE_TAG, { error: "must be an image tag: letters, digits, '.', '_' or '-', at most 128 characters" }));
const repository = z
  .string({ error: "must be an image repository string" })
  .regex(IMAGE_REPOSITORY, { error: "must be an image repository such as ghcr.io/org/app (lowercase, no tag)" });

/** Whole MiB, at most 1 TiB. */
const mebibytes = z
  .number({ error: "must be a whole number of MiB" })
  .int({ error: "must be a whole number of MiB" })
  .max(1_048_576, { error: "must be at most 1048576 (1 TiB)" });

const limits = z.strictObject({
  cpus: z
    .number({ error: "must be a number of CPUs" })
    .positive({ error: "must be more than 0" })
    .max(64, { error: "must be at most 64" })
    .superRefine((cpus, ctx) => {
      const problem = cpusProblem(cpus);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .optional(),
  memoryMb: mebibytes.min(16, { error: "must be at least 16 (MiB)" }).optional(),
  memoryReservationMb: mebibytes.min(0, { error: "must be at least 0" }).optional(),
});

const replicas = z
  .number({ error: "must be a whole number from 1 to 20" })
  .int({ error: "must be a whole number from 1 to 20" })
  .min(1, { error: "must be at least 1" })
  .max(20, { error: "must be at most 20" });

const port = z
  .number({ error: "must be a port number from 1 to 65535" })
  .int({ error: "must be a port number from 1 to 65535" })
  .min(1, { error: "must be a port number from 1 to 65535" })
  .max(65535, { error: "must be a port number from 1 to 65535" });

const env = z.record(
  z.string().regex(/^[A-Z_][A-Z0-9_]*$/, { error: "must be an environment variable name (A-Z, 0-9, _)" }),
  z.string({ error: "must be a string (quote numbers and booleans)" }),
);

/** Present only so that asking for it gets a clear refusal instead of "unknown key". */
const publishPort = z.unknown().optional();

/** One public host key as ssh-keyscan and known_hosts print it, without the host name: `<type> <base64>`. */
const HOST_KEY = /^(ssh-ed25519|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|ssh-rsa) [A-Za-z0-9+/]+={0,3}$/;

const appConfig = z.strictObject({
  // Area settings (each area's schema in config/<area>.ts) go below the marked lines.
  // Backups:
  backups: backupsConfig,

  // Monitoring and alerts:
  monitoring: monitoringSchema.optional(),

  // Hosts and firewall:
  ...hostsAndFirewallKeys,
  ...dnsKeys,

  // Secret rotation:
  rotation: rotationConfig,

  // Releases and rollback:
  ...releasesKeys,

  // Maintenance, scaling and diagnostics:
  ...maintenanceKeys,

  // Adoption:
  adopt: adoptSchema.optional(),

  // Centralized logging (config/logging.ts):
  ...loggingKeys,

  // Container orchestration (config/fargate.ts):
  ...fargateKeys,

  host: z.string({ error: "must be a Docker host URL: unix:///path or ssh://user@host[:port]" }).optional(),
  hostKey: z
    .string({ error: "must be the host's public key as a string" })
    .regex(HOST_KEY, { error: "must be one public host key, `<type> <base64>` as ssh-keyscan prints it (e.g. ssh-ed25519 AAAA...), without the host name" })
    .optional(),
  domain: z
    .string({ error: "must be a host name string" })
    .regex(DOMAIN, { error: "must be a DNS host name such as app.example.com (no scheme, port or path)" })
    .optional(),
  backend: z.strictObject(
    {
      tag,
      repository: repository.optional(),
      replicas: replicas.optional(),
      limits: limits.optional(),
      env: env.optional(),
    },
    { error: "is required: the backend's image tag at least (backend.tag)" },
  ),
  frontend: z.strictObject({ tag: tag.optional(), repository: repository.optional(), replicas: replicas.optional(), limits: limits.optional() }).optional(),
  database: z
    .strictObject({
      tag: tag.optional(),
      limits: limits.optional(),
      publishPort,
      readReplicas: readReplicasSchema.optional(),
      // Connection pooling (config/pooler.ts):
      pooler: poolerSchema.optional(),
    })
    .optional(),
  cache: z
    .strictObject({ enabled: z.boolean({ error: "must be true or false" }).optional(), tag: tag.optional(), limits: limits.optional(), publishPort })
    .optional(),
  workers: z.record(z.string(), z.strictObject({ replicas: replicas.optional(), limits: limits.optional() })).optional(),
  proxy: z
    .strictObject({
      tag: tag.optional(),
      httpPort: port.optional(),
      httpsPort: port.optional(),
      tls: z
        .strictObject({
          // Absolute and without spaces: the backups list them in jobs.env as words (components/backups/backupJobs.ts).
          certificateFile: z.string().regex(TLS_PATH, { error: "must be an absolute path on the Docker host, without spaces" }),
          keyFile: z.string().regex(TLS_PATH, { error: "must be an absolute path on the Docker host, without spaces" }),
        })
        .optional(),
      maintenance: z.boolean({ error: "must be true or false" }).optional(),
      rateLimit: z
        .strictObject({
          requestsPerSecond: z.number().int().min(1, { error: "must be at least 1" }).max(10_000, { error: "must be at most 10000" }),
          burst: z.number().int().min(0, { error: "must be at least 0" }).max(100_000, { error: "must be at most 100000" }),
        })
        .optional(),
      clientMaxBodyMb: z.number().int().min(1, { error: "must be at least 1" }).max(10_240, { error: "must be at most 10240" }).optional(),
    })
    .optional(),
  logRotation: z
    .strictObject({
      maxSize: z.string().regex(/^[1-9][0-9]*[kmg]$/, { error: "must be a size such as 10m (k, m or g)" }),
      maxFile: z.number().int().min(1, { error: "must be at least 1" }).max(100, { error: "must be at most 100" }),
    })
    .optional(),
  healthGate: z
    .strictObject({
      attempts: z.number().int().min(1, { error: "must be at least 1" }).max(600, { error: "must be at most 600" }).optional(),
      intervalSeconds: z.number().int().min(1, { error: "must be at least 1" }).max(60, { error: "must be at most 60" }).optional(),
    })
    .optional(),
});

const secretValue = z.strictObject(
  { secure: z.string().min(1) },
  {
    error: (issue) =>
      issue.input === undefined
        ? undefined
        : "must be a secret: set it with `pulumi config set --secret --path <key>`, never as plain text",
  },
);

/** Keyed by catalog id: an unknown app is an unknown key, reported with the catalog's ids. */
const appsSchema = z
  .strictObject(Object.fromEntries(catalogIds.map((id) => [id, appConfig.optional()])) as Record<string, z.ZodOptional<typeof appConfig>>, {
    error: "must be a map of app id to its settings",
  })
  .refine((apps) => Object.values(apps).some((a) => a !== undefined), { error: `must name at least one app: ${catalogIds.join(", ")}` });

const secretsSchema = z.strictObject(
  Object.fromEntries(catalogIds.map((id) => [id, z.record(z.string(), secretValue).optional()])) as Record<string, z.ZodOptional<z.ZodRecord<z.ZodString, typeof secretValue>>>,
  { error: "must be a map of app id to its secrets" },
);

export const stackConfigSchema = z.strictObject({
  environment: z.enum(["prod", "staging"], { error: "must be prod or staging" }),
  apps: appsSchema,
  secrets: secretsSchema.optional(),
  // Monitoring and alerts: where alerts are sent (every leaf secure; config/monitoring.ts says why it is its own key).
  alerting: alertingSchema.optional(),
});

export type StackConfig = {
  environment: "prod" | "staging";
  apps: Record<string, z.infer<typeof appConfig>>;
  secrets?: Record<string, Record<string, { secure: string }>>;
  alerting?: AlertingConfig;
};

/** A path and message, before the project prefix is put on. */
export interface RawProblem {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}
