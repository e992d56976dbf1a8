/**
 * IncidentEvidence: the lockdown's "preserve evidence" step. While `firewall.lockdown` is on, a
 * local command on the machine running Pulumi collects the app's container state and logs on the
 * Docker host (over ssh, the pinned host key only) into `incident-evidence/<app>-<time>.tar.gz`,
 * mode 600, and prints the bundle's sha256. It runs once when the lockdown is turned on (the step
 * exists only during a lockdown) and, after the firewall has closed the public ports, before any
 * container of the update: program.ts makes the app's Docker host address wait for it.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { HostSpec } from "../../config/spec";
import { reachableHost } from "../app/deployCommand";
import { renderEvidenceCollectScript, renderEvidenceFetchScript } from "./evidence";

export interface IncidentEvidenceArgs {
  readonly appId: string;
  /** The app's Docker host (an existing one, or the Host component's). */
  readonly host: HostSpec;
  /** What must be in place first: the firewall that isolates the host. */
  readonly after: readonly pulumi.Resource[];
  /** Directory for the bundles, relative to where `pulumi up` runs. Default `incident-evidence`. */
  readonly directory?: string;
}

export const EVIDENCE_DEFAULTS = { directory: "incident-evidence" } as const;

export class IncidentEvidence extends pulumi.ComponentResource {
  public readonly collect: command.local.Command;
  /** `<file> sha256:<hex>` of the bundle. */
  public readonly bundle: pulumi.Output<string>;

  constructor(name: string, args: IncidentEvidenceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook:firewall:IncidentEvidence", name, {}, opts);
    const host = reachableHost(args.host);
    const directory = args.directory ?? EVIDENCE_DEFAULTS.directory;
    if (directory.includes("\n") || directory === "") throw new Error("`directory` must be a path on one line");
    const environment: Record<string, pulumi.Input<string>> = { RUNBOOK_APP: args.appId, RUNBOOK_EVIDENCE_DIR: directory };
    if (host.kind === "ssh") {
      Object.assign(environment, { RUNBOOK_SSH_HOST: host.host, RUNBOOK_SSH_USER: host.user, RUNBOOK_SSH_PORT: String(host.port), ...(host.hostKey !== undefined && { RUNBOOK_HOST_KEY: host.hostKey }) });
    } else {
      environment["DOCKER_HOST"] = host.dockerHost;
    }
    this.collect = new command.local.Command(
      `${name}-collect`,
      { create: renderEvidenceFetchScript(), stdin: renderEvidenceCollectScript(args.appId), environment, interpreter: ["/bin/sh", "-c"], logging: "stdoutAndStderr" },
      { parent: this, dependsOn: [...args.after] },
    );
    this.bundle = this.collect.stdout;
    this.registerOutputs({ bundle: this.bundle });
  }
}
