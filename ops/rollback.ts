/**
 * `npm run rollback`: lists the recorded releases of an app, rolls back to the previous one (or
 * `--to`), after a confirmation (or `--yes`), by driving the Pulumi CLI through the Automation API:
 * `LocalWorkspace.selectStack` (`pulumi stack select`), `stack.outputs()` (`pulumi stack output
 * --json`), `stack.setConfig(key, value, path=true)` (`pulumi config set --path`), `stack.removeConfig(key, path=true)` (`pulumi config rm --path`) and `stack.up()`
 * (`pulumi up --yes --skip-preview`). Nothing parses the CLI's text: outputs come back as JSON.
 *
 * Kept out of components/index.ts so the Pulumi program never loads the Automation API.
 */
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { PROJECT } from "../config/defaults";
import { releasesOfApp } from "../components/releases/record";
import { describeRelease, planRollback, type RollbackPlan, type RollbackRequest } from "../components/releases/rollbackPlan";

export interface RollbackOptions extends RollbackRequest {
  readonly stack: string;
  /** The project directory (Pulumi.yaml and the stack files). */
  readonly workDir: string;
  /** Skip the question. */
  readonly yes?: boolean;
  /** Asks the operator; true to go ahead. */
  readonly confirm: (question: string) => Promise<boolean>;
  /** Where the listing, the plan and `pulumi up`'s output go. Never given a secret. */
  readonly log: (text: string) => void;
}

/** The exit code: 0 rolled back, 1 refused, declined or failed. */
export async function runRollback(opts: RollbackOptions): Promise<number> {
  const stack = await LocalWorkspace.selectStack({ stackName: opts.stack, workDir: opts.workDir });
  const outputs = await stack.outputs();
  const apps = outputs["apps"]?.value;
  // An app on ECS Fargate keeps no release record: its rollouts roll back by themselves (README "ECS Fargate").
  const fargate = outputs["fargate"]?.value as Record<string, unknown> | undefined;
  if (opts.app !== undefined && fargate?.[opts.app] !== undefined) {
    opts.log(
      `${opts.app} runs on ECS Fargate in stack ${opts.stack}: npm run rollback rolls back apps on Docker hosts. A rollout that never gets healthy rolls back by itself; to go back a release, set the previous tag (pulumi config set --path 'apps.${opts.app}.backend.tag' <tag>) and run pulumi up (no down-migration runs on Fargate). Nothing changed.\n`,
    );
    return 1;
  }
  const decision = planRollback(PROJECT, apps, opts);
  if (opts.app !== undefined || decision.ok) {
    const app = decision.ok ? decision.plan.app : opts.app!;
    const releases = releasesOfApp(apps, app);
    opts.log(`Releases of ${app} on stack ${opts.stack} (newest first):\n${releases.map((r) => `  ${describeRelease(r)}`).join("\n") || "  none"}\n`);
  }
  if (!decision.ok) {
    opts.log(`${decision.message}\n`);
    return 1;
  }
  const { plan } = decision;
  opts.log(`${planText(plan)}\n`);
  if (!opts.yes && !(await opts.confirm(`Roll ${plan.app} back from #${plan.from.id} to #${plan.to.id}? [y/N] `))) {
    opts.log("Nothing changed.\n");
    return 1;
  }
  // An earlier rollback's settings go first (`config rm --path` of a missing key is no error:
  // pulumi/pulumi sdk/go/common/resource/config/map.go `Remove`, object.go `Delete`).
  for (const key of plan.remove) await stack.removeConfig(key, true);
  for (const change of plan.config) await stack.setConfig(change.key, { value: change.value }, true);
  try {
    await stack.up({ onOutput: opts.log, message: `rollback of ${plan.app} from #${plan.from.id} to #${plan.to.id}` });
  } catch (err) {
    opts.log(`\n${failureText(plan, opts.stack, err)}\n`);
    return 1;
  }
  // Done: the rollback's own settings leave the stack file, so a later update neither runs its steps
  // again nor records later releases as rollbacks (the steps have no delete command: removing them runs nothing).
  for (const key of plan.remove) await stack.removeConfig(key, true);
  opts.log(
    `\n${plan.app} is back on release #${plan.to.id}; the record now lists it as the newest release.\n` +
      `Pulumi.${opts.stack}.yaml keeps #${plan.to.id}'s image tags and no longer the rollback's settings: commit it. The next \`pulumi up\` removes the finished rollback steps from the stack (that runs nothing on the host).\n`,
  );
  return 0;
}

export function planText(plan: RollbackPlan): string {
  return [`Rollback of ${plan.app}: #${plan.from.id} -> #${plan.to.id}`, ...plan.steps.map((s, i) => `  ${i + 1}. ${s}`)].join("\n");
}

/** What failed, and the choices: the down-migration (or anything after it) did not complete. */
export function failureText(plan: RollbackPlan, stack: string, err: unknown): string {
  // The CLI's own `error:` line (the Automation API's message starts with `code: <n>`, then stdout and stderr).
  const lines = (err instanceof Error ? err.message : String(err)).split("\n").map((l) => l.trim());
  const first = /error: .*/.exec(lines.find((l) => /(^|\s)error: /.test(l)) ?? "")?.[0] ?? lines.find((l) => l !== "") ?? "unknown error";
  const downgrade = plan.config.find((c) => c.key.endsWith(".rollback.downgradeTo"));
  const restore = plan.config.find((c) => c.key.endsWith(".rollback.restoreBackup"));
  if (restore) {
    return [
      `The rollback of ${plan.app} to #${plan.to.id} did not complete (restore of ${restore.value}): ${first}`,
      "If the backup failed, or the restore failed before replacing the data, the database is as it was and the newer backends run again; if the restore failed after replacing it (row counts, uploads) or a later step failed, the database holds the restored data and the newer backends stay stopped (the app is down until the older release's backends are healthy).",
      "Choices:",
      `  finish it        pulumi up --stack ${stack} (a restore that completed is not done again, on this host: restore.sh --once; one that failed is)`,
      `  undo the restore the data from before it is the backup the update took first: the newest *-pre-deploy or *-pre-restore backup under ${plan.app}/ in the app's bucket (/usr/local/lib/runbook-backup/${plan.app}/restore.sh --id <id> --force)`,
      "  roll forward     fix the release and deploy a new one with `pulumi up`",
    ].join("\n");
  }
  return [
    `The rollback of ${plan.app} to #${plan.to.id} did not complete${downgrade ? ` (down-migration to ${downgrade.value})` : ""}: ${first}`,
    "The backends wait for the down-migration: while it has not passed, the newer release keeps serving.",
    "Choices:",
    `  --restore-data   npm run rollback -- --stack ${stack} --app ${plan.app} --to ${plan.to.id} --restore-data: restore the pre-deploy backup of #${plan.undone.id} (${plan.undone.backupKey ?? "none recorded"}); the data written since ${plan.undone.time} would be lost`,
    `  stay on #${plan.from.id}     git checkout Pulumi.${stack}.yaml (the config this rollback set), fix the down-migration, run it again`,
    "  roll forward     fix the release and deploy a new one with `pulumi up`",
  ].join("\n");
}
