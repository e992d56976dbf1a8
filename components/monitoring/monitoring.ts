/**
 * Monitoring: one app's Prometheus, Alertmanager and Grafana on its Docker host, with the node
 * exporter (and the backup jobs' textfile directory), cAdvisor, the blackbox exporter probing every
 * health endpoint through the proxy, the proxy's nginx and request-log exporters, and the exporter
 * of each stateful service the app runs, and, where the app's catalog counts log lines, mtail reading
 * the backend replicas' json-file logs read-only (backendLogProgram.ts). Alert rules come from the
 * app's runbook thresholds.
 *
 * Everything sits on the app's internal network (the exporters of the proxy in its network
 * namespace, where nginx sends them its log lines and stub_status on 127.0.0.1). The three UIs also
 * join a network of their own, the only way Docker publishes their ports, on 127.0.0.1 only; it also
 * gives Alertmanager its way out to the receivers, and the blackbox exporter its way to the
 * third-party services the runbook checks (where the stack gives their URLs). Prometheus and Grafana keep their data on
 * protected volumes. Receivers' secrets reach Alertmanager only on a deploy step's stdin.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { AppSpec } from "../../config/spec";
import type { MonitoringSpec } from "../../config/monitoring";
import { longRunningSettings, type HealthcheckSpec } from "../app/containerDefaults";
import { deployCommand, type DeployCommand } from "../app/deployCommand";
import type { AppStack } from "../app/appStack";
import type { AppSecrets } from "../secrets/appSecrets";
import type { BackupJobs } from "../backups/backupJobs";
import { renderAlertRules } from "./alertRules";
import { renderAlertmanagerConfig, renderBootstrapAlertmanagerConfig } from "./alertmanagerConfig";
import { BACKEND_LOG, BACKEND_LOG_IMAGE, backendLogFiles, renderBackendLogProgram } from "./backendLogProgram";
import { renderBlackboxConfig } from "./blackboxConfig";
import { CloudAlarms } from "./cloudAlarms";
import { renderAlertmanagerConfigScript, renderGrafanaPasswordScript, renderToolsScript, TOOLS_PATH } from "./deployScripts";
import { dashboardJson, GRAFANA_PATHS, grafanaDashboards, renderGrafanaDashboardProvider, renderGrafanaDatasources } from "./grafanaProvisioning";
import { renderPrometheusConfig } from "./prometheusConfig";
import { renderProxyLogExporterConfig, STUB_STATUS_PATH } from "./proxyLogExporterConfig";
import { DEFAULTS, HEALTH_PATHS, httpProbe, IN_PROXY_NAMESPACE, PATHS, PORTS, UIS, type MonitoringService } from "./settings";
import { alertRulesSpec, blackboxSpec, grafanaSpec, prometheusSpec } from "./specs";

export interface MonitoringArgs {
  /** The app, resolved from the catalog and the stack; `app.monitoring` must be set. */
  readonly app: AppSpec;
  /** What the app runs: its host's provider, internal network, proxy, database and cache. */
  readonly stack: Pick<AppStack, "provider" | "internalNetwork" | "proxy" | "database" | "cache"> & Partial<Pick<AppStack, "healthGate" | "pooler" | "backendReplicas">>;
  /** Grafana's admin password; for PostgreSQL, the login roles (the exporter connects as the active one). */
  readonly secrets: Pick<AppSecrets, "grafanaAdminPassword" | "database">;
  /** The AWS instance the app runs on, where it has one: CloudWatch alarms and an SNS topic. */
  readonly instance?: { readonly id: pulumi.Input<string>; readonly arn: pulumi.Input<string> };
  /** Images to run instead of DEFAULTS.images (each pinned). */
  readonly images?: Partial<Record<keyof typeof DEFAULTS.images, string>>;
  /** A recovery stack: puts the backed-up Prometheus and Grafana data into their volumes before either starts (BackupJobs). */
  readonly restoreData?: BackupJobs["monitoringDataRestore"];
}

export function validateMonitoringArgs(args: MonitoringArgs): MonitoringSpec {
  const monitoring = args.app.monitoring;
  if (!monitoring) throw new Error(`\`app.monitoring\` must be set: monitoring is off for ${args.app.id}`);
  if (!args.secrets.grafanaAdminPassword) throw new Error("`secrets.grafanaAdminPassword` must be given: Grafana never runs on its default admin password");
  if (args.app.database.engine === "postgres" && (!args.stack.database || !args.secrets.database)) {
    throw new Error("`stack.database` and `secrets.database` must be given for a PostgreSQL app: its exporter connects to it");
  }
  if (monitoring.backendLog && !args.stack.backendReplicas?.length) {
    throw new Error(`\`stack.backendReplicas\` must be given: ${args.app.id} counts its backend's log lines, read from each replica's log file`);
  }
  for (const [image, ref] of Object.entries({ ...DEFAULTS.images, ...args.images })) {
    if (!/:[A-Za-z0-9_][A-Za-z0-9_.-]*$|@sha256:[0-9a-f]{64}$/.test(ref) || /:latest$/.test(ref)) throw new Error(`\`images.${image}\` must be pinned to a tag or digest (got ${ref})`);
  }
  return monitoring;
}

export class Monitoring extends pulumi.ComponentResource {
  public readonly network: docker.Network;
  public readonly volumes: Readonly<Record<"prometheus-data" | "grafana-data" | "tools", docker.Volume>>;
  public readonly containers: Readonly<Partial<Record<MonitoringService, docker.Container>>>;
  /** Delivers alertmanager.yml (receivers and their secrets) on stdin and reloads Alertmanager. */
  public readonly alertmanagerConfig: DeployCommand;
  public readonly grafanaPassword: DeployCommand;
  /** The rendered alert rules, as Prometheus loads them. */
  public readonly alertRules: string;
  /** The UIs, on 127.0.0.1 of the Docker host (an ssh tunnel away). */
  public readonly endpoints: Readonly<Record<(typeof UIS)[number], string>>;
  public readonly cloudAlarms?: CloudAlarms;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("runbook:monitoring:Monitoring", name, {}, opts);
    const spec = validateMonitoringArgs(args);
    const { app, stack } = args;
    const images = { ...DEFAULTS.images, ...args.images };
    const child = { parent: this, provider: stack.provider };
    const stateOpts: pulumi.CustomResourceOptions = { ...child, protect: app.protectState, retainOnDelete: app.protectState };
    const labels = [
      { label: "runbook.app", value: app.id },
      { label: "runbook.environment", value: app.environment },
    ];
    const postgres = app.database.engine === "postgres";

    this.network = new docker.Network(`${name}-net`, { internal: false, labels }, child);
    const volume = (key: string) => new docker.Volume(`${name}-${key}`, { labels }, stateOpts);
    this.volumes = { "prometheus-data": volume("prometheus-data"), "grafana-data": volume("grafana-data"), tools: volume("tools") };
    // mtail has no published image: the default one is built on the host (a stack's own image is pulled).
    const build = (key: keyof typeof images) => key === "backend-log-exporter" && images[key] === DEFAULTS.images[key];
    const image = (key: keyof typeof images) =>
      new docker.RemoteImage(`${name}-${key}-image`, { name: images[key], keepLocally: true, ...(build(key) && { build: { context: BACKEND_LOG_IMAGE.context } }) }, child);

    // BusyBox for the health checks of the exporters built FROM scratch.
    const busybox = image("busybox");
    const tools = deployCommand(
      `${name}-healthcheck-tools`,
      { host: app.host, create: pulumi.all([this.volumes.tools.name, busybox.imageId]).apply(([v, i]) => renderToolsScript(v, i)), triggers: [this.volumes.tools.name, busybox.imageId] },
      { parent: this, dependsOn: [this.volumes.tools] },
    );

    const internal = (alias: string) => ({ name: stack.internalNetwork.name, aliases: [alias] });
    const containers: Partial<Record<MonitoringService, docker.Container>> = {};
    // The app's internal network has no route out: what must reach beyond the host also joins this network.
    const outbound = (service: MonitoringService) => (UIS as readonly string[]).includes(service) || (service === "blackbox" && spec.externalProbes.length > 0);
    const run = (service: MonitoringService, container: Omit<docker.ContainerArgs, "image">, options: pulumi.CustomResourceOptions = {}) => {
      const inProxy = IN_PROXY_NAMESPACE.includes(service);
      const ui = (UIS as readonly string[]).includes(service);
      const health: HealthcheckSpec = httpProbe(`http://127.0.0.1:${PORTS[service]}${HEALTH_PATHS[service]}`, inProxy);
      containers[service] = new docker.Container(
        `${name}-${service}`,
        {
          image: image(service).imageId,
          ...(inProxy
            ? { networkMode: pulumi.interpolate`container:${stack.proxy.id}`, volumes: [{ volumeName: this.volumes.tools.name, containerPath: TOOLS_PATH, readOnly: true }] }
            : { networksAdvanced: [internal(service), ...(outbound(service) ? [{ name: this.network.name }] : [])] }),
          ...(ui && { ports: [{ internal: PORTS[service], external: spec.ports[service as (typeof UIS)[number]], ip: "127.0.0.1" }] }),
          ...container,
          ...longRunningSettings({ labels, logRotation: app.logRotation, role: ui ? "admin" : "monitoring", service: `monitoring:${service}`, health, limits: DEFAULTS.limits[service] }),
        },
        // UIs hold a host port (Prometheus and Grafana a data volume too), and the proxy's exporters its
        // ports: the old one goes first. Other exporters start their replacement first.
        { ...child, deleteBeforeReplace: ui || inProxy, ...options, dependsOn: [...(inProxy ? [tools, stack.proxy] : []), ...((options.dependsOn as pulumi.Resource[] | undefined) ?? [])] },
      );
      return containers[service]!;
    };

    // Exporters.
    run("node-exporter", {
      command: ["--path.rootfs=/host", `--collector.textfile.directory=/textfile`],
      volumes: [
        { hostPath: "/", containerPath: "/host", readOnly: true },
        // The directory the app's backup jobs write their metrics to (`apps.<id>.backups.metricsDir`).
        { hostPath: app.backups.metricsDir, containerPath: "/textfile", readOnly: true },
      ],
    });
    run("cadvisor", {
      command: ["--docker_only=true", "--housekeeping_interval=15s"],
      volumes: [
        { hostPath: "/", containerPath: "/rootfs", readOnly: true },
        { hostPath: "/var/run", containerPath: "/var/run", readOnly: true },
        { hostPath: "/sys", containerPath: "/sys", readOnly: true },
        { hostPath: "/var/lib/docker", containerPath: "/var/lib/docker", readOnly: true },
        { hostPath: "/dev/disk", containerPath: "/dev/disk", readOnly: true },
      ],
    });
    run("blackbox", {
      command: [`--config.file=${PATHS.blackboxConfig}`],
      uploads: [{ file: PATHS.blackboxConfig, content: renderBlackboxConfig(blackboxSpec(app)) }],
    });
    run("nginx-exporter", { command: [`--nginx.scrape-uri=http://127.0.0.1:80${STUB_STATUS_PATH}`] });
    const latency = [spec.alerts.latencyAverage?.threshold, spec.alerts.latencyP95?.threshold].filter((t): t is number => t !== undefined);
    run("proxy-log-exporter", { command: ["-config-file", PATHS.proxyLogConfig], uploads: [{ file: PATHS.proxyLogConfig, content: renderProxyLogExporterConfig(latency) }] });
    if (spec.backendLog) {
      // The backend replicas' json-file logs, read-only: a new release's replicas (new ids) give mtail a
      // new command, and the new mtail starts before the old one goes (it reads from the files' end).
      const files = pulumi.all(stack.backendReplicas!.map((c) => c.id)).apply((ids) => backendLogFiles(ids).join(","));
      run(
        "backend-log-exporter",
        {
          command: [`--progs=${BACKEND_LOG.programDir}`, pulumi.interpolate`--logs=${files}`, `--port=${BACKEND_LOG.port}`, "--logtostderr"],
          volumes: [{ hostPath: BACKEND_LOG.dockerContainers, containerPath: BACKEND_LOG.dockerContainers, readOnly: true }],
          uploads: [{ file: PATHS.backendLogProgram, content: renderBackendLogProgram(spec.backendLog, app.id) }],
        },
        { dependsOn: [...stack.backendReplicas!] },
      );
    }
    if (postgres && app.database.engine === "postgres") {
      const db = app.database;
      // The active login role of this rotation window: the owner loses its password once the release is
      // healthy (DatabaseOwnerLock), and the roles step sets this role's password before the gate passes.
      const role = args.secrets.database!.roles[args.secrets.database!.activeSlot];
      const dsn = pulumi.secret(pulumi.interpolate`DATA_SOURCE_NAME=postgresql://${role.name}:${role.password}@db:${db.port}/${db.database}?sslmode=disable`);
      run("postgres-exporter", { envs: [dsn] }, { additionalSecretOutputs: ["envs"], dependsOn: [stack.database!, ...(stack.healthGate ? [stack.healthGate] : [])] });
    }
    // PgBouncer's pools (clients waiting, the oldest wait), read as its stats user: SHOW views only.
    const stats = args.secrets.database?.poolerStats;
    if (app.database.engine === "postgres" && app.database.pooler && stack.pooler && stats) {
      const pooler = stack.pooler;
      const connection = pulumi.secret(pulumi.interpolate`PGBOUNCER_EXPORTER_CONNECTION_STRING=postgres://${stats.user}:${stats.password}@${pooler.host}:${pooler.port}/pgbouncer?sslmode=disable`);
      run("pgbouncer-exporter", { envs: [connection] }, { additionalSecretOutputs: ["envs"], dependsOn: [pooler.authStep] });
    }
    if (app.cache && stack.cache) run("redis-exporter", { envs: [`REDIS_ADDR=redis://redis:${app.cache.port}`] }, { dependsOn: [stack.cache] });

    // A recovery stack: the old host's metrics and Grafana's data go into the new, empty volumes first.
    const restored = args.restoreData
      ? [
          deployCommand(
            `${name}-restore-data`,
            {
              host: app.host,
              create: args.restoreData.create({ prometheus: this.volumes["prometheus-data"].name, grafana: this.volumes["grafana-data"].name }),
              // Once per pair of volumes; again into a new one (a volume with data is kept either way).
              triggers: [this.volumes["prometheus-data"].name, this.volumes["grafana-data"].name],
            },
            { parent: this, dependsOn: [this.volumes["prometheus-data"], this.volumes["grafana-data"], ...args.restoreData.after] },
          ),
        ]
      : [];

    // Prometheus, with the rules from the runbook's thresholds.
    this.alertRules = renderAlertRules(alertRulesSpec(app));
    run(
      "prometheus",
      {
        command: [`--config.file=${PATHS.prometheusConfig}`, `--storage.tsdb.path=${PATHS.prometheusData}`, `--storage.tsdb.retention.time=${spec.retentionDays}d`, `--web.listen-address=0.0.0.0:${PORTS.prometheus}`],
        volumes: [{ volumeName: this.volumes["prometheus-data"].name, containerPath: PATHS.prometheusData }],
        uploads: [
          { file: PATHS.prometheusConfig, content: renderPrometheusConfig(prometheusSpec(app)) },
          { file: PATHS.rules, content: this.alertRules },
        ],
      },
      { dependsOn: [...Object.values(containers), ...restored] },
    );

    // Alertmanager starts on a config that sends nothing; the step delivers the receivers.
    const alertmanager = run("alertmanager", {
      command: [`--config.file=${PATHS.alertmanagerConfig}`, "--storage.path=/alertmanager", "--cluster.listen-address="],
      uploads: [{ file: PATHS.alertmanagerConfig, content: renderBootstrapAlertmanagerConfig(app.id) }],
    });
    const amConfig = pulumi.secret(renderAlertmanagerConfig({ app: app.id, receivers: spec.receivers, ...(spec.smtp && { smtp: spec.smtp }) }));
    this.alertmanagerConfig = deployCommand(
      `${name}-alertmanager-config`,
      {
        host: app.host,
        create: alertmanager.name.apply((c) =>
          renderAlertmanagerConfigScript({ app: app.id, exec: ["docker", "exec", "-i", "-u", "0", c], configPath: PATHS.alertmanagerConfig, reloadUrl: `http://127.0.0.1:${PORTS.alertmanager}/-/reload`, owner: "nobody" }),
        ),
        stdin: amConfig,
        // A new config, or a new Alertmanager (which starts on the bootstrap config), re-delivers it.
        triggers: [alertmanager.id, amConfig],
      },
      { parent: this, dependsOn: [alertmanager] },
    );

    // Grafana: provisioned data source and dashboards, no UI edits, the generated admin password.
    const password = pulumi.secret(args.secrets.grafanaAdminPassword!);
    const grafanaSettings = grafanaSpec(app);
    const grafana = run(
      "grafana",
      {
        envs: [
          pulumi.secret(pulumi.interpolate`GF_SECURITY_ADMIN_PASSWORD=${password}`),
          "GF_USERS_ALLOW_SIGN_UP=false",
          "GF_AUTH_ANONYMOUS_ENABLED=false",
          "GF_ANALYTICS_REPORTING_ENABLED=false",
          "GF_ANALYTICS_CHECK_FOR_UPDATES=false",
        ],
        volumes: [{ volumeName: this.volumes["grafana-data"].name, containerPath: PATHS.grafanaData }],
        uploads: [
          { file: GRAFANA_PATHS.datasources, content: renderGrafanaDatasources(grafanaSettings) },
          { file: GRAFANA_PATHS.dashboardProvider, content: renderGrafanaDashboardProvider(app.displayName) },
          ...grafanaDashboards(grafanaSettings).map((d) => ({ file: `${GRAFANA_PATHS.dashboards}/${d.uid}.json`, content: dashboardJson(grafanaSettings, d) })),
        ],
      },
      { additionalSecretOutputs: ["envs"], dependsOn: [containers.prometheus!, ...restored] },
    );
    this.grafanaPassword = deployCommand(
      `${name}-grafana-password`,
      { host: app.host, create: grafana.name.apply((c) => renderGrafanaPasswordScript(app.id, ["docker", "exec", "-i", c])), stdin: password, triggers: [grafana.id, password] },
      { parent: this, dependsOn: [grafana] },
    );

    this.containers = containers;
    this.endpoints = { prometheus: `http://127.0.0.1:${spec.ports.prometheus}`, alertmanager: `http://127.0.0.1:${spec.ports.alertmanager}`, grafana: `http://127.0.0.1:${spec.ports.grafana}` };

    if (args.instance) {
      const critical = spec.receivers.critical;
      this.cloudAlarms = new CloudAlarms(
        `${name}-alarms`,
        {
          app: app.id,
          instanceId: args.instance.id,
          instanceArn: args.instance.arn,
          ...(spec.alerts.cpu && { cpuPercent: spec.alerts.cpu.threshold }),
          subscriptions: [
            ...(critical.email ?? "").split(",").map((a) => a.trim()).filter(Boolean).map((endpoint) => ({ protocol: "email" as const, endpoint })),
            ...(critical.webhookUrl?.startsWith("https://") ? [{ protocol: "https" as const, endpoint: critical.webhookUrl }] : []),
          ],
        },
        { parent: this },
      );
    }
    this.registerOutputs({ endpoints: this.endpoints });
  }
}
