/** Stack configs with a host the stack creates (AWS) beside an existing one, for the hosts and firewall tests. */
import { parseStackConfig, type RawConfig } from "../../config/resolve";
import type { StackSpec } from "../../config/spec";

export const AWS_HOST = {
  instanceType: "t3.large",
  amiId: "ami-0123456789abcdef0",
  vpcId: "vpc-0123456789abcdef0",
  subnetId: "subnet-0123456789abcdef0",
  availabilityZone: "eu-west-1a",
  networkAclId: "acl-0123456789abcdef0",
  sshAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJl0EPPx/2ItuwpX+EKsF0GxH/x7Z/+V3JRm7SEp89vD deploy@ci"],
};

export const ADMIN = ["203.0.113.0/24", "2001:db8:1::/48"];
const tls = (id: string) => ({ tls: { certificateFile: `/etc/letsencrypt/live/${id}/fullchain.pem`, keyFile: `/etc/letsencrypt/live/${id}/privkey.pem` } });

/** fdts on an instance the stack creates, lms on an existing ssh host; `firewall` applies to both. */
export function awsStackConfig(firewall: Record<string, unknown> = {}): RawConfig {
  return {
    environment: "prod",
    apps: {
      fdts: { aws: AWS_HOST, domain: "fdts.example.com", firewall: { adminCidrs: ADMIN, ...firewall }, backend: { tag: "2.3.0" }, proxy: tls("fdts") },
      lms: {
        host: "ssh://deploy@lms-prod.example.com",
        hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEmVJy3az1P8jzY7Xlte1DIF8tUOF2zKVafkQTtPCxVZ",
        domain: "lms.example.com",
        firewall: { adminCidrs: ADMIN, ...firewall },
        backend: { tag: "1.2.0" },
        proxy: tls("lms"),
      },
    },
    // Production pages someone on critical alerts (monitoring-routing-critical-receiver); a stand-in address.
    alerting: { fdts: { critical: { webhookUrl: { secure: "https://alerts.example.com/fdts" } } }, lms: { critical: { webhookUrl: { secure: "https://alerts.example.com/lms" } } } },
  };
}

export const awsStackSpec = (firewall: Record<string, unknown> = {}): StackSpec => parseStackConfig(awsStackConfig(firewall));
