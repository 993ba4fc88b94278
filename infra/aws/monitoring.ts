import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { type AlarmSpec, type AlarmThresholds, alarmSpecs } from "./alarmSpecs";
import { dashboardBody } from "./dashboard";
import { CustomerKey, logGroupPrefix } from "./kms";
import { type CwAgentConfig, emittedStdbMetric, renderCwAgentConfig, STDB_SERIES } from "./render/cwAgentConfig";
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
        const keyIn = this.customerKeys(name, args);
        const topicIn = perRegion((region) => this.topic(name, args, region, keyIn(region)));
        this.alarmTopicArn = topicIn(args.region).arn;
        const logs = { host: `${logGroupPrefix(args.stack)}host`, prometheus: `${logGroupPrefix(args.stack)}prometheus` };
        this.logGroupName = this.logGroup(`${name}-logs`, logs.host, args, keyIn(args.region)).name;
        // The agent writes the scraped series as EMF events here; same retention as the server log.
        this.logGroup(`${name}-prometheus-logs`, logs.prometheus, args, keyIn(args.region));
        const agentConfig = renderCwAgentConfig({
            mount: args.mount,
            logGroupName: logs.host,
            caddyAccessLog: args.caddyAccessLog,
            prometheus: { logGroupName: logs.prometheus, environment: args.environment },
        });
        this.cloudWatchAgent(name, args, agentConfig);
        this.patchScan(name, args);
        const external = args.domain ? { domain: args.domain, healthCheckId: this.healthCheck(name, args.stack, args.domain).id } : undefined;
        this.healthCheckId = external?.healthCheckId;
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
        const alarms = specs.map((spec) => this.alarm(name, args, spec, topicIn(spec.region ?? args.region)));
        this.dashboardName = this.dashboard(name, args, specs, alarms, agentConfig, logs.host).dashboardName;
        this.registerOutputs({ alarmTopicArn: this.alarmTopicArn, logGroupName: this.logGroupName, dashboardName: this.dashboardName });
    }

    /** aws.customer_key: one key per region that has a topic or log group, made on first use; none otherwise. */
    private customerKeys(name: string, args: MonitoringArgs): (region: string) => pulumi.Output<string> | undefined {
        if (!args.customerKey) return () => undefined;
        const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
        return perRegion((region) => {
            const otherRegion = region !== args.region;
            return new CustomerKey(
                `${name}-cmk${otherRegion ? `-${region}` : ""}`,
                { stack: args.stack, partition: args.partition, accountId, region, otherRegion },
                { parent: this },
            ).arn;
        });
    }

    /** The alarm topic of a region (the provider's own is `<name>-alarms`), with its subscriptions. */
    private topic(name: string, args: MonitoringArgs, region: string, kmsKeyArn: pulumi.Output<string> | undefined): aws.sns.Topic {
        const key = region === args.region ? `${name}-alarms` : `${name}-alarms-${region}`;
        const inRegion = region === args.region ? {} : { region };
        const topic = new aws.sns.Topic(key, { ...inRegion, displayName: `inner-universe ${args.stack} alarms`, ...withKey("kmsMasterKeyId", kmsKeyArn) }, { parent: this });
        if (args.alarms.email) {
            new aws.sns.TopicSubscription(`${key}-email`, { ...inRegion, topic: topic.arn, protocol: "email", endpoint: args.alarms.email }, { parent: this });
        }
        if (args.alarms.https_endpoint) {
            new aws.sns.TopicSubscription(`${key}-https`, { ...inRegion, topic: topic.arn, protocol: "https", endpoint: args.alarms.https_endpoint }, { parent: this });
        }
        return topic;
    }

    private logGroup(key: string, logName: string, args: MonitoringArgs, kmsKeyArn: pulumi.Output<string> | undefined): aws.cloudwatch.LogGroup {
        return new aws.cloudwatch.LogGroup(key, { name: logName, retentionInDays: args.logRetentionDays, ...withKey("kmsKeyId", kmsKeyArn) }, { parent: this });
    }

    /** The agent's config as an SSM parameter, and the association that (re)configures the agent from it. */
    private cloudWatchAgent(name: string, args: MonitoringArgs, agentConfig: CwAgentConfig): void {
        const agentJson = JSON.stringify(agentConfig);
        const parameter = new aws.ssm.Parameter(
            `${name}-cwagent-config`,
            // A String, not a SecureString: it holds no secret (policy ssm-plain-parameters-no-secrets), the
            // agent keeps its copy world-readable on the host anyway, and as insecureValue every
            // preview shows what a config change changes (Pulumi hides `value` even of a String).
            { name: args.cwAgentParameterName, type: "String", tier: "Standard", insecureValue: agentJson, description: "CloudWatch agent config of the SpacetimeDB host" },
            { parent: this },
        );
        // The association name carries the config's hash: a changed config updates the association,
        // and an updated association runs at once. The daily run repairs drift on the host.
        this.dailyAssociation(`${name}-cwagent`, args, "AmazonCloudWatch-ManageAgent", `cwagent-${createHash("sha256").update(agentJson).digest("hex").slice(0, 12)}`, {
            action: "configure",
            mode: "ec2",
            optionalConfigurationSource: "ssm",
            optionalConfigurationLocation: parameter.name,
            optionalRestart: "yes",
        });
    }

    /**
     * Patch compliance (FSBP SSM.2) made visible: a daily scan-only run reports missing patches to
     * SSM compliance. It installs nothing; the host is patched by rolling its AMI (a replacement).
     */
    private patchScan(name: string, args: MonitoringArgs): void {
        this.dailyAssociation(`${name}-patch-scan`, args, "AWS-RunPatchBaseline", "patch-scan", { Operation: "Scan" });
    }

    /** An SSM document run on the host once a day (and at once when the association changes). */
    private dailyAssociation(key: string, args: MonitoringArgs, document: string, suffix: string, parameters: Record<string, pulumi.Input<string>>): aws.ssm.Association {
        return new aws.ssm.Association(
            key,
            {
                name: document,
                associationName: `inner-universe-${args.stack}-${suffix}`,
                targets: [{ key: "InstanceIds", values: [args.instanceId] }],
                parameters,
                scheduleExpression: "rate(1 day)",
                complianceSeverity: "HIGH",
            },
            { parent: this },
        );
    }

    /** Route 53 checks https://DOMAIN/v1/ping from outside, as a client would reach it. */
    private healthCheck(name: string, stack: string, domain: string): aws.route53.HealthCheck {
        return new aws.route53.HealthCheck(
            `${name}-health`,
            {
                type: "HTTPS",
                fqdn: domain,
                port: 443,
                resourcePath: "/v1/ping",
                enableSni: true,
                requestInterval: 30,
                failureThreshold: 3,
                tags: { Name: `inner-universe-${stack}-ping` },
            },
            { parent: this },
        );
    }

    /** Every alarm notifies (alarm and OK) a topic in its own region; some also act (recover, reboot). */
    private alarm(name: string, args: MonitoringArgs, spec: AlarmSpec<pulumi.Input<string>>, notify: aws.sns.Topic): aws.cloudwatch.MetricAlarm {
        const automate = (action: "recover" | "reboot") => pulumi.interpolate`arn:${args.partition}:automate:${args.region}:ec2:${action}`;
        return new aws.cloudwatch.MetricAlarm(
            `${name}-${spec.key}`,
            { ...alarmInputs(spec), alarmActions: [...spec.actions.map(automate), notify.arn], okActions: [notify.arn], actionsEnabled: true },
            { parent: this },
        );
    }

    private dashboard(
        name: string,
        args: MonitoringArgs,
        specs: AlarmSpec<pulumi.Input<string>>[],
        alarms: aws.cloudwatch.MetricAlarm[],
        agentConfig: CwAgentConfig,
        logGroupName: string,
    ): aws.cloudwatch.Dashboard {
        const body = pulumi.all([pulumi.output(specs), pulumi.all(alarms.map((a) => a.arn))]).apply(([resolved, arns]) =>
            JSON.stringify(
                dashboardBody({
                    stack: args.stack,
                    region: args.region,
                    alarms: (resolved as AlarmSpec<string>[]).map((spec, i) => ({ spec, arn: arns[i]! })),
                    series: STDB_SERIES.map((series) => ({ series, metric: emittedStdbMetric(agentConfig, series.name, args.environment) })),
                    logGroupName,
                }),
            ),
        );
        return new aws.cloudwatch.Dashboard(`${name}-dashboard`, { dashboardName: `inner-universe-${args.stack}`, dashboardBody: body }, { parent: this });
    }
}

/** One per region, made on first use: a key or a topic exists only where something needs it. */
function perRegion<T>(make: (region: string) => T): (region: string) => T {
    const made = new Map<string, T>();
    return (region) => {
        if (!made.has(region)) made.set(region, make(region));
        return made.get(region)!;
    };
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
