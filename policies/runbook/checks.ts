/**
 * One check per kind of runbook requirement: what it reads from the stack's resources, and how it
 * words a shortfall. Pure functions of an AppView; the policies in this folder wrap them.
 */
import type { PolicyResource } from "@pulumi/policy";
import { TYPES, type ContainerProps } from "../lib";
import type { DatabaseRequirement, HealthProbe, MigrationRequirement, MinimumLimits, SecretFormat } from "./requirements";
import { probes } from "./probes";
import { byService, dependsOn, runsArgv, serviceName, single, type RequirementCheck, type Shortfall } from "./rules";

const props = (r: PolicyResource) => r.props as ContainerProps & { command?: string[]; volumes?: { volumeName?: string; hostPath?: string }[] };
const text = (r: PolicyResource | undefined, key: string) => (r ? String(r.props[key] ?? "") : "");

export const replicas: RequirementCheck = {
  rules: (req) => byService(req.replicas),
  verify: (app, entry, service, value) => {
    const have = app.service(service).length;
    return have < (value as number) ? [{ detail: `${serviceName(entry, service)} replicas ${have} < ${value as number}` }] : [];
  },
};

export const limits: RequirementCheck = {
  rules: (req) => byService(req.limits),
  verify: (app, entry, service, value) => {
    const min = value as MinimumLimits;
    const out: Shortfall[] = [];
    const name = serviceName(entry, service);
    for (const c of app.service(service)) {
      const memory = props(c).memory ?? 0;
      const cpus = Number(props(c).cpus ?? 0);
      if (min.memoryMb !== undefined && memory < min.memoryMb) out.push({ detail: `${name} memory limit ${memory} MiB < ${min.memoryMb} MiB`, urn: c.urn });
      if (min.cpus !== undefined && cpus < min.cpus) out.push({ detail: `${name} CPU limit ${cpus} < ${min.cpus}`, urn: c.urn });
    }
    return out;
  },
};

export const health: RequirementCheck = {
  rules: (req) => byService(req.health),
  verify: (app, entry, service, value) => {
    const containers = app.service(service);
    const name = serviceName(entry, service);
    if (containers.length === 0) return [{ detail: `${name} has no container to health-check` }];
    return containers.flatMap((c) => {
      const command = (props(c).healthcheck?.tests ?? []).slice(1).join(" ");
      const missing = probes(command, value as HealthProbe);
      return missing.length ? [{ detail: `${name} health check of ${c.name} does not probe ${missing.join(", ")}`, urn: c.urn }] : [];
    });
  },
};

export const healthEndpoints: RequirementCheck = {
  rules: (req) => single(req.healthEndpoints),
  verify: (app, _entry, _key, value) => {
    const gate = app.step("health-gate");
    if (!gate) return [{ detail: "a health gate" }];
    const script = text(gate, "create");
    return (value as string[])
      .filter((p) => !script.includes(`check_endpoint ${p} `) && !script.includes(`check_endpoint '${p}' `))
      .map((p) => ({ detail: `health gate polling ${p}`, urn: gate.urn }));
  },
};

export const migration: RequirementCheck = {
  rules: (req) => single(req.migration),
  verify: (app, _entry, _key, value) => {
    const want = value as MigrationRequirement;
    const out: Shortfall[] = [];
    const migrate = app.step("migrate");
    if (!migrate || !runsArgv(text(migrate, "create"), want.command)) out.push({ detail: `migration step running \`${want.command.join(" ")}\``, ...(migrate && { urn: migrate.urn }) });
    const replicas = [...app.service("backend"), ...app.containers.filter((c) => c.name.includes("-worker-"))];
    if (migrate) for (const r of replicas.filter((c) => !dependsOn(c, migrate))) out.push({ detail: `${r.name} starting only after migrations`, urn: r.urn });
    if (want.then) {
      const task = app.step("release-task");
      if (!task || !runsArgv(text(task, "create"), want.then)) out.push({ detail: `release task running \`${want.then.join(" ")}\` after migrations`, ...(task && { urn: task.urn }) });
      else {
        if (migrate && !dependsOn(task, migrate)) out.push({ detail: `release task ${task.name} running after ${migrate.name}`, urn: task.urn });
        for (const r of replicas.filter((c) => !dependsOn(c, task))) out.push({ detail: `${r.name} starting only after the release task`, urn: r.urn });
      }
    }
    return out;
  },
};

export const tls: RequirementCheck = {
  rules: (req) => single(req.tls),
  verify: (app, _entry, _key, value) => {
    if (value !== true) return [];
    const proxy = app.service("proxy")[0];
    const config = text(app.step("proxy-config"), "stdin");
    const publishes443 = (proxy && props(proxy).ports?.some((p) => p.internal === 443)) ?? false;
    const terminates = /ssl_certificate \S+;/.test(config) && /return 301 https:\/\//.test(config);
    return publishes443 && terminates ? [] : [{ detail: "TLS on the proxy (443 with a certificate, http redirected to https)", ...(proxy && { urn: proxy.urn }) }];
  },
};

export const database: RequirementCheck = {
  rules: (req) => single(req.database),
  verify: (app, _entry, _key, value) => {
    const want = value as DatabaseRequirement;
    const db = app.service("database")[0];
    if (want.engine === "sqlite") return db ? [{ detail: `SQLite (not a ${db.name} server container)`, urn: db.urn }] : [];
    const image = db?.dependencies.find((d) => d.type === TYPES.remoteImage);
    const ref = String(image?.props["name"] ?? "");
    const m = /^(?:.*\/)?postgres:(\d+)/.exec(ref);
    const wanted = `PostgreSQL${want.majorVersion !== undefined ? ` ${want.majorVersion}` : ""}`;
    if (!m) return [{ detail: `${wanted} (the database runs ${ref || "no postgres image"})`, ...(db && { urn: db.urn }) }];
    return want.majorVersion === undefined || Number(m[1]) === want.majorVersion ? [] : [{ detail: `PostgreSQL ${m[1]} instead of ${wanted}`, urn: db!.urn }];
  },
};

export const privateServices: RequirementCheck = {
  rules: (req) => single(req.private),
  verify: (app, entry, _key, value) =>
    (value as string[]).flatMap((service) =>
      app
        .service(service)
        .filter((c) => (props(c).ports?.length ?? 0) > 0)
        .map((c) => ({ detail: `${serviceName(entry, service)} (${c.name}) publishing no host port`, urn: c.urn })),
    ),
};

export const cacheOnly: RequirementCheck = {
  rules: (req) => single(req.cacheOnly),
  verify: (app, entry, _key, value) =>
    (value as string[]).flatMap((service) =>
      app
        .service(service)
        .filter((c) => (props(c).volumes?.length ?? 0) > 0 || (props(c).command ?? []).join(" ").includes("--appendonly yes"))
        .map((c) => ({ detail: `${serviceName(entry, service)} (${c.name}) keeping no state (no volume, no append-only file)`, urn: c.urn })),
    ),
};

export const metricsNotPublic: RequirementCheck = {
  rules: (req) => single(req.metricsNotPublic),
  verify: (app, _entry, _key, value) => {
    const path = value as string;
    const config = text(app.step("proxy-config"), "stdin");
    const blocked = new RegExp(`location \\^~ ${path.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} \\{[^}]*return 404;`).test(config);
    return blocked ? [] : [{ detail: `the proxy refusing ${path} to the public (monitoring scrapes it inside)`, ...(app.step("proxy-config") && { urn: app.step("proxy-config")!.urn }) }];
  },
};

export const secrets: RequirementCheck = {
  rules: (req) => Object.entries(req.secrets ?? {}),
  verify: (app, _entry, name, value) => {
    const want = value as SecretFormat;
    const generated = app.secret(name);
    const describe = want.encoding === "alphanumeric" ? `${want.length} alphanumeric characters` : `${want.bytes} random bytes (${want.encoding})`;
    if (generated.length === 0) return [{ detail: `${name} generated from ${describe}` }];
    return generated.flatMap((r) => {
      const length = Number(r.props["length"] ?? 0);
      const bytes = r.type === "random:index/randomBytes:RandomBytes";
      const have = bytes ? `${length} random bytes` : `${length} characters`;
      if (bytes !== (want.encoding !== "alphanumeric")) return [{ detail: `${name} from ${have}, not ${describe}`, urn: r.urn }];
      const short = want.encoding === "alphanumeric" ? length < want.length : length < want.bytes;
      return short ? [{ detail: `${name} from ${have} < ${describe}`, urn: r.urn }] : [];
    });
  },
};
export { alertThresholds } from "../monitoring/alertChecks";
export { externalProbes } from "../monitoring/probeChecks";
