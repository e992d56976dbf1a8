import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { descendants, roleOf, TYPES, type ContainerProps } from "../lib";

const isCommand = (r: PolicyResource) => r.type === TYPES.localCommand || r.type === TYPES.remoteCommand;
const dependsOn = (r: PolicyResource, on: PolicyResource) => r.dependencies.some((d) => d.urn === on.urn);

/**
 * LMS "Production Deployment": backup, then migrate, then the new web; then the health check.
 * Within each AppStack, read from its children's dependency links:
 * - migrations after the database and before every replica and worker;
 * - the proxy's config step after every container the proxy sends to (it names them, so nginx is
 *   pointed at the new containers before the engine deletes the old ones);
 * - the health gate after the proxy, its config step and every container of the app, so a change
 *   to any service is followed by the gate.
 */
export const deployStepsOrdered: StackValidationPolicy = {
  name: "app-deploy-steps-ordered",
  description:
    "Every app runs its deploy steps in the runbook's order: migrations after the database is up and before any backend replica starts, the proxy's config after every container it sends to, and a health gate after the proxy and every container of the app. A replica must never serve a schema its migration has not made yet, the proxy must never point at a container that is gone, and a deploy is not done until its health endpoints answer through the proxy.",
  validateStack: (args, report) => {
    for (const app of args.resources.filter((r) => r.type === TYPES.appStack)) {
      const children = descendants(args.resources, app);
      const containers = children.filter((c) => c.type === TYPES.container);
      const byRole = (role: string) => containers.filter((c) => roleOf(c.props as ContainerProps) === role);
      const step = (suffix: string) => children.find((c) => isCommand(c) && c.name.endsWith(suffix));
      const migrate = step("-migrate");
      const config = step("-proxy-config");
      const gate = step("-health-gate");
      const proxy = byRole("proxy")[0];
      if (migrate) {
        for (const replica of [...byRole("backend"), ...byRole("worker")]) {
          if (!dependsOn(replica, migrate)) {
            report(`App ${app.name}: ${replica.name} does not wait for ${migrate.name}; a replica must start only after migrations.`, replica.urn);
          }
        }
        for (const db of byRole("database")) {
          if (!dependsOn(migrate, db)) report(`App ${app.name}: ${migrate.name} does not wait for ${db.name}; migrations need a healthy database.`, migrate.urn);
        }
      }
      if (config) {
        for (const upstream of [...byRole("backend"), ...byRole("frontend")]) {
          if (!dependsOn(config, upstream)) {
            report(`App ${app.name}: ${config.name} does not wait for ${upstream.name}; the proxy must be pointed at a container only once it is healthy.`, config.urn);
          }
        }
      }
      if (!gate) {
        report(`App ${app.name} has no health gate; add a deploy step that polls the health endpoints through the proxy.`, app.urn);
        continue;
      }
      for (const before of [...(config ? [config] : []), ...containers]) {
        if (!dependsOn(gate, before)) {
          const what = before === proxy ? "the health gate must poll through the proxy" : "the health gate must follow every change to the app";
          report(`App ${app.name}: ${gate.name} does not run after ${before.name}; ${what}.`, gate.urn);
        }
      }
    }
  },
};
