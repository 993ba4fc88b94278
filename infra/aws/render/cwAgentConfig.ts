import { BOOTSTRAP_LOG, CADDY_ACCESS_LOG, SERVER_LOG } from "./constants";

export interface CwAgentOptions {
    /** Mount point of the data volume (the only disk the agent reports). */
    mount: string;
    logGroupName: string;
    /** Ship Caddy's access log too (acme mode). */
    caddyAccessLog: boolean;
    /** Scrape the server's loopback /v1/metrics (the Prometheus input, EMF) into this log group. */
    prometheus?: { logGroupName: string; environment: string };
}

/**
 * Where cloud-init writes the agent's Prometheus scrape config (a standard Prometheus
 * `scrape_configs` file; the agent JSON only names its path).
 */
export const PROMETHEUS_SCRAPE_PATH = "/etc/inner-universe/cwagent-prometheus.yaml";
/** Prometheus job of the server scrape; the EMF declarations select it by this name. */
export const PROMETHEUS_JOB = "spacetimedb";
/** CloudWatch namespace of the SpacetimeDB series (kept apart from the host metrics in CWAgent). */
export const STDB_NAMESPACE = "InnerUniverse/SpacetimeDB";
/** The one label every selected series is published with as a dimension (set by the scrape config). */
export const STDB_DIMENSION = "environment";

/** Prometheus types the agent converts; it drops histograms (AWS: "Prometheus metric type conversion by the CloudWatch agent"). */
export type AgentPromType = "gauge" | "counter";

export interface StdbSeries {
    name: string;
    type: AgentPromType;
    unit: "Count" | "Bytes" | "Microseconds";
    /** Keep only samples whose label matches (e.g. txn_type="Reducer"), so a Sum over the dimension means one thing. */
    only?: { label: string; value: string };
    why: string;
}

/**
 * The SpacetimeDB series shipped to CloudWatch. Names, types and labels are what a real
 * spacetimedb-standalone 1.2.0 emits on /v1/metrics once a database exists (test/e2e/metrics.test.ts
 * scrapes one and checks each). Counters arrive as per-scrape deltas (the agent's conversion), so
 * Sum over a period is the amount in that period. The 1.2 latency series are histograms, which the
 * agent drops: reducer time comes from the reducer_wasm_time_usec counter instead. Reducer errors
 * have no series in 1.2 (a reducer returning Err still counts as committed="true" in
 * spacetime_num_txns_total, observed), so there is no error-rate alarm.
 */
export const STDB_SERIES: readonly StdbSeries[] = [
    { name: "spacetime_worker_connected_clients", type: "gauge", unit: "Count", why: "WebSocket clients per database; the front admits server.max_connections" },
    {
        name: "spacetime_worker_instance_operation_queue_length",
        type: "gauge",
        unit: "Count",
        why: "reducer calls waiting for the database's single module instance: a backlog is latency",
    },
    { name: "spacetime_message_log_size_bytes", type: "gauge", unit: "Bytes", why: "commitlog size on the volume; it is never pruned" },
    { name: "spacetime_worker_wasm_memory_bytes", type: "gauge", unit: "Bytes", why: "linear memory of the module instance" },
    { name: "spacetime_subscription_connections", type: "gauge", unit: "Count", why: "connections with subscriptions" },
    { name: "reducer_wasm_time_usec", type: "counter", unit: "Microseconds", why: "time spent running reducers: per period, how busy the serial module instance is" },
    { name: "spacetime_num_txns_total", type: "counter", unit: "Count", only: { label: "txn_type", value: "Reducer" }, why: "reducer transactions" },
];

export type PrometheusSection = {
    log_group_name: string;
    prometheus_config_path: string;
    emf_processor: {
        metric_declaration_dedup: boolean;
        metric_namespace: string;
        metric_unit: Record<string, string>;
        metric_declaration: { source_labels: string[]; label_matcher: string; dimensions: string[][]; metric_selectors: string[] }[];
    };
};

export interface CwAgentConfig {
    agent: { metrics_collection_interval: number; omit_hostname: boolean };
    metrics: {
        namespace: string;
        append_dimensions: Record<string, string>;
        metrics_collected: {
            mem: { measurement: string[] };
            disk: { resources: string[]; measurement: string[]; drop_device: boolean };
        };
    };
    logs: {
        logs_collected: { files: { collect_list: { file_path: string; log_group_name: string; log_stream_name: string; timezone: string }[] } };
        metrics_collected?: { prometheus: PrometheusSection };
    };
}

/**
 * The CloudWatch agent's configuration (stored in an `AmazonCloudWatch-*` SSM parameter, which
 * CloudWatchAgentServerPolicy lets the host read). Dimensions are kept few and stable on purpose:
 * no `host` (omit_hostname) and no `device` (drop_device; NVMe names can change across a stop/start),
 * so the alarms' dimensions are known before the host exists.
 */
export function renderCwAgentConfig(o: CwAgentOptions): CwAgentConfig {
    const stream = (name: string) => `{instance_id}/${name}`;
    const files = [
        { file_path: SERVER_LOG, log_group_name: o.logGroupName, log_stream_name: stream("spacetimedb"), timezone: "UTC" },
        { file_path: BOOTSTRAP_LOG, log_group_name: o.logGroupName, log_stream_name: stream("bootstrap"), timezone: "UTC" },
    ];
    if (o.caddyAccessLog) files.push({ file_path: CADDY_ACCESS_LOG, log_group_name: o.logGroupName, log_stream_name: stream("caddy-access"), timezone: "UTC" });
    return {
        agent: { metrics_collection_interval: 60, omit_hostname: true },
        metrics: {
            namespace: "CWAgent",
            append_dimensions: { InstanceId: "${aws:InstanceId}" },
            metrics_collected: {
                mem: { measurement: ["mem_used_percent"] },
                disk: { resources: [o.mount], measurement: ["used_percent"], drop_device: true },
            },
        },
        logs: {
            logs_collected: { files: { collect_list: files } },
            ...(o.prometheus ? { metrics_collected: { prometheus: prometheusSection(o.prometheus.logGroupName) } } : {}),
        },
    };
}

const exact = (name: string) => `^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`;

/** One declaration per label filter: series without a filter share one, each filtered series gets its own. */
function prometheusSection(logGroupName: string): PrometheusSection {
    const declaration = (series: readonly StdbSeries[], only?: StdbSeries["only"]) => ({
        source_labels: only ? ["job", only.label] : ["job"],
        label_matcher: only ? `^${PROMETHEUS_JOB};${only.value}$` : `^${PROMETHEUS_JOB}$`,
        dimensions: [[STDB_DIMENSION]],
        metric_selectors: series.map((s) => exact(s.name)),
    });
    return {
        log_group_name: logGroupName,
        prometheus_config_path: PROMETHEUS_SCRAPE_PATH,
        emf_processor: {
            // Each label set is its own log event; several collapse onto one dimension set on purpose.
            metric_declaration_dedup: false,
            metric_namespace: STDB_NAMESPACE,
            metric_unit: Object.fromEntries(STDB_SERIES.map((s) => [s.name, s.unit])),
            metric_declaration: [declaration(STDB_SERIES.filter((s) => !s.only)), ...STDB_SERIES.filter((s) => s.only).map((s) => declaration([s], s.only))],
        },
    };
}

/**
 * The Prometheus scrape config the agent reads (written by cloud-init). The server listens on
 * loopback only, so the agent scrapes 127.0.0.1; the static label becomes the one dimension.
 */
export function renderPrometheusScrapeConfig(o: { port: number; environment: string }): string {
    // Compact on purpose: it travels in user data, which EC2 caps at 16 KiB.
    return [
        "scrape_configs:",
        `- job_name: ${PROMETHEUS_JOB}`,
        "  metrics_path: /v1/metrics",
        "  scrape_interval: 1m",
        "  scrape_timeout: 10s",
        `  static_configs: [{targets: ["127.0.0.1:${o.port}"], labels: {${STDB_DIMENSION}: ${JSON.stringify(o.environment)}}}]`,
        "",
    ].join("\n");
}

/** The CloudWatch metric the agent makes of one selected series: what an alarm or widget must name. */
export function emittedStdbMetric(config: CwAgentConfig, seriesName: string, environment: string): AgentMetric {
    const prom = config.logs.metrics_collected?.prometheus;
    if (!prom) throw new Error("the agent config scrapes no Prometheus metrics");
    const declaration = prom.emf_processor.metric_declaration.find((d) => d.metric_selectors.some((sel) => new RegExp(sel).test(seriesName)));
    if (!declaration) throw new Error(`${seriesName} is not selected by any metric_declaration`);
    const dims = declaration.dimensions[0] ?? [];
    if (dims.length !== 1 || dims[0] !== STDB_DIMENSION) throw new Error(`only the ${STDB_DIMENSION} dimension is resolved here, got ${dims.join(",")}`);
    return { namespace: prom.emf_processor.metric_namespace, metricName: seriesName, dimensions: { [STDB_DIMENSION]: environment } };
}

/** V is the type of a value known only at deploy time (the instance id): string in tests, an Output in the program. */
export interface AgentMetric<V = string> {
    namespace: string;
    metricName: string;
    dimensions: Record<string, string | V>;
}

/** Tags each agent plugin puts on its metrics before the agent section's settings apply (AWS CloudWatch agent docs). */
const PLUGIN_TAGS: Record<"mem" | "disk", string[]> = { mem: [], disk: ["path", "device", "fstype"] };

/**
 * What the agent emits for one measurement of `config`, as the alarm must name it: the plugin's
 * tags minus dropped ones, `host` unless omitted, plus append_dimensions with `${aws:InstanceId}`
 * resolved. Alarms are built from this, never from hand-written dimensions.
 */
export function emittedMetric<V = string>(
    config: CwAgentConfig,
    plugin: "mem" | "disk",
    facts: { instanceId: V; path?: string; device?: string; fstype?: string; host?: string },
): AgentMetric<V> {
    const section = config.metrics.metrics_collected[plugin];
    const measurement = section.measurement[0] ?? "";
    const metricName = measurement.startsWith(`${plugin}_`) ? measurement : `${plugin}_${measurement}`;
    const dims: Record<string, string | V> = {};
    for (const tag of PLUGIN_TAGS[plugin]) {
        if (tag === "device" && "drop_device" in section && section.drop_device) continue;
        const value = facts[tag as "path" | "device" | "fstype"];
        if (value === undefined) throw new Error(`the agent tags ${metricName} with ${tag}; say its value`);
        dims[tag] = value;
    }
    if (!config.agent.omit_hostname) {
        if (!facts.host) throw new Error("the agent adds a host dimension unless omit_hostname is set");
        dims.host = facts.host;
    }
    for (const [key, value] of Object.entries(config.metrics.append_dimensions)) {
        if (value !== "${aws:InstanceId}") throw new Error(`append_dimensions.${key}: only \${aws:InstanceId} is resolved here`);
        dims[key] = facts.instanceId;
    }
    return { namespace: config.metrics.namespace, metricName, dimensions: dims };
}

/**
 * The data volume's disk_used_percent series as the agent emits it for `instanceId` (the series
 * the disk alarm watches and `status` forecasts from). Its name and dimensions depend only on the
 * disk section and append_dimensions, so the log settings here are placeholders.
 */
export function dataDiskMetric(mount: string, instanceId: string, fstype: string): AgentMetric<string> {
    return emittedMetric(renderCwAgentConfig({ mount, logGroupName: "-", caddyAccessLog: false }), "disk", { instanceId, path: mount, fstype });
}
