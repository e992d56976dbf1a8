/**
 * Stack config rules that span fields or need the catalog (catalog ids, `latest` in prod, published
 * ports shared on a host, secrets only where the app reads them), with each area's own rules.
 */
import { catalog } from "../apps";
import { generatedVariableNames } from "../apps/secretSlots";
import { DEFAULTS, PROTECTED_ENVIRONMENTS } from "./defaults";
import { backupsProblems } from "./backups";
import { hostsAndFirewallProblems } from "./hosts";
import { dnsProblems } from "./dns";
import { adoptionProblems } from "./adoption";
import { monitoringProblems } from "./monitoring";
import { releasesProblems } from "./releases";
import { maintenanceProblems } from "./maintenance";
import { readReplicasProblems } from "./readReplicas";
import { poolerProblems } from "./pooler";
import { loggingProblems } from "./logging";
import { fargateProblems, withDockerHostAppsOnly } from "./fargate";
import { backendEnvSecretProblems } from "./envSecrets";
import { hostProblem } from "./dockerHost";
import type { RawProblem } from "./schema";

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
    // `database.readReplicas` alone gets its own message, naming that key (config/readReplicas.ts).
    const onlyReplicas = isObject(app["database"]) && Object.keys(app["database"]).every((k) => k === "readReplicas");
    if (def.database.engine === "sqlite" && app["database"] !== undefined && !onlyReplicas) {
      add(at("database"), `${def.displayName} uses SQLite inside the backend; there is no database container to configure`);
    }
    // Connection pooling:
    problems.push(...poolerProblems(appId, app, def.database.engine, def.displayName));
    problems.push(...loggingProblems(appId, app));
    problems.push(...fargateProblems(appId, app, def.database.engine, def.displayName, def.frontend?.adminPort !== undefined));
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
      if (typeof port !== "number" || app["fargate"] !== undefined) continue;
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
  // Rules about the hosts apps share: a Fargate app has none (its host-only keys are refused above).
  const onHosts = withDockerHostAppsOnly(raw);
  problems.push(...hostsAndFirewallProblems(onHosts, PROTECTED_ENVIRONMENTS, DEFAULTS.host));
  problems.push(...dnsProblems(onHosts, DEFAULTS.host));
  // Monitoring and alerts:
  problems.push(...monitoringProblems(raw));
  // Releases and rollback:
  problems.push(...releasesProblems(raw));
  // Maintenance, scaling and diagnostics:
  problems.push(...maintenanceProblems(onHosts, DEFAULTS.host));
  // Adoption:
  problems.push(...adoptionProblems(raw));
  // Database read replicas:
  problems.push(...readReplicasProblems(raw));
  return problems;
}
