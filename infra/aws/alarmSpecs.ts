import { DATA_FSTYPE } from "./render/constants";
import { type AgentMetric, type CwAgentConfig, emittedMetric, emittedStdbMetric } from "./render/cwAgentConfig";

/**
 * Every CloudWatch alarm of an AWS stack as data. Monitoring creates one MetricAlarm per row and
 * the dashboard draws one widget per row, so a new alarm is one new row here and nothing else.
 * Pure: V is the type of values known only at deploy time (instance id, health check id, ALB
 * suffixes) — plain strings in tests, Pulumi inputs in the program.
 */

export type Statistic = "Average" | "Minimum" | "Maximum" | "Sum" | "SampleCount";
export type Comparison = "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold" | "LessThanThreshold" | "LessThanOrEqualToThreshold";
export type MissingData = "missing" | "breaching" | "notBreaching" | "ignore";

export interface MetricStat<V = string> extends AgentMetric<V> {
    statistic: Statistic;
    period: number;
}

export interface AlarmSpec<V = string> {
    /** Resource name suffix (`${monitoring}-${key}`): never rename one, it would replace the alarm. */
    key: string;
    /** Dashboard widget title. */
    title: string;
    description: string;
    /** Either one metric … */
    metric?: MetricStat<V>;
    /** … or a metric-math expression over named metrics (ids m1, m2, …). */
    expression?: { expression: string; label: string; metrics: Record<string, MetricStat<V>> };
    evaluationPeriods: number;
    datapointsToAlarm?: number;
    threshold: number;
    comparisonOperator: Comparison;
    treatMissingData: MissingData;
    /** EC2 actions besides notifying the topic. */
    actions: ("recover" | "reboot")[];
    /** Set when the metric lives outside the stack's region (Route 53 publishes in us-east-1 only). */
    region?: string;
    /** Which group the dashboard shows it in. */
    group: "host" | "database" | "front";
}

export interface AlarmThresholds {
    cpu_percent: number;
    memory_percent: number;
    disk_percent: number;
    connected_clients_percent: number;
    reducer_queue_length: number;
    reducer_busy_percent: number;
    commitlog_growth_gb_per_day: number;
}

export interface AlarmFacts<V = string> {
    instanceId: V;
    /** Mount point of the data volume (the disk alarm's path dimension). */
    mount: string;
    /** The scrape label the SpacetimeDB series carry as their one dimension. */
    environment: string;
    agentConfig: CwAgentConfig;
    thresholds: AlarmThresholds;
    /** server.max_connections: what the front admits. */
    maxConnections: number;
    /** The Route 53 health check of https://DOMAIN/v1/ping, when there is a domain. */
    external?: { domain: string; healthCheckId: V };
    alb?: { loadBalancer: V; targetGroup: V };
}

/** Route 53 publishes health-check metrics only in us-east-1; alarms and their topic must live there too. */
export const HEALTH_CHECK_METRICS_REGION = "us-east-1";

/** A health signal (1 = healthy) below 1 for three minutes; no data counts as down. */
const DOWN_FOR_3_MINUTES = { evaluationPeriods: 3, threshold: 1, comparisonOperator: "LessThanThreshold", treatMissingData: "breaching" } as const;

export function alarmSpecs<V>(f: AlarmFacts<V>): AlarmSpec<V>[] {
    const t = f.thresholds;
    const ec2 = (metricName: string, statistic: Statistic, period: number): MetricStat<V> => ({
        namespace: "AWS/EC2",
        metricName,
        dimensions: { InstanceId: f.instanceId },
        statistic,
        period,
    });
    const agent = (plugin: "mem" | "disk", statistic: Statistic): MetricStat<V> => ({
        ...emittedMetric<V>(f.agentConfig, plugin, { instanceId: f.instanceId, path: f.mount, fstype: DATA_FSTYPE }),
        statistic,
        period: 300,
    });
    const stdb = (series: string, statistic: Statistic, period: number): MetricStat<V> => ({ ...emittedStdbMetric(f.agentConfig, series, f.environment), statistic, period });
    const clientsAt = Math.max(1, Math.floor((f.maxConnections * t.connected_clients_percent) / 100));

    const specs: AlarmSpec<V>[] = [
        {
            key: "system-status",
            group: "host",
            title: "System status check",
            description: "Host hardware/AWS side failed (StatusCheckFailed_System): EC2 recovers the instance onto healthy hardware, same id, IP and volumes",
            metric: ec2("StatusCheckFailed_System", "Maximum", 60),
            evaluationPeriods: 2,
            threshold: 1,
            comparisonOperator: "GreaterThanOrEqualToThreshold",
            treatMissingData: "missing",
            actions: ["recover"],
        },
        {
            key: "instance-status",
            group: "host",
            title: "Instance status check",
            description: "Guest OS unreachable (StatusCheckFailed_Instance): EC2 reboots the instance; the server restarts from its volume",
            metric: ec2("StatusCheckFailed_Instance", "Maximum", 60),
            evaluationPeriods: 3,
            threshold: 1,
            comparisonOperator: "GreaterThanOrEqualToThreshold",
            treatMissingData: "missing",
            actions: ["reboot"],
        },
        {
            key: "cpu",
            group: "host",
            title: "CPU utilization (%)",
            description: `CPUUtilization above ${t.cpu_percent}% for 15 minutes: reducers or subscriptions are saturating the host`,
            metric: ec2("CPUUtilization", "Average", 300),
            evaluationPeriods: 3,
            threshold: t.cpu_percent,
            comparisonOperator: "GreaterThanThreshold",
            treatMissingData: "missing",
            actions: [],
        },
        {
            key: "memory",
            group: "host",
            title: "Memory used (%)",
            description: `mem_used_percent above ${t.memory_percent}%: SpacetimeDB keeps the database in memory; it grows with the data`,
            metric: agent("mem", "Average"),
            evaluationPeriods: 2,
            threshold: t.memory_percent,
            comparisonOperator: "GreaterThanThreshold",
            // No data means the agent is down: we are blind, which deserves a page.
            treatMissingData: "breaching",
            actions: [],
        },
        {
            key: "disk",
            group: "host",
            title: `Disk used of ${f.mount} (%)`,
            description: `disk_used_percent of ${f.mount} above ${t.disk_percent}%: the commitlog and snapshots are never pruned; grow the volume`,
            metric: agent("disk", "Maximum"),
            evaluationPeriods: 1,
            threshold: t.disk_percent,
            comparisonOperator: "GreaterThanThreshold",
            treatMissingData: "breaching",
            actions: [],
        },
        // SpacetimeDB's own series (scraped from loopback /v1/metrics). Missing data is normal before
        // the first publish; a dead agent or server is caught by the memory and health alarms.
        {
            key: "stdb-clients",
            group: "database",
            title: "Connected clients",
            description: `spacetime_worker_connected_clients at ${clientsAt} or more (${t.connected_clients_percent}% of server.max_connections ${f.maxConnections}): new clients will be refused by the front; raise server.max_connections or add capacity`,
            metric: stdb("spacetime_worker_connected_clients", "Maximum", 60),
            evaluationPeriods: 5,
            datapointsToAlarm: 3,
            threshold: clientsAt,
            comparisonOperator: "GreaterThanOrEqualToThreshold",
            treatMissingData: "notBreaching",
            actions: [],
        },
        {
            key: "stdb-reducer-queue",
            group: "database",
            title: "Reducer queue length",
            description: `More than ${t.reducer_queue_length} operations waiting for the module instance for 5 minutes: reducers run one at a time per database, so every caller waits; look for a slow reducer`,
            metric: stdb("spacetime_worker_instance_operation_queue_length", "Maximum", 60),
            evaluationPeriods: 5,
            threshold: t.reducer_queue_length,
            comparisonOperator: "GreaterThanThreshold",
            treatMissingData: "notBreaching",
            actions: [],
        },
        {
            key: "stdb-reducer-busy",
            group: "database",
            title: "Reducer time (% of wall clock)",
            description: `Reducers ran more than ${t.reducer_busy_percent}% of the time for 15 minutes (reducer_wasm_time_usec): the serial module instance is near saturation and latency climbs`,
            expression: {
                expression: "100 * m1 / (PERIOD(m1) * 1000000)",
                label: "reducer time %",
                metrics: { m1: stdb("reducer_wasm_time_usec", "Sum", 300) },
            },
            evaluationPeriods: 3,
            threshold: t.reducer_busy_percent,
            comparisonOperator: "GreaterThanThreshold",
            treatMissingData: "notBreaching",
            actions: [],
        },
        {
            key: "stdb-commitlog-growth",
            group: "database",
            title: "Commitlog growth (GB/day)",
            description: `The commitlog (spacetime_message_log_size_bytes) grew faster than ${t.commitlog_growth_gb_per_day} GB/day for 3 hours: it is never pruned, so the volume fills; check the write rate and grow aws.data_volume.size_gb`,
            expression: {
                expression: "RATE(m1) * 86400 / 1000000000",
                label: "commitlog GB/day",
                metrics: { m1: stdb("spacetime_message_log_size_bytes", "Maximum", 3600) },
            },
            evaluationPeriods: 3,
            threshold: t.commitlog_growth_gb_per_day,
            comparisonOperator: "GreaterThanThreshold",
            treatMissingData: "notBreaching",
            actions: [],
        },
    ];

    if (f.alb) {
        specs.push({
            key: "alb-healthy-hosts",
            group: "front",
            title: "ALB healthy targets",
            description: "The load balancer has no healthy target: /v1/ping fails on the host",
            metric: {
                namespace: "AWS/ApplicationELB",
                metricName: "HealthyHostCount",
                dimensions: { LoadBalancer: f.alb.loadBalancer, TargetGroup: f.alb.targetGroup },
                statistic: "Minimum",
                period: 60,
            },
            ...DOWN_FOR_3_MINUTES,
            actions: [],
        });
    }
    if (f.external) {
        specs.push({
            key: "external-health",
            group: "front",
            title: `https://${f.external.domain}/v1/ping from Route 53`,
            description: `https://${f.external.domain}/v1/ping fails from Route 53 checkers: clients cannot reach the database (DNS, TLS, proxy or server)`,
            metric: { namespace: "AWS/Route53", metricName: "HealthCheckStatus", dimensions: { HealthCheckId: f.external.healthCheckId }, statistic: "Minimum", period: 60 },
            ...DOWN_FOR_3_MINUTES,
            actions: [],
            region: HEALTH_CHECK_METRICS_REGION,
        });
    }
    return specs;
}

/** Every metric an alarm reads (for the dashboard and for checks that each is one the agent emits). */
export function metricsOf<V>(spec: AlarmSpec<V>): MetricStat<V>[] {
    return spec.metric ? [spec.metric] : Object.values(spec.expression?.metrics ?? {});
}
