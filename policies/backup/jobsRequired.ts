import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { appViews, type AppView } from "../runbook/appView";
import { dependsOn } from "../runbook/rules";
import { backupBuckets, backupJobs, releaseSteps, timerCalendar } from "./view";

/** An app holds state when it has a database container or a container that mounts a volume. */
const holdsState = (app: AppView) => app.service("database").length > 0 || app.containers.some((c) => ((c.props["volumes"] as unknown[] | undefined) ?? []).length > 0);

export const jobsRequired: StackValidationPolicy = {
  name: "backup-jobs-required",
  description:
    "Every app that holds state has a backup bucket, a scheduled backup job and a scheduled verification job on its host that write to that bucket, and a pre-deploy backup that migrations, replicas and workers wait for. In a recovery stack, the restore runs after the database is up and before any backend starts.",
  validateStack: (args, report) => {
    const buckets = backupBuckets(args.resources);
    for (const app of appViews(args.resources).filter(holdsState)) {
      const at = app.component?.urn;
      const bucket = buckets.find((b) => b.app === app.id);
      if (!bucket) report(`App ${app.id} holds state but has no backup bucket (an S3 bucket tagged runbook.role=backups).`, at);
      const jobs = backupJobs(args.resources, app.id);
      if (!jobs.install) {
        report(`App ${app.id} holds state but has no backup job installed on its host.`, at);
      } else {
        for (const [unit, what] of [[`runbook-backup-${app.id}`, "scheduled backup"], [`runbook-backup-verify-${app.id}`, "scheduled verification"]] as const) {
          if (!timerCalendar(jobs.installer, unit)) report(`App ${app.id} has no ${what}: ${jobs.install.name} installs no ${unit}.timer.`, jobs.install.urn);
        }
        if (bucket && !dependsOn(jobs.install, bucket.bucket)) report(`The backup jobs of ${app.id} (${jobs.install.name}) do not write to its backup bucket ${bucket.bucket.name}.`, jobs.install.urn);
      }
      const gates: [PolicyResource | undefined, string][] = [[jobs.preDeploy, "the pre-deploy backup"], [jobs.restore, "the restore"]];
      if (!jobs.preDeploy) report(`App ${app.id} has no pre-deploy backup; a backup must be taken before migrations run.`, at);
      for (const [gate, what] of gates) {
        if (!gate) continue;
        for (const r of releaseSteps(app).filter((x) => !dependsOn(x, gate))) {
          report(`App ${app.id}: ${r.name} does not wait for ${what} (${gate.name}).`, r.urn);
        }
        for (const db of app.service("database").filter((d) => !dependsOn(gate, d))) {
          report(`App ${app.id}: ${gate.name} does not wait for ${db.name}; ${what} needs the running database.`, gate.urn);
        }
      }
    }
  },
};
