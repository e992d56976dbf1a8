/**
 * ReleaseRecord: what an update deployed, kept as the stack output `releases` (the last N, newest
 * first) and written to the host (`/var/lib/runbook/<app>/releases.json`, which the image prune job
 * reads to keep every recorded release's images).
 *
 * The earlier releases come from the stack's own outputs: a StackReference to this very stack
 * (`<org>/<project>/<stack>`) reads the outputs of the last update, before this one replaces them
 * (the engine's builtin provider reads the root stack resource's outputs of the stack's last
 * checkpoint, and a stack with no update yet has none: an empty list, so the first update records one
 * release). The schema revision is read back by a one-off container of the new image after
 * migrations and the release task; the host's copy is written once the health gate has passed.
 */
import * as pulumi from "@pulumi/pulumi";
import type { AppSpec } from "../../config/spec";
import type { AppStack } from "../app/appStack";
import { deployCommand, machineTriggers, type DeployCommand } from "../app/deployCommand";
import { parseSchemaRevision, schemaRevisionCommand } from "./migrations";
import { nextReleases, releasesOfApp, sha256, stableJson, type Release } from "./record";
import { RELEASES_FILE_COMMAND, renderReleasesFileScript } from "./releasesFile";

export interface ReleaseRecordArgs {
  /** The app, resolved: its images, its releases settings (`keep`, migration kind). */
  readonly app: AppSpec;
  /** What AppStack deployed: its images, its one-off runner, and the steps the record waits for. */
  readonly stack: Pick<AppStack, "images" | "oneOff" | "migration" | "releaseTask" | "healthGate" | "release">;
  /**
   * The pre-deploy backup of this update, where the backups area takes one: its key goes in the
   * record (a rollback with `--restore-data` restores it). None by default.
   */
  readonly preDeployBackup?: { readonly key: pulumi.Input<string> };
  /**
   * The `apps` output of the stack's last update. By default a StackReference to this stack reads it;
   * tests and the offline plan give it directly.
   */
  readonly previous?: pulumi.Input<unknown>;
  /** When this update runs (default: now). */
  readonly now?: Date;
}

/** Services whose images a release names: the ones a rollback puts back. */
export const RELEASED_SERVICES = ["backend", "frontend", "proxy"] as const;

/** The name StackReference needs for this very stack. */
export const selfStackName = (): string => `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;

/**
 * sha256 of the resolved app config, with what a run computes (Outputs, the rotation clock) and the
 * release settings themselves left out. Secrets appear only as their `secure:` ciphertexts. The
 * maintenance page's state (a window, its schedule, `proxy.maintenance`) is left out too: opening and
 * closing a window is no release, and scheduled windows (`npm run maintenance-window -- --auto`)
 * would otherwise push the real releases out of the record (it keeps the last 5).
 */
export function configHash(app: AppSpec): string {
  const rest = Object.fromEntries(Object.entries(app).filter(([key]) => key !== "releases"));
  const stable = {
    ...rest,
    rotation: { ...app.rotation, now: undefined },
    maintenance: { ...app.maintenance, window: undefined, schedule: undefined },
    proxy: { ...app.proxy, maintenance: undefined },
  };
  return sha256(stableJson(JSON.parse(JSON.stringify(stable, (_k, v: unknown) => (pulumi.Output.isInstance(v) ? "[computed]" : v)))));
}

export class ReleaseRecord extends pulumi.ComponentResource {
  /** The releases on record after this update, newest first (the `releases` stack output). */
  public readonly releases: pulumi.Output<Release[]>;
  /** The step that reads the schema revision back, where the app has migrations to read. */
  public readonly schemaRevision?: DeployCommand;
  /** The step that writes releases.json on the host. */
  public readonly hostFile: DeployCommand;

  constructor(name: string, args: ReleaseRecordArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook:releases:ReleaseRecord", name, {}, opts);
    const { app, stack } = args;
    if (!Number.isInteger(app.releases.keep) || app.releases.keep < 2) {
      throw new Error(`\`app.releases.keep\` must be a whole number of at least 2 (got ${app.releases.keep}): a rollback needs the release before the current one`);
    }
    for (const service of Object.keys(stack.release)) {
      if (!stack.images[service]) throw new Error(`\`stack.images.${service}\` must be given: the release names that service's image`);
    }

    const previous =
      args.previous ?? new pulumi.StackReference(`${name}-previous`, { name: selfStackName() }, { parent: this }).getOutput("apps");

    const readBack = schemaRevisionCommand(app.releases.migrations);
    if (readBack) {
      const after = [stack.migration, stack.releaseTask].filter((s): s is DeployCommand => s !== undefined);
      this.schemaRevision = stack.oneOff("schema-revision", readBack, { after, parent: this, name: `${name}-schema-revision` });
    }
    const schemaStdout: pulumi.Input<string | undefined> = this.schemaRevision ? this.schemaRevision.stdout : undefined;

    const digests = Object.fromEntries(Object.keys(stack.release).map((s) => [s, stack.images[s]!.repoDigest]));
    const time = (args.now ?? new Date()).toISOString();
    const hash = configHash(app);
    this.releases = pulumi
      .all([pulumi.output(previous), pulumi.output(schemaStdout), pulumi.all(digests), pulumi.output(args.preDeployBackup?.key)])
      .apply(([prev, stdout, readDigests, backupKey]) =>
        nextReleases(
          releasesOfApp(prev, app.id),
          {
            time,
            images: { ...stack.release },
            // The provider may read no digest back (an image it did not pull): keep only real ones.
            digests: Object.fromEntries(Object.entries(readDigests).filter(([, d]) => typeof d === "string" && d.includes("@sha256:"))),
            configHash: hash,
            schemaRevision: stdout === undefined ? null : parseSchemaRevision(app.releases.migrations, stdout),
            // BackupJobs reports "" before its first pre-deploy backup: no key.
            backupKey: backupKey ? backupKey : null,
            ...(app.releases.rollback && { rollbackOf: app.releases.rollback.undoes }),
          },
          app.releases.keep,
        ),
      );

    const script = this.releases.apply((r) => renderReleasesFileScript(app.id, r));
    this.hostFile = deployCommand(
      `${name}-host-file`,
      { host: app.host, create: RELEASES_FILE_COMMAND, stdin: script, triggers: [script, ...machineTriggers(app.host)] },
      { parent: this, dependsOn: [stack.healthGate] },
    );
    this.registerOutputs({ releases: this.releases });
  }
}
