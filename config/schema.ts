/**
 * The schema of a stack's config (the `runbook:` keys of Pulumi.<stack>.yaml), with zod.
 * Unknown keys are errors; cross-field rules (catalog ids, `latest` in prod, published
 * database ports, secrets only as secure values) are checked here too, so every problem is
 * reported in one pass.
 */
import { z } from "zod";
import { catalog, catalogIds, type AppDefinition } from "../apps";
import { generatedVariableNames } from "../apps/secretSlots";
import { DEFAULTS, PROTECTED_ENVIRONMENTS } from "./defaults";
import { backupsConfig, backupsProblems } from "./backups";
import { cpusProblem } from "./dockerCpus";
import { rotationConfig } from "./secrets";
import { hostsAndFirewallKeys, hostsAndFirewallProblems } from "./hosts";
import { dnsKeys, dnsProblems } from "./dns";
import { adoptSchema, adoptionProblems } from "./adoption";
import { alertingSchema, monitoringProblems, monitoringSchema, type AlertingConfig } from "./monitoring";
import { releasesKeys, releasesProblems } from "./releases";
import { maintenanceKeys, maintenanceProblems } from "./maintenance";

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

/** A DNS name: labels of letters, digits and '-', dot-separated (the proxy's public host name). */
const DOMAIN = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
/** One public host key as ssh-keyscan and known_hosts print it, without the host name: `<type> <base64>`. */
export const HOST_KEY = /^(ssh-ed25519|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|ssh-rsa) [A-Za-z0-9+/]+={0,3}$/;

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
  database: z.strictObject({ tag: tag.optional(), limits: limits.optional(), publishPort }).optional(),
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
          certificateFile: z.string().startsWith("/", { error: "must be an absolute path on the Docker host" }),
          keyFile: z.string().startsWith("/", { error: "must be an absolute path on the Docker host" }),
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

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const objectAt = (v: unknown, ...path: string[]): Record<string, unknown> | undefined => {
  let cur: unknown = v;
  for (const p of path) cur = isObject(cur) ? cur[p] : undefined;
  return isObject(cur) ? cur : undefined;
};

/**
 * Rules that span fields or need the catalog. They read the raw input defensively and run even
 * when the schema has already found problems, so one run reports every problem.
 */
export function crossFieldProblems(raw: unknown): RawProblem[] {
  const problems: RawProblem[] = [];
  const add = (path: PropertyKey[], message: string) => problems.push({ path, message });
  const environment = isObject(raw) ? raw["environment"] : undefined;
  const prod = typeof environment === "string" && PROTECTED_ENVIRONMENTS.includes(environment);
  const apps = objectAt(raw, "apps") ?? {};
  const taken = new Map<string, string>();

  for (const [appId, appRaw] of Object.entries(apps)) {
    const def = catalog[appId];
    const app = isObject(appRaw) ? appRaw : {};
    const at = (...rest: PropertyKey[]) => ["apps", appId, ...rest];
    if (!def) continue; // reported by the schema as an unknown key
    problems.push(...backendEnvSecretProblems(appId, objectAt(app, "backend", "env"), def));
    problems.push(...backupsProblems(appId, app));
    const host = typeof app["host"] === "string" ? app["host"] : undefined;
    if (host !== undefined) {
      const problem = hostProblem(host);
      if (problem) add(at("host"), problem);
    }
    const isSsh = host?.startsWith("ssh://") ?? false;
    if (isSsh && prod && app["hostKey"] === undefined && app["aws"] === undefined) {
      add(at("hostKey"), "is required for an ssh:// host in prod: deploy steps verify the host against it (take it from the host itself: `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` there, and compare with `ssh-keyscan -t ed25519 <host>`)");
    }
    if (!isSsh && app["hostKey"] !== undefined && app["aws"] === undefined) add(at("hostKey"), "applies to ssh:// hosts only; this app's host is the local Docker socket");
    if (objectAt(app, "proxy", "tls") !== undefined && app["domain"] === undefined) {
      add(at("domain"), "is required with proxy.tls: the certificate is issued for a name, and health probes must send it as the Host");
    }
    if (def.frontend && objectAt(app, "frontend")?.["tag"] === undefined) {
      add(at("frontend", "tag"), `is required: ${def.displayName} has a frontend image`);
    }
    if (!def.frontend && app["frontend"] !== undefined) add(at("frontend"), `${def.displayName} has no frontend; remove this key`);
    if (def.frontend?.adminPort !== undefined && typeof objectAt(app, "frontend")?.["replicas"] === "number" && objectAt(app, "frontend")?.["replicas"] !== 1) {
      add(at("frontend", "replicas"), `${def.displayName}'s frontend is an admin UI on 127.0.0.1:${def.frontend.adminPort}: one container holds that port, so it runs one replica`);
    }
    if (!def.cache && app["cache"] !== undefined) add(at("cache"), `${def.displayName} has no cache; remove this key`);
    if (def.cache && !def.cache.optional && objectAt(app, "cache")?.["enabled"] === false) {
      add(at("cache", "enabled"), `${def.displayName} needs its Redis (runbook); it cannot be turned off`);
    }
    if (def.database.engine === "sqlite" && app["database"] !== undefined) {
      add(at("database"), `${def.displayName} uses SQLite inside the backend; there is no database container to configure`);
    }
    for (const svc of ["database", "cache"] as const) {
      if (objectAt(app, svc)?.["publishPort"] !== undefined) {
        add(at(svc, "publishPort"), `a ${svc} port is never published on the host; reach it through \`docker exec\` or an ssh tunnel`);
      }
    }
    for (const name of Object.keys(objectAt(app, "workers") ?? {})) {
      if (!def.workers.some((w) => w.name === name)) {
        const known = def.workers.map((w) => w.name);
        add(at("workers", name), known.length ? `unknown worker; ${def.displayName} has ${known.join(", ")}` : `${def.displayName} has no workers`);
      }
    }
    for (const svc of ["backend", "frontend", "database", "cache", "proxy"]) {
      if (prod && objectAt(app, svc)?.["tag"] === "latest") {
        add(at(svc, "tag"), "must be a pinned version in prod, not `latest` (a rollback needs the previous tag)");
      }
      const limits = objectAt(app, svc, "limits");
      const reservation = limits?.["memoryReservationMb"];
      const memory = limits?.["memoryMb"];
      if (typeof reservation === "number" && typeof memory === "number" && reservation > memory) {
        add(at(svc, "limits", "memoryReservationMb"), "must not exceed memoryMb");
      }
    }
    // Two apps on one Docker host cannot publish the same host port.
    const proxy = objectAt(app, "proxy") ?? {};
    const published: [PropertyKey[], unknown][] = [[["proxy", "httpPort"], proxy["httpPort"] ?? DEFAULTS.proxy.httpPort]];
    if (proxy["tls"] !== undefined) published.push([["proxy", "httpsPort"], proxy["httpsPort"] ?? DEFAULTS.proxy.httpsPort]);
    if (def.frontend?.adminPort !== undefined) published.push([["frontend"], def.frontend.adminPort]);
    for (const [path, port] of published) {
      if (typeof port !== "number") continue;
      // A host the stack creates (`aws`) is the app's own.
      const hostName = app["aws"] !== undefined ? `the host made for ${appId}` : (host ?? DEFAULTS.host);
      const key = `${hostName}#${port}`;
      const owner = taken.get(key);
      if (owner) add(at(...path), `host port ${port} on ${hostName} is already published by ${owner}; give each app on a host its own port`);
      else taken.set(key, appId);
    }
  }

  for (const [appId, secretsRaw] of Object.entries(objectAt(raw, "secrets") ?? {})) {
    const def = catalog[appId];
    if (!def) continue; // reported by the schema as an unknown key
    if (!(appId in apps)) add(["secrets", appId], "this stack does not deploy that app (add it under apps or remove these secrets)");
    const external = def.backend.secretEnv.filter((s) => s.source === "external").map((s) => s.name);
    for (const name of Object.keys(isObject(secretsRaw) ? secretsRaw : {})) {
      if (external.includes(name)) continue;
      const generated = generatedVariableNames(def.backend.secretEnv).includes(name);
      add(
        ["secrets", appId, name],
        generated
          ? "is generated by the program and rotated by it; it cannot be set"
          : `is not a secret ${def.displayName} reads; its external secrets are ${external.join(", ") || "none"}`,
      );
    }
  }
  problems.push(...hostsAndFirewallProblems(raw, PROTECTED_ENVIRONMENTS, DEFAULTS.host));
  problems.push(...dnsProblems(raw, DEFAULTS.host));
  // Monitoring and alerts:
  problems.push(...monitoringProblems(raw));
  // Releases and rollback:
  problems.push(...releasesProblems(raw));
  // Maintenance, scaling and diagnostics:
  problems.push(...maintenanceProblems(raw, DEFAULTS.host));
  // Adoption:
  problems.push(...adoptionProblems(raw));
  return problems;
}

/**
 * Names shaped like a secret. The same shapes as the policy pack's app-container-secret-env
 * (`secretNamePatterns`, tested to stay a superset), so config refuses what the policy would.
 */
export const SECRET_NAME_PATTERNS: readonly string[] = ["SECRET", "PASSWORD", "PASSWD", "TOKEN", "API_KEY", "APIKEY", "PRIVATE_KEY", "CREDENTIALS", "WEBHOOK_URL"];

/** A URL with a password in it (`postgresql://user:password@host/db`, `redis://:password@cache`). */
const URL_WITH_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^/@\s:]*:[^/@\s]+@/i;

/**
 * `backend.env` is plain text in the stack file, the state and `docker inspect`: a secret never goes
 * there. Refused, naming the key path: a secret the app reads (generated by the program, or external
 * and set only with `pulumi config set --secret`), a name shaped like a secret, and a URL carrying a
 * password. Messages name the variable, never its value.
 */
export function backendEnvSecretProblems(appId: string, env: Record<string, unknown> | undefined, def: AppDefinition): RawProblem[] {
  const problems: RawProblem[] = [];
  for (const [name, value] of Object.entries(env ?? {})) {
    const known = def.backend.secretEnv.find((s) => s.name === name);
    const shape = SECRET_NAME_PATTERNS.find((p) => name.toUpperCase().includes(p));
    let message: string | undefined;
    if (known?.source === "generated") {
      message = `is a secret ${def.displayName} reads, generated and rotated by the program; remove it from env`;
    } else if (known) {
      message = `is a secret ${def.displayName} reads: remove it from env and set it only as a secret (pulumi config set --secret --path 'secrets.${appId}.${name}')`;
    } else if (shape) {
      message = `is named like a secret (${shape}), and env is plain text in the stack file and the state; keep secrets out of env (a secret the app reads belongs in its catalog secretEnv)`;
    } else if (typeof value === "string" && URL_WITH_PASSWORD.test(value)) {
      message = "holds a URL with a password (user:password@), and env is plain text in the stack file and the state; keep credentials out of env";
    }
    if (message) problems.push({ path: ["apps", appId, "backend", "env", name], message });
  }
  return problems;
}

/** Why a Docker host URL is not acceptable, or undefined when it is. */
export function hostProblem(host: string): string | undefined {
  const usage = "must be unix:///path/to/docker.sock or ssh://user@host[:port]";
  let url: URL;
  try {
    url = new URL(host);
  } catch {
    return usage;
  }
  if (url.protocol === "unix:") {
    return url.pathname.startsWith("/") && url.pathname.length > 1 && !url.host ? undefined : usage;
  }
  if (url.protocol === "ssh:") {
    if (!url.username) return `${usage} (the ssh user is missing)`;
    if (!url.hostname) return usage;
    if (url.password) return "must not carry a password; use an ssh key in the agent";
    if (url.pathname && url.pathname !== "/" && url.pathname !== "") return `${usage} (no path after the host)`;
    return undefined;
  }
  if (url.protocol === "tcp:" || url.protocol === "http:" || url.protocol === "https:") {
    return `${usage}; a TCP Docker socket is refused (it is root on the host without ssh's authentication)`;
  }
  return usage;
}
