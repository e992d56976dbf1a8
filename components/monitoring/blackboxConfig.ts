/**
 * renderBlackboxConfig: the blackbox exporter's modules as a pure function. One module probes the
 * app's health endpoints through its proxy as a browser would reach them: the app's public host name
 * as Host (a Django ALLOWED_HOSTS answers 400 to any other) and, where the proxy has a certificate,
 * over TLS verified for that name, so the probe also reports the certificate's expiry.
 */
import { stringify } from "yaml";

export const HEALTH_MODULE = "http_health";

export interface BlackboxConfigSpec {
  /** The Host the app answers to (`apps.<id>.domain`, or `localhost`). */
  readonly publicHost: string;
  /** The proxy terminates TLS: probe https, verify the certificate for `publicHost`, refuse plain http. */
  readonly tls: boolean;
  readonly timeoutSeconds: number;
}

export function renderBlackboxConfig(spec: BlackboxConfigSpec): string {
  const module = {
    prober: "http",
    timeout: `${spec.timeoutSeconds}s`,
    http: {
      method: "GET",
      // Docker's networks are IPv4: do not wait for an IPv6 answer first.
      preferred_ip_protocol: "ip4",
      ip_protocol_fallback: false,
      // A redirect is not health: the runbooks' `curl -f` wants the endpoint itself to answer 2xx.
      follow_redirects: false,
      headers: { Host: spec.publicHost },
      ...(spec.tls && { fail_if_not_ssl: true, tls_config: { server_name: spec.publicHost, insecure_skip_verify: false } }),
    },
  };
  return `# blackbox.yml: rendered by runbook-as-code, do not edit by hand.\n${stringify({ modules: { [HEALTH_MODULE]: module } }, { lineWidth: 0 })}`;
}
