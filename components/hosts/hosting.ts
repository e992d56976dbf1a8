/**
 * The hosts and firewall area for one app, in the order the engine must run it: the firewall (an
 * instance needs its security group), the host, and during a lockdown the evidence step. Returns
 * the app as every later component must see it: its `host` is the Host's, and the Docker host
 * address resolves only once the firewall is applied and the evidence is off the host, so the
 * app's Docker provider and every deploy step of the update wait for both. Nothing is created on
 * import.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AppSpec, HostSpec } from "../../config/spec";
import { Firewall } from "../firewall/firewall";
import { IncidentEvidence } from "../firewall/incidentEvidence";
import { Host } from "./host";

export interface Hosting {
  /** The app with the Host's `host`. */
  readonly app: AppSpec;
  readonly host: Host;
  readonly firewall: Firewall;
  /** Only during a lockdown. */
  readonly evidence?: IncidentEvidence;
  /** The app's A record, where `apps.<id>.dns` is set. */
  readonly dnsRecord?: aws.route53.Record;
  /** What the stack reports for the app. */
  readonly outputs: HostingOutputs;
}

export interface HostingOutputs {
  /** The Docker host address. */
  readonly host: pulumi.Input<string>;
  /** The pinned public host key, where there is one. */
  readonly hostKey?: pulumi.Input<string>;
  /** The firewall's rules, in words. */
  readonly firewall: readonly string[];
  /** `<file> sha256:<hex>` of the lockdown's evidence bundle. */
  readonly evidence?: pulumi.Input<string>;
  /** `<name> A <address>`, where the stack manages the app's DNS record. */
  readonly dns?: pulumi.Input<string>;
}

/** The same host, whose address resolves only after `gates` (their URNs resolve when they are done). */
export function hostAfter(host: HostSpec, gates: readonly pulumi.Resource[]): HostSpec {
  if (host.kind !== "ssh" || gates.length === 0) return host;
  const after = (value: pulumi.Input<string>) => pulumi.all([value, ...gates.map((g) => g.urn)]).apply(([v]) => v);
  return { ...host, dockerHost: after(host.dockerHost), host: after(host.host) };
}

/**
 * @param extraPolicies IAM policy documents for a created host's role (the backup writer's).
 */
export function deployHosting(app: AppSpec, opts?: pulumi.ComponentResourceOptions, extraPolicies: readonly pulumi.Input<string>[] = []): Hosting {
  const firewall = new Firewall(`${app.id}-firewall`, { app }, opts);
  const host = new Host(
    `${app.id}-host`,
    { app, securityGroupIds: firewall.securityGroup ? [firewall.securityGroup.id] : [], extraPolicies },
    opts,
  );
  const evidence = app.firewall.lockdown
    ? new IncidentEvidence(`${app.id}-evidence`, { appId: app.id, host: host.hostSpec, after: firewall.applied }, opts)
    : undefined;
  const gates = [...(firewall.hostFirewall ? [firewall.hostFirewall] : []), ...(evidence ? [evidence.collect] : [])];
  const dnsRecord = app.dns && appDnsRecord(app.id, app.dns, host, opts);
  return {
    app: { ...app, host: hostAfter(host.hostSpec, gates) },
    host,
    firewall,
    ...(evidence && { evidence }),
    outputs: {
      host: host.address,
      ...(host.hostKey && { hostKey: host.hostKey }),
      firewall: firewall.summary,
      ...(evidence && { evidence: evidence.bundle }),
      ...(dnsRecord && { dns: pulumi.interpolate`${dnsRecord.name} A ${dnsRecord.records.apply((r) => (r ?? []).join(" "))}` }),
    },
    ...(dnsRecord && { dnsRecord }),
  };
}

/**
 * The app's name at its host's public address: the elastic IP of a host the stack creates, else the
 * configured address. A recovery stack with the same setting points the name at its new host; the
 * record of the stack it replaces must go first, or `dns.allowOverwrite` take it over (README,
 * disaster recovery).
 */
function appDnsRecord(appId: string, dns: NonNullable<AppSpec["dns"]>, host: Host, opts?: pulumi.ComponentResourceOptions): aws.route53.Record {
  const address = dns.address ?? host.elasticIp?.publicIp;
  if (address === undefined) throw new Error(`\`apps.${appId}.dns.address\` is required: the app's host is not one the stack creates`);
  return new aws.route53.Record(
    `${appId}-dns`,
    {
      zoneId: dns.zoneId,
      name: dns.name,
      type: "A",
      ttl: dns.ttl,
      records: [address],
      // node_modules/@pulumi/aws/route53/record.d.ts L215: "Allow creation of this record to overwrite an
      // existing record, if any … `false` by default." Off unless the stack takes the name over.
      allowOverwrite: dns.allowOverwrite,
    },
    opts,
  );
}
