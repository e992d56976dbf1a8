/**
 * The Fargate app's alarms as CloudWatch runs them: the topic they publish to must be encrypted
 * under a key whose policy lets CloudWatch alarms use it (with the AWS-managed alias/aws/sns key an
 * alarm's action fails: "CloudWatch Alarms does not have authorization to access the SNS topic
 * encryption key"), and the 5xx share must count target 5xx in minutes without load balancer 5xx.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ERROR_RATE_EXPRESSION } from "../../components/fargate/alarms";
import { PROJECT } from "../../config/defaults";
import { parseStackConfig } from "../../config/resolve";
import { runUnderMocks, MOCK_AWS, type PlannedResource } from "../../plan/mockRuntime";
import { inputs, keptRandomPasswords, named } from "../helpers";
import { withFargate } from "./fixtures";

let resources: readonly PlannedResource[] = [];

beforeAll(async () => {
  const kept = keptRandomPasswords();
  const spec = parseStackConfig(withFargate("prod", "lms"), PROJECT, { now: Date.UTC(2026, 10, 26) });
  resources = (await runUnderMocks(spec, "prod", undefined, { mocks: kept.mocks })).resources;
}, 240_000);

describe("the Fargate app's alarms", () => {
  it("publish to a topic under a customer-managed, rotated key whose policy lets CloudWatch alarms encrypt with it", () => {
    const topic = named(resources, "lms-alarms-topic");
    const key = named(resources, "lms-alarms-topic-key");
    expect(key.type).toBe("aws:kms/key:Key");
    expect(inputs(topic)["kmsMasterKeyId"]).toMatch(/^arn:aws:kms:/);
    expect(topic.dependencies).toContain(key.urn);
    expect(inputs(key)["enableKeyRotation"]).toBe(true);
    const policy = JSON.parse(String(inputs(key)["policy"])) as { Statement: { Principal: Record<string, string>; Action: string | string[] }[] };
    expect(policy.Statement).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Principal: { AWS: `arn:aws:iam::${MOCK_AWS.account}:root` }, Action: "kms:*" }),
        expect.objectContaining({ Principal: { Service: "cloudwatch.amazonaws.com" }, Action: ["kms:Decrypt", "kms:GenerateDataKey*"] }),
      ]),
    );
  });

  it("fill each 5xx count with 0 in the share's expression, so a minute of target 5xx without load balancer 5xx is not dropped (CloudWatch itself not run)", () => {
    const alarm = inputs(named(resources, "lms-alarms-error-rate"));
    const rate = (alarm["metricQueries"] as { id: string; expression?: string }[]).find((q) => q.id === "rate")!;
    expect(rate.expression).toBe(ERROR_RATE_EXPRESSION);
    expect(rate.expression).toContain("FILL(errors, 0)");
    expect(rate.expression).toContain("FILL(elb_errors, 0)");
  });
});
