import { runUnderMocks } from "./plan/mockRuntime";
import { stackSpec } from "./test/helpers";
import { AppSecrets, AppStack } from "./components";
import { resolvePolicyConfig, runPolicies } from "./plan/policyRunner";
import { policies, PACK_ENFORCEMENT_LEVEL } from "./policies/pack";
(async () => {
  const full = stackSpec("prod");
  const spec = { ...full, apps: full.apps.filter((a) => a.id === "lms") };
  const levels = resolvePolicyConfig(policies, PACK_ENFORCEMENT_LEVEL, {});
  for (let i = 0; i < 4; i++) {
    let t = Date.now();
    await runUnderMocks(spec, `a${i}`, (s) => { for (const app of s.apps) { const secrets = new AppSecrets(`${app.id}-secrets`, { app }); new AppStack(app.id, { app, secrets }); } });
    const a = Date.now() - t;
    t = Date.now();
    const run = await runUnderMocks(spec, `c${i}`);
    const b = Date.now() - t;
    t = Date.now();
    await runPolicies(run.resources, policies, levels);
    console.log("appstack only", a, "all", b, "policies", Date.now() - t);
  }
})();
