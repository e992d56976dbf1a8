/**
 * The requirement kinds of the secret rotation area, as RequirementChecks (policies/runbook/rules.ts):
 * enforced per app by their own policy, and measured in staging by runbook-staging-parity.
 */
import type { RequirementCheck, Shortfall } from "../runbook/rules";
import { generatedSecrets, KEEPER } from "./kinds";

/** `rotation`: each generated secret (or, under `*`, every one) rotates at least every N days. */
export const rotation: RequirementCheck = {
  rules: (req) => Object.entries(req.rotation ?? {}),
  verify: (app, _entry, key, value) => {
    const max = value as number;
    const found = generatedSecrets(key === "*" ? app.secrets : app.secret(key));
    const out: Shortfall[] = [];
    // The image's bootstrap password seeds the database once and is no credential after that (kinds.ts).
    for (const g of found.filter((x) => x.kind !== "bootstrap")) {
      const days = Number(g.keepers[KEEPER.periodDays]);
      const where = `${g.secret} (${g.resource.name})`;
      if (g.keepers[KEEPER.window] === undefined || !Number.isFinite(days)) out.push({ detail: `${where} rotated at least every ${max} days, not never,`, urn: g.resource.urn });
      else if (days > max) out.push({ detail: `${where} rotation every ${days} days > ${max} days`, urn: g.resource.urn });
    }
    if (key !== "*" && found.length === 0) out.push({ detail: `${key} generated and rotated at least every ${max} days` });
    return out;
  },
};
