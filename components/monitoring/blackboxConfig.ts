/**
 * renderBlackboxConfig: the blackbox exporter's modules as a pure function. One module probes the
 * app's health endpoints through its proxy as a browser would reach them: the app's public host name
 * as Host (a Django ALLOWED_HOSTS answers 400 to any other) and, where the proxy has a certificate,
 * over TLS verified for that name, so the probe also reports the certificate's expiry.
 *
 * One module per third-party service the runbook checks (`external_<name>`): a GET of the stack's
 * https URL, the certificate verified, within the runbook's timeout; up on a 2xx, or on any HTTP
 * answer where the runbook counts any status as reachable (its script prints "OK (401)").
 */
import { Document } from "yaml";

export const HEALTH_MODULE = "http_health";

/** The blackbox module that probes external service `name`. */
export const externalModule = (name: string) => `external_${name}`;

/** Every final HTTP status: the runbook's `requests.get` reports any of them as the service answering. */
export const ANY_HTTP_STATUS: readonly number[] = Array.from({ length: 400 }, (_, i) => 200 + i);

export interface ExternalModuleSpec {
  readonly name: string;
  readonly expect: "2xx" | "any-response";
  readonly timeoutSeconds: number;
}

export interface BlackboxConfigSpec {
  /** The Host the app answers to (`apps.<id>.domain`, or `localhost`). */
  readonly publicHost: string;
  /** The proxy terminates TLS: probe https, verify the certificate for `publicHost`, refuse plain http. */
  readonly tls: boolean;
  readonly timeoutSeconds: number;
  /** The third-party services probed: one module each. */
  readonly external?: readonly ExternalModuleSpec[];
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
  const doc = new Document({ modules: { [HEALTH_MODULE]: module } });
  for (const e of spec.external ?? []) {
    const http = {
      method: "GET",
      preferred_ip_protocol: "ip4",
      ip_protocol_fallback: false,
      // The service's own answer: a redirect is an answer where any status counts, and not a 2xx.
      follow_redirects: false,
      fail_if_not_ssl: true,
      tls_config: { insecure_skip_verify: false },
      // 400 numbers: one line.
      ...(e.expect === "any-response" && { valid_status_codes: doc.createNode([...ANY_HTTP_STATUS], { flow: true }) }),
    };
    doc.setIn(["modules", externalModule(e.name)], doc.createNode({ prober: "http", timeout: `${e.timeoutSeconds}s`, http }));
  }
  return `# blackbox.yml: rendered by runbook-as-code, do not edit by hand.\n${doc.toString({ lineWidth: 0 })}`;
}
