import type { ResourceValidationPolicy } from "@pulumi/policy";
import { forContainers } from "../lib";

/** Label value prefix of monitoring containers (`runbook.service`: `monitoring:prometheus`...). */
const MONITORING = "monitoring:";

/** The reference app's runbook opens Grafana at http://localhost:3001: monitoring is for operators, through a tunnel. */
export const uiLoopbackOnly: ResourceValidationPolicy = {
  name: "monitoring-ui-loopback-only",
  description:
    "Monitoring containers publish ports on 127.0.0.1 only, so Prometheus, Alertmanager and Grafana are reached through an ssh tunnel and never from the network. Their UIs show the whole system's internals and Prometheus has no login.",
  validateResource: forContainers((props, args, report) => {
    const service = props.labels?.find((l) => l.label === "runbook.service")?.value ?? "";
    if (!service.startsWith(MONITORING)) return;
    for (const p of props.ports ?? []) {
      if (p.ip !== "127.0.0.1") {
        report(`Monitoring container ${args.name} publishes port ${p.external ?? p.internal} on ${p.ip || "every address"}; bind it to 127.0.0.1 and reach it through an ssh tunnel.`);
      }
    }
  }),
};
