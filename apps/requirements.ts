/** The runbook requirement types live in the policy pack (which must stand alone); the catalog uses them. */
export * from "../policies/runbook/requirements";
