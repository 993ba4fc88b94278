import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { type AlarmSpec, type AlarmThresholds, alarmSpecs } from "./alarmSpecs";
import { dashboardBody } from "./dashboard";
import { CustomerKey, logGroupPrefix } from "./kms";
import { emittedStdbMetric, renderCwAgentConfig, STDB_SERIES } from "./render/cwAgentConfig";
import * as aws from "./sdk";

export { HEALTH_CHECK_METRICS_REGION } from "./alarmSpecs";

export interface MonitoringArgs {
    stack: string;
    /** cfg.environment: the label the scrape config puts on every SpacetimeDB series (their one dimension). */
    environment: string;
    region: string;
    partition: pulumi.Input<string>;
    instanceId: pulumi.Input<string>;
    mount: string;
    logRetentionDays: number;
    cwAgentParameterName: string;
    caddyAccessLog: boolean;
    alarms: AlarmThresholds & { email?: string; https_endpoint?: string };
    /** server.max_connections: the connected-clients alarm fires near it. */
    maxConnections: number;
    /** Encrypt topics and log groups with a customer-managed key (aws.customer_key). */
    customerKey: boolean;
    /** Public name checked from outside by Route 53 (https://DOMAIN/v1/ping). */
    domain?: string;
    /** alb mode: the target group whose healthy-host count is watched. */
    alb?: { loadBalancerArnSuffix: pulumi.Input<string>; targetGroupArnSuffix: pulumi.Input<string> };
}

/**
 * Alarms, the topics they notify, the dashboard, and the CloudWatch agent that feeds memory/disk
 * metrics and SpacetimeDB's own series and ships the server log. Alarms and dashboard widgets
 * are both generated from one table (alarmSpecs.ts). Every alarm notifies its topic; the
 * status-check alarms also act.
 */
export class Monitoring extends pulumi.ComponentResource {
    readonly alarmTopicArn: pulumi.Output<string>;
    readonly logGroupName: pulumi.Output<string>;
    readonly dashboardName: pulumi.Output<string>;
    readonly healthCheckId?: pulumi.Output<string>;

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("inner-universe:aws:Monitoring", name, {}, opts);
        const accountId = args.customerKey ? aws.getCallerIdentityOutput({}, { parent: this }).accountId : undefined;
        const keys = new Map<string, pulumi.Output<string>>();
        const keyIn = (region: string): pulumi.Output<string> | undefined => {
            if (!accountId) return undefined;
            if (!keys.has(region)) {
                const suffix = region === args.region ? "" : `-${region}`;
                keys.set(
                    region,
                    new CustomerKey(
                        `${name}-cmk${suffix}`,
                        { stack: args.stack, partition: args.partition, accountId, region, otherRegion: region !== args.region },
                        { parent: this },
                    ).arn,
                );
            }
            return keys.get(region);
        };

        const topic = this.topic(`${name}-alarms`, args, keyIn(args.region));
        this.alarmTopicArn = topic.arn;

        const hostLogs = `${logGroupPrefix(args.stack)}host`;
        const promLogs = `${logGroupPrefix(args.stack)}prometheus`;
        const logGroup = (key: string, logName: string) =>
            new aws.cloudwatch.LogGroup(key, { name: logName, retentionInDays: args.logRetentionDays, ...withKey("kmsKeyId", keyIn(args.region)) }, { parent: this });
        this.logGroupName = logGroup(`${name}-logs`, hostLogs).name;
        // The agent writes the scraped series as EMF events here; same retention as the server log.
        logGroup(`${name}-prometheus-logs`, promLogs);

        const agentConfig = renderCwAgentConfig({
            mount: args.mount,
            logGroupName: hostLogs,
            caddyAccessLog: args.caddyAccessLog,
            prometheus: { logGroupName: promLogs, environment: args.environment },
        });
        const agentJson = JSON.stringify(agentConfig);
        const parameter = new aws.ssm.Parameter(
            `${name}-cwagent-config`,
            { name: args.cwAgentParameterName, type: "String", tier: "Standard", value: agentJson, description: "CloudWatch agent config of the SpacetimeDB host" },
            { parent: this },
        );
        // The association name carries the config's hash: a changed config updates the association,
        // and an updated association runs at once. The daily run repairs drift on the host.
        new aws.ssm.Association(
            `${name}-cwagent`,
            {
                name: "AmazonCloudWatch-ManageAgent",
                associationName: `inner-universe-${args.stack}-cwagent-${createHash("sha256").update(agentJson).digest("hex").slice(0, 12)}`,
                targets: [{ key: "InstanceIds", values: [args.instanceId] }],
                parameters: {
                    action: "configure",
                    mode: "ec2",
                    optionalConfigurationSource: "ssm",
                    optionalConfigurationLocation: parameter.name,
                    optionalRestart: "yes",
                },
                scheduleExpression: "rate(1 day)",
                complianceSeverity: "HIGH",
            },
            { parent: this },
        );

        // Patch compliance (FSBP SSM.2) made visible: a daily scan-only run reports missing patches to
        // SSM compliance. It installs nothing; the host is patched by rolling its AMI (a replacement).
        new aws.ssm.Association(
            `${name}-patch-scan`,
            {
                name: "AWS-RunPatchBaseline",
                associationName: `inner-universe-${args.stack}-patch-scan`,
                targets: [{ key: "InstanceIds", values: [args.instanceId] }],
                parameters: { Operation: "Scan" },
                scheduleExpression: "rate(1 day)",
                complianceSeverity: "HIGH",
            },
            { parent: this },
        );

        let external: { domain: string; healthCheckId: pulumi.Output<string> } | undefined;
        if (args.domain) {
            const check = new aws.route53.HealthCheck(
                `${name}-health`,
                {
                    type: "HTTPS",
                    fqdn: args.domain,
                    port: 443,
                    resourcePath: "/v1/ping",
                    enableSni: true,
                    requestInterval: 30,
                    failureThreshold: 3,
                    tags: { Name: `inner-universe-${args.stack}-ping` },
                },
                { parent: this },
            );
            this.healthCheckId = check.id;
            external = { domain: args.domain, healthCheckId: check.id };
        }

        const specs = alarmSpecs<pulumi.Input<string>>({
            instanceId: args.instanceId,
            mount: args.mount,
            environment: args.environment,
            agentConfig,
            thresholds: args.alarms,
            maxConnections: args.maxConnections,
            ...(external ? { external } : {}),
            ...(args.alb ? { alb: { loadBalancer: args.alb.loadBalancerArnSuffix, targetGroup: args.alb.targetGroupArnSuffix } } : {}),
        });

        const topics = new Map<string, aws.sns.Topic>([[args.region, topic]]);
        const topicIn = (region: string) => {
            if (!topics.has(region)) topics.set(region, this.topic(`${name}-alarms-${region}`, args, keyIn(region), region));
            return topics.get(region)!;
        };
        const automate = (action: "recover" | "reboot") => pulumi.interpolate`arn:${args.partition}:automate:${args.region}:ec2:${action}`;
        // Every alarm notifies (alarm and OK) a topic in its own region; some also act (recover, reboot).
        const alarms = specs.map((spec) => {
            const notify = topicIn(spec.region ?? args.region);
            return new aws.cloudwatch.MetricAlarm(
                `${name}-${spec.key}`,
                { ...alarmInputs(spec), alarmActions: [...spec.actions.map(automate), notify.arn], okActions: [notify.arn], actionsEnabled: true },
                { parent: this },
            );
        });

        const dashboard = new aws.cloudwatch.Dashboard(
            `${name}-dashboard`,
            {
                dashboardName: `inner-universe-${args.stack}`,
                dashboardBody: pulumi.all([pulumi.output(specs), pulumi.all(alarms.map((a) => a.arn))]).apply(([resolved, arns]) =>
                    JSON.stringify(
                        dashboardBody({
                            stack: args.stack,
                            region: args.region,
                            alarms: (resolved as AlarmSpec<string>[]).map((spec, i) => ({ spec, arn: arns[i]! })),
                            series: STDB_SERIES.map((series) => ({ series, metric: emittedStdbMetric(agentConfig, series.name, args.environment) })),
                            logGroupName: hostLogs,
                        }),
                    ),
                ),
            },
            { parent: this },
        );
        this.dashboardName = dashboard.dashboardName;
        this.registerOutputs({ alarmTopicArn: this.alarmTopicArn, logGroupName: this.logGroupName, dashboardName: this.dashboardName });
    }

    private topic(key: string, args: MonitoringArgs, kmsKeyArn: pulumi.Output<string> | undefined, region?: string): aws.sns.Topic {
        const inRegion = region ? { region } : {};
        const topic = new aws.sns.Topic(key, { ...inRegion, displayName: `inner-universe ${args.stack} alarms`, ...withKey("kmsMasterKeyId", kmsKeyArn) }, { parent: this });
        if (args.alarms.email) {
            new aws.sns.TopicSubscription(`${key}-email`, { ...inRegion, topic: topic.arn, protocol: "email", endpoint: args.alarms.email }, { parent: this });
        }
        if (args.alarms.https_endpoint) {
            new aws.sns.TopicSubscription(`${key}-https`, { ...inRegion, topic: topic.arn, protocol: "https", endpoint: args.alarms.https_endpoint }, { parent: this });
        }
        return topic;
    }
}

function withKey<K extends string>(key: K, arn: pulumi.Output<string> | undefined): { [k in K]?: pulumi.Output<string> } {
    return (arn ? { [key]: arn } : {}) as { [k in K]?: pulumi.Output<string> };
}

/** A spec as MetricAlarm inputs: one metric, or metric queries with the expression returning data. */
export function alarmInputs(spec: AlarmSpec<pulumi.Input<string>>): Omit<aws.cloudwatch.MetricAlarmArgs, "alarmActions" | "okActions" | "actionsEnabled"> {
    const common = {
        ...(spec.region ? { region: spec.region } : {}),
        alarmDescription: spec.description,
        evaluationPeriods: spec.evaluationPeriods,
        ...(spec.datapointsToAlarm ? { datapointsToAlarm: spec.datapointsToAlarm } : {}),
        threshold: spec.threshold,
        comparisonOperator: spec.comparisonOperator,
        treatMissingData: spec.treatMissingData,
    };
    if (spec.metric) {
        const m = spec.metric;
        return { ...common, namespace: m.namespace, metricName: m.metricName, dimensions: m.dimensions, statistic: m.statistic, period: m.period };
    }
    const e = spec.expression!;
    return {
        ...common,
        metricQueries: [
            { id: "e1", expression: e.expression, label: e.label, returnData: true },
            ...Object.entries(e.metrics).map(([id, m]) => ({
                id,
                returnData: false,
                metric: { namespace: m.namespace, metricName: m.metricName, dimensions: m.dimensions, stat: m.statistic, period: m.period },
            })),
        ],
    };
}
