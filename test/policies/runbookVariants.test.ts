/**
 * For every app of the catalog and every runbook requirement it states, a variant of the committed
 * stacks (with that app alone in them) that breaks just that requirement: prod refuses it (exit 1) naming the policy, the app and
 * the runbook line; staging reports it as advice, or refuses it where the runbook sets a staging
 * rule. The cases are read from the requirements data, so a new app gets them without a test edit.
 */
import { describe, expect, it } from "vitest";
import { catalog } from "../../apps";
import { runbookNumber } from "../../apps/requirements";
import { runPlan } from "../../plan/cli";
import { ROOT } from "../helpers";
import { breaker, POLICY, requirementCases, withBreaker, type Breaker } from "./breakers";

/** The committed stack with the app alone in it: the whole stacks plan clean in test/plan, and no other app's resources bear on this app's requirements. */
const plan = (stack: string, id: string, b: Breaker) => runPlan({ stack, json: true, cwd: ROOT }, withBreaker(id, b, { alone: true }));

/** Every (app, kind, key, rule) the catalog states. */
const cases = Object.values(catalog).flatMap((app) =>
  requirementCases(app.requirements).map(([kind, key, rule]) => [`${app.id}: ${kind}${key ? ` ${key}` : ""}`, app.id, app.runbook, kind, key, rule] as const),
);

describe("every runbook requirement of every catalog app", () => {
  it("covers every requirement kind the catalog uses", () => {
    expect(new Set(cases.map((c) => c[3]))).toEqual(new Set(Object.keys(POLICY)));
  });

  it.each(cases)("%s: prod refuses a stack that breaks it; staging takes it as advice unless the runbook sets a staging rule", async (_label, id, runbook, kind, key, rule) => {
    const where = `(${runbookNumber(runbook)} '${rule.source.section}')`;
    const prod = await plan("prod", id, breaker(kind, id, key, rule.value));
    expect(prod.stderr).toBe("");
    expect(prod.exitCode).toBe(1);
    const refused = prod.document!.violations.filter((v) => v.policy === POLICY[kind]);
    expect(refused.length, JSON.stringify(prod.document!.violations)).toBeGreaterThan(0);
    for (const v of refused) {
      expect(v.enforcementLevel).toBe("mandatory");
      expect(v.message.startsWith(`${id}: `), v.message).toBe(true);
      expect(v.message.endsWith(`required in production ${where}`), v.message).toBe(true);
    }

    const staging = await plan("staging", id, breaker(kind, id, key, rule.staging ?? rule.value));
    expect(staging.stderr).toBe("");
    if (rule.staging !== undefined) {
      const stagingWhere = `(${runbookNumber(runbook)} '${rule.stagingSource!.section}')`;
      expect(staging.exitCode).toBe(1);
      expect(staging.document!.violations.some((v) => v.policy === POLICY[kind] && v.enforcementLevel === "mandatory" && v.message.endsWith(`required in staging ${stagingWhere}`))).toBe(true);
    } else {
      const advice = staging.document!.violations.filter((v) => v.policy === "runbook-staging-parity" && v.message.startsWith(`${id}: `) && v.message.endsWith(where));
      expect(advice.length, JSON.stringify(staging.document!.violations)).toBeGreaterThan(0);
      // The very shortfall prod refused, not just any advice from the same runbook section: the committed
      // staging stack already gets advice from some sections (fewer replicas, no TLS), which matched whatever the breaker did.
      const mirrored = refused.map((v) => v.message.replace(/ required in production \(/, " required in production (advice for staging) ("));
      expect(advice.some((v) => mirrored.includes(v.message)), `${JSON.stringify(mirrored)} vs ${JSON.stringify(advice.map((v) => v.message))}`).toBe(true);
      expect(advice.every((v) => v.enforcementLevel === "advisory")).toBe(true);
      expect(staging.document!.violations.filter((v) => v.policy === POLICY[kind])).toEqual([]);
    }
  });
});
