import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { descendants, roleOf, TYPES, type ContainerProps } from "../lib";

const isCommand = (r: PolicyResource) => r.type === TYPES.localCommand || r.type === TYPES.remoteCommand;
const dependsOn = (r: PolicyResource, on: PolicyResource) => r.dependencies.some((d) => d.urn === on.urn);

/**
 * LMS "Production Deployment": backup, then migrate, then the new web; then the health check.
 * Within each AppStack, read from its children's dependency links.
 */
export const deployStepsOrdered: StackValidationPolicy = {
  name: "app-deploy-steps-ordered",
  description:
    "Every app runs its deploy steps in the runbook's order: migrations after the database is up and before any backend replica starts, and a health gate after the proxy. A replica must never serve a schema its migration has not made yet, and a deploy is not done until its health endpoints answer through the proxy.",
  validateStack: (args, report) => {
    for (const app of args.resources.filter((r) => r.type === TYPES.appStack)) {
      const children = descendants(args.resources, app);
      const byRole = (role: string) => children.filter((c) => c.type === TYPES.container && roleOf(c.props as ContainerProps) === role);
      const migrate = children.find((c) => isCommand(c) && c.name.endsWith("-migrate"));
      const gate = children.find((c) => isCommand(c) && c.name.endsWith("-health-gate"));
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
      if (!gate) {
        report(`App ${app.name} has no health gate; add a deploy step that polls the health endpoints through the proxy.`, app.urn);
      } else if (proxy && !dependsOn(gate, proxy)) {
        report(`App ${app.name}: ${gate.name} does not run after ${proxy.name}; the health gate must poll through the proxy.`, gate.urn);
      }
    }
  },
};
