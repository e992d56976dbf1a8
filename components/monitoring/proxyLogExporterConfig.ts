/**
 * The proxy's request metrics: nginx sends one access-log line per request over syslog to
 * 127.0.0.1 (the nginx log exporter shares the proxy's network namespace), and the exporter counts
 * requests by status and times them (`proxy_http_response_count_total`,
 * `proxy_http_response_time_seconds_hist`). So every app has request rate, error rate and latency,
 * whether or not its backend exports metrics. The log format is defined once, here, for both sides.
 */
import { stringify } from "yaml";
import type { NginxDirective } from "../shared/nginxSyntax";
import { block, d } from "../shared/nginxSyntax";

/** Where nginx sends the lines, inside the proxy's network namespace. */
export const PROXY_LOG = { syslogPort: 5531, tag: "proxy", exporterPort: 4040, namespace: "proxy" } as const;

/** What nginx writes and the exporter parses: `$request_time` is the response time a client sees. */
export const PROXY_LOG_FORMAT = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time';

/** Requests that count: health probes (blackbox, uptime checks) are left out of the request metrics. */
export const METRICS_LOG_VARIABLE = "$metrics_loggable";

/** Response-time buckets (seconds): the usual ladder, plus every latency threshold of the app's runbook. */
export function histogramBuckets(thresholds: readonly number[]): number[] {
  return [...new Set([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, ...thresholds])].sort((a, b) => a - b);
}

export function renderProxyLogExporterConfig(latencyThresholds: readonly number[]): string {
  const config = {
    listen: { port: PROXY_LOG.exporterPort, address: "0.0.0.0", metrics_endpoint: "/metrics" },
    namespaces: [
      {
        name: PROXY_LOG.namespace,
        format: PROXY_LOG_FORMAT,
        source: { syslog: { listen_address: `udp://127.0.0.1:${PROXY_LOG.syslogPort}`, format: "rfc3164", tags: [PROXY_LOG.tag] } },
        histogram_buckets: histogramBuckets(latencyThresholds),
      },
    ],
  };
  return `# nginx log exporter config: rendered by runbook-as-code, do not edit by hand.\n${stringify(config, { lineWidth: 0 })}`;
}

/** The http-level directives nginx needs to send the lines (the proxy's config adds them where monitored). */
export function proxyLogDirectives(syslogPort: number = PROXY_LOG.syslogPort): NginxDirective[] {
  return [
    d("log_format", "runbook_metrics", PROXY_LOG_FORMAT),
    d("access_log", `syslog:server=127.0.0.1:${syslogPort},tag=${PROXY_LOG.tag},nohostname`, "runbook_metrics", `if=${METRICS_LOG_VARIABLE}`),
  ];
}

/** nginx's stub_status, to 127.0.0.1 only: the nginx exporter in the proxy's network namespace reads it. */
export const STUB_STATUS_PATH = "/nginx-status";

export function stubStatusLocation(): NginxDirective {
  return block("location", ["=", STUB_STATUS_PATH], [d("access_log", "off"), d("allow", "127.0.0.1"), d("deny", "all"), d("stub_status")]);
}
