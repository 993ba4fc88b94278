import { BOOTSTRAP_LOG, CADDY_ACCESS_LOG, SERVER_LOG } from "./constants";

export interface CwAgentOptions {
    /** Mount point of the data volume (the only disk the agent reports). */
    mount: string;
    logGroupName: string;
    /** Ship Caddy's access log too (acme mode). */
    caddyAccessLog: boolean;
}

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
    logs: { logs_collected: { files: { collect_list: { file_path: string; log_group_name: string; log_stream_name: string; timezone: string }[] } } };
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
        logs: { logs_collected: { files: { collect_list: files } } },
    };
}

export interface AgentMetric {
    namespace: string;
    metricName: string;
    dimensions: Record<string, string>;
}

/** Tags each agent plugin puts on its metrics before the agent section's settings apply (AWS CloudWatch agent docs). */
const PLUGIN_TAGS: Record<"mem" | "disk", string[]> = { mem: [], disk: ["path", "device", "fstype"] };

/**
 * What the agent emits for one measurement of `config`, as the alarm must name it: the plugin's
 * tags minus dropped ones, `host` unless omitted, plus append_dimensions with `${aws:InstanceId}`
 * resolved. Alarms are built from this, never from hand-written dimensions.
 */
export function emittedMetric(
    config: CwAgentConfig,
    plugin: "mem" | "disk",
    facts: { instanceId: string; path?: string; device?: string; fstype?: string; host?: string },
): AgentMetric {
    const section = config.metrics.metrics_collected[plugin];
    const measurement = section.measurement[0] ?? "";
    const metricName = measurement.startsWith(`${plugin}_`) ? measurement : `${plugin}_${measurement}`;
    const dims: Record<string, string> = {};
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
