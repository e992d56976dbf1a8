/**
 * Each app's runbook requirements, for an app on ECS Fargate: the same rules the runbook-* policies
 * hold a Docker host's containers to, read from ECS services, task definitions, the one-off steps,
 * the RDS instance and the load balancer's rules. In production, or where the runbook sets a staging rule.
 */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { probes } from "../runbook/probes";
import { runbookNumber, type AppRequirementsEntry, type HealthProbe, type MigrationRequirement, type MinimumLimits, type RequirementsData, type Rule } from "../runbook/requirements";
import { dependsOn, runsArgv, serviceName } from "../runbook/rules";
import { rdsClassSize } from "./rdsClasses";
import { fargateApps, FARGATE_TYPES, tagOf, containersOf, type FargateAppView } from "./view";

function applies<T>(rule: Rule<T> | undefined, environment: string): { value: T; where: string; section: string } | undefined {
  if (!rule) return undefined;
  if (environment === "prod") return { value: rule.value, where: "in production", section: rule.source.section };
  return rule.staging !== undefined ? { value: rule.staging, where: `in ${environment}`, section: (rule.stagingSource ?? rule.source).section } : undefined;
}

type Say = (detail: string, where: string, section: string, urn?: string) => void;

function check(app: FargateAppView, entry: AppRequirementsEntry, resources: readonly PolicyResource[], say: Say): void {
  const req = entry.requirements;
  const name = (service: string) => serviceName(entry, service);
  for (const [service, rule] of Object.entries(req.replicas ?? {})) {
    const r = applies(rule, app.environment);
    const svc = app.services.find((s) => s.service === service);
    if (!r || !svc) continue;
    const have = app.minCapacity(svc) ?? Number(svc.resource.props["desiredCount"] ?? 0);
    if (have < r.value) say(`${name(service)} tasks ${have} < ${r.value}`, r.where, r.section, svc.resource.urn);
  }
  for (const [service, rule] of Object.entries(req.limits ?? {}) as [string, Rule<MinimumLimits>][]) {
    const r = applies(rule, app.environment);
    if (!r) continue;
    if (service === "database") {
      const db = resources.find((x) => x.type === FARGATE_TYPES.rdsInstance && tagOf(x, "runbook.app") === app.id);
      if (!db) continue;
      const cls = String(db.props["instanceClass"] ?? "");
      const size = rdsClassSize(cls);
      if (!size) say(`database instance class ${cls} of a size the pack does not know (it cannot check ${r.value.memoryMb ?? 0} MiB)`, r.where, r.section, db.urn);
      else if ((r.value.memoryMb !== undefined && size.memoryMb < r.value.memoryMb) || (r.value.cpus !== undefined && size.cpus < r.value.cpus)) {
        say(`database ${cls} (${size.cpus} vCPU, ${size.memoryMb} MiB) < ${r.value.cpus ?? 0} CPUs, ${r.value.memoryMb ?? 0} MiB`, r.where, r.section, db.urn);
      }
      continue;
    }
    for (const svc of app.services.filter((s) => s.service === service)) {
      for (const c of svc.containers) {
        if (r.value.memoryMb !== undefined && (c.memory ?? 0) < r.value.memoryMb) say(`${name(service)} memory limit ${c.memory ?? 0} MiB < ${r.value.memoryMb} MiB`, r.where, r.section, svc.taskDefinition?.urn);
        if (r.value.cpus !== undefined && (c.cpu ?? 0) / 1024 < r.value.cpus) say(`${name(service)} CPU ${(c.cpu ?? 0) / 1024} < ${r.value.cpus}`, r.where, r.section, svc.taskDefinition?.urn);
      }
    }
  }
  for (const [service, rule] of Object.entries(req.health ?? {}) as [string, Rule<HealthProbe>][]) {
    const r = applies(rule, app.environment);
    if (!r) continue;
    for (const svc of app.services.filter((s) => s.service === service)) {
      for (const c of svc.containers) {
        const missing = probes((c.healthCheck?.command ?? []).slice(1).join(" "), r.value);
        if (missing.length) say(`${name(service)} health check does not probe ${missing.join(", ")}`, r.where, r.section, svc.taskDefinition?.urn);
      }
    }
  }
  const migration = applies<MigrationRequirement>(req.migration, app.environment);
  if (migration) {
    const steps: [string, readonly string[]][] = [["migrate", migration.value.command], ...(migration.value.then ? [["release-task", migration.value.then] as [string, readonly string[]]] : [])];
    let last: PolicyResource | undefined;
    for (const [suffix, argv] of steps) {
      const step = app.step(suffix);
      const task = app.stepTask(suffix);
      const command = task ? containersOf(task.props)[0]?.command ?? [] : [];
      // The runbook's argv inside the task's command (`migrate` within `migrate --noinput`), as runbook-migration-command reads a step.
      if (!step || !runsArgv(command.join(" "), argv)) {
        say(`a one-off task running \`${argv.join(" ")}\` before the services move`, migration.where, migration.section, app.component?.urn);
        continue;
      }
      if (last && !dependsOn(step, last)) say(`${step.name} after ${last.name}`, migration.where, migration.section, step.urn);
      last = step;
    }
    if (last) for (const s of app.services.filter((x) => ["backend", "frontend"].includes(x.service) || x.service.startsWith("worker:"))) {
      if (s.service !== "frontend" && !dependsOn(s.resource, last)) say(`${s.resource.name} moving only after ${last.name}`, migration.where, migration.section, s.resource.urn);
    }
  }
  const before = applies(req.backupBeforeDeploy, app.environment);
  if (before?.value) {
    const snapshot = app.step("pre-deploy-snapshot");
    const migrate = app.step("migrate");
    if (!snapshot) say("a pre-deploy snapshot of the database", before.where, before.section, app.component?.urn);
    else if (migrate && !dependsOn(migrate, snapshot)) say(`${migrate.name} after ${snapshot.name}`, before.where, before.section, migrate.urn);
  }
  const database = applies(req.database, app.environment);
  if (database && database.value.engine === "postgres" && database.value.majorVersion !== undefined) {
    const db = resources.find((x) => x.type === FARGATE_TYPES.rdsInstance && tagOf(x, "runbook.app") === app.id);
    const version = String(db?.props["engineVersion"] ?? "");
    if (db && Number(version.split(".")[0]) !== database.value.majorVersion) say(`PostgreSQL ${database.value.majorVersion} (RDS engine version ${version})`, database.where, database.section, db.urn);
  }
  const metrics = applies(req.metricsNotPublic, app.environment);
  if (metrics) {
    const hidden = resources.some(
      (x) =>
        x.type === "aws:lb/listenerRule:ListenerRule" &&
        tagOf(x, "runbook.app") === app.id &&
        ((x.props["conditions"] as { pathPattern?: { values?: string[] } }[] | undefined) ?? []).some((c) => c.pathPattern?.values?.includes(metrics.value)) &&
        ((x.props["actions"] as { type?: string; fixedResponse?: { statusCode?: string } }[] | undefined) ?? []).some((a) => a.type === "fixed-response" && a.fixedResponse?.statusCode === "404"),
    );
    if (!hidden) say(`${metrics.value} answered 404 at the load balancer`, metrics.where, metrics.section, app.component?.urn);
  }
}

export const fargateRunbookRequirements = (data: RequirementsData): StackValidationPolicy => ({
  name: "fargate-runbook-requirements",
  description:
    "An app on ECS Fargate meets its runbook's numbers as on a Docker host: tasks per service, CPU and memory limits (the database's instance class included), what each health check probes, migrations and the release task as one-off tasks before the services move, a pre-deploy snapshot before the migrations, the PostgreSQL major version, and private metrics. Each shortfall names the app, the requirement and the runbook line.",
  validateStack: (args, report) => {
    for (const app of fargateApps(args.resources)) {
      const entry = data[app.id];
      if (!entry) continue;
      check(app, entry, args.resources, (detail, where, section, urn) => report(`${app.id}: ${detail} required ${where} (${runbookNumber(entry.runbook)} '${section}')`, urn ?? app.component?.urn));
    }
  },
});
