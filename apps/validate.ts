/**
 * A catalog entry that contradicts its own runbook requirements: defaults below the minimum it
 * states, a health endpoint no route serves, a migration that is not the one it requires. Each
 * problem names the app and the field. Pure; run over the whole catalog by test/apps.
 */
import type { AppRequirements, ServiceName } from "./requirements";
import { routeFor } from "./routes";
import type { AppDefinition, ResourceLimits } from "./types";

function services(app: AppDefinition): Map<ServiceName, { replicas: number; limits: ResourceLimits }> {
  const map = new Map<ServiceName, { replicas: number; limits: ResourceLimits }>();
  map.set("backend", { replicas: app.backend.replicas, limits: app.backend.limits });
  if (app.frontend) map.set("frontend", { replicas: app.frontend.adminPort !== undefined ? 1 : app.frontend.replicas, limits: app.frontend.limits });
  if (app.database.engine === "postgres") map.set("database", { replicas: 1, limits: app.database.limits });
  if (app.cache) map.set("cache", { replicas: 1, limits: app.cache.limits });
  map.set("proxy", { replicas: 1, limits: { cpus: 0, memoryMb: 0 } });
  for (const w of app.workers) map.set(`worker:${w.name}`, { replicas: w.replicas, limits: w.limits });
  return map;
}

const startsWith = (argv: readonly string[], prefix: readonly string[]) => prefix.every((w, i) => argv[i] === w);

export function catalogProblems(app: AppDefinition): string[] {
  const problems: string[] = [];
  const add = (field: string, message: string) => problems.push(`${app.id}: ${field}: ${message}`);
  const req: AppRequirements = app.requirements;
  const svc = services(app);
  const known = (field: string, name: string) => {
    if (!svc.has(name as ServiceName)) add(field, `names service ${name}, which ${app.id} does not run (it runs ${[...svc.keys()].join(", ")})`);
    return svc.get(name as ServiceName);
  };

  // Backups: a SQLite file outside a volume is lost with its container and cannot be backed up.
  if (app.database.engine === "sqlite") {
    const db = app.database;
    const volume = app.backend.volumes.find((v) => v.name === db.volume);
    if (!volume || !db.path.startsWith(`${volume.mountPath}/`)) add("database.path", `${db.path} must lie in the backend volume ${db.volume}, so that it outlives a container and its backups can read it`);
    const audit = db.auditLog;
    if (audit) {
      for (const key of ["table", "timeColumn"] as const) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(audit[key])) add(`database.auditLog.${key}`, `${audit[key]} must be a plain SQL identifier (letters, digits, _)`);
      if (!Number.isInteger(audit.hours) || audit.hours < 1 || audit.hours > 168) add("database.auditLog.hours", `${audit.hours} must be a whole number of hours from 1 to 168`);
    }
  }
  for (const endpoint of app.healthEndpoints) {
    if (!routeFor(app.routes, endpoint)) add("healthEndpoints", `${endpoint} is served by no route (${app.routes.map((r) => r.path).join(", ")})`);
  }
  for (const name of Object.keys(req.serviceNames ?? {})) known(`requirements.serviceNames.${name}`, name);
  for (const [name, rule] of Object.entries(req.replicas ?? {})) {
    const s = known(`requirements.replicas.${name}`, name);
    if (s && rule && s.replicas < rule.value) add(`requirements.replicas.${name}`, `the catalog's default of ${s.replicas} replicas is below the ${rule.value} it requires`);
  }
  for (const [name, rule] of Object.entries(req.limits ?? {})) {
    const s = known(`requirements.limits.${name}`, name);
    if (!s || !rule) continue;
    if (rule.value.memoryMb !== undefined && s.limits.memoryMb < rule.value.memoryMb) add(`requirements.limits.${name}`, `the default memory limit ${s.limits.memoryMb} MiB is below the ${rule.value.memoryMb} MiB it requires`);
    if (rule.value.cpus !== undefined && s.limits.cpus < rule.value.cpus) add(`requirements.limits.${name}`, `the default CPU limit ${s.limits.cpus} is below the ${rule.value.cpus} it requires`);
  }
  for (const [name, rule] of Object.entries(req.health ?? {})) {
    known(`requirements.health.${name}`, name);
    const probed = name === "backend" ? app.backend : name === "frontend" ? app.frontend : undefined;
    if (!probed || !rule) continue;
    if (rule.value.path !== undefined && rule.value.path !== probed.healthPath) add(`requirements.health.${name}`, `requires path ${rule.value.path}, but ${name}.healthPath is ${probed.healthPath}`);
    if (rule.value.port !== undefined && rule.value.port !== probed.port) add(`requirements.health.${name}`, `requires port ${rule.value.port}, but ${name}.port is ${probed.port}`);
  }
  for (const endpoint of req.healthEndpoints?.value ?? []) {
    if (!app.healthEndpoints.includes(endpoint)) add("requirements.healthEndpoints", `${endpoint} is required but not in healthEndpoints`);
  }
  if (req.migration) {
    const m = req.migration.value;
    if (!app.backend.migrationCommand || !startsWith(app.backend.migrationCommand, m.command)) {
      add("requirements.migration", `requires \`${m.command.join(" ")}\`, but backend.migrationCommand is ${app.backend.migrationCommand ? `\`${app.backend.migrationCommand.join(" ")}\`` : "not set"}`);
    }
    if (m.then && (!app.backend.releaseTask || !startsWith(app.backend.releaseTask, m.then))) add("requirements.migration.then", `requires the release task \`${m.then.join(" ")}\`, but backend.releaseTask is ${app.backend.releaseTask ? `\`${app.backend.releaseTask.join(" ")}\`` : "not set"}`);
  }
  if (req.database) {
    const want = req.database.value;
    if (want.engine !== app.database.engine) add("requirements.database", `requires ${want.engine}, but the catalog runs ${app.database.engine}`);
    else if (want.engine === "postgres" && want.majorVersion !== undefined && app.database.engine === "postgres" && !app.database.tag.startsWith(`${want.majorVersion}.`)) {
      add("requirements.database", `requires PostgreSQL ${want.majorVersion}, but the catalog's image tag is ${app.database.tag}`);
    }
  }
  for (const name of req.private?.value ?? []) known("requirements.private", name);
  for (const name of req.cacheOnly?.value ?? []) {
    known("requirements.cacheOnly", name);
    if (name === "cache" && app.cache?.persistent) add("requirements.cacheOnly", "requires the cache to keep no state, but cache.persistent is true");
  }
  if (req.metricsNotPublic && req.metricsNotPublic.value !== app.backend.metricsPath) {
    add("requirements.metricsNotPublic", `names ${req.metricsNotPublic.value}, but backend.metricsPath is ${app.backend.metricsPath ?? "not set"}`);
  }
  // Monitoring: each external service a key of its own, and every one the requirement names declared.
  const external = (app.externalServices ?? []).map((e) => e.name);
  for (const e of app.externalServices ?? []) {
    if (!/^[a-z][a-z0-9]*$/.test(e.name)) add(`externalServices.${e.name}`, "the name must be lower-case letters and digits: it is a config key, a label value and part of an alert's name");
    if (external.indexOf(e.name) !== external.lastIndexOf(e.name)) add(`externalServices.${e.name}`, "is declared twice");
  }
  for (const name of req.externalProbes?.value ?? []) {
    if (!external.includes(name)) add("requirements.externalProbes", `names ${name}, which externalServices does not declare (${external.join(", ") || "none"})`);
  }
  for (const [name, rule] of Object.entries(req.secrets ?? {})) {
    const s = app.backend.secretEnv.find((x) => x.name === name);
    if (!s || s.source !== "generated") {
      add(`requirements.secrets.${name}`, "is required to be generated, but backend.secretEnv does not generate it");
      continue;
    }
    const want = rule.value;
    const have = s.format;
    const weaker =
      want.encoding !== have.encoding ||
      (want.encoding === "alphanumeric" ? have.encoding === "alphanumeric" && have.length < want.length : have.encoding !== "alphanumeric" && have.bytes < want.bytes);
    if (weaker) add(`requirements.secrets.${name}`, `requires ${JSON.stringify(want)}, but the catalog generates ${JSON.stringify(have)}`);
  }
  return problems;
}
