import { createHash } from "node:crypto";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DATA_FSTYPE } from "./render/constants";
import { emittedMetric, renderCwAgentConfig } from "./render/cwAgentConfig";

export interface MonitoringArgs {
    stack: string;
    region: string;
    partition: pulumi.Input<string>;
    instanceId: pulumi.Input<string>;
    mount: string;
    logRetentionDays: number;
    cwAgentParameterName: string;
    caddyAccessLog: boolean;
    alarms: { email?: string; https_endpoint?: string; cpu_percent: number; memory_percent: number; disk_percent: number };
    /** Public name checked from outside by Route 53 (https://DOMAIN/v1/ping). */
    domain?: string;
    /** alb mode: the target group whose healthy-host count is watched. */
    alb?: { loadBalancerArnSuffix: pulumi.Input<string>; targetGroupArnSuffix: pulumi.Input<string> };
}

/** Route 53 publishes health-check metrics only in us-east-1; alarms and their topic must live there too. */
export const HEALTH_CHECK_METRICS_REGION = "us-east-1";

/** A health signal (1 = healthy) below 1 for three minutes; no data counts as down. */
const DOWN_FOR_3_MINUTES = {
    statistic: "Minimum",
    period: 60,
    evaluationPeriods: 3,
    threshold: 1,
    comparisonOperator: "LessThanThreshold",
    treatMissingData: "breaching",
} as const;

/**
 * Alarms, the topic they notify, and the CloudWatch agent that feeds memory/disk metrics and
 * ships the server log. Every alarm notifies the topic; the status-check alarms also act.
 */
export class Monitoring extends pulumi.ComponentResource {
    readonly alarmTopicArn: pulumi.Output<string>;
    readonly logGroupName: pulumi.Output<string>;
    readonly healthCheckId?: pulumi.Output<string>;

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("inner-universe:aws:Monitoring", name, {}, opts);
        const topic = this.topic(`${name}-alarms`, args);
        this.alarmTopicArn = topic.arn;

        const logGroup = new aws.cloudwatch.LogGroup(
            `${name}-logs`,
            { name: `/inner-universe/${args.stack}/host`, retentionInDays: args.logRetentionDays },
            { parent: this },
        );
        this.logGroupName = logGroup.name;

        const agentConfig = renderCwAgentConfig({ mount: args.mount, logGroupName: `/inner-universe/${args.stack}/host`, caddyAccessLog: args.caddyAccessLog });
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

        const automate = (action: "recover" | "reboot") => pulumi.interpolate`arn:${args.partition}:automate:${args.region}:ec2:${action}`;
        const instanceDims = pulumi.output(args.instanceId).apply((InstanceId) => ({ InstanceId }));
        // Every alarm notifies (alarm and OK) a topic in its own region; some also act (recover, reboot).
        const alarm = (
            key: string,
            a: Omit<aws.cloudwatch.MetricAlarmArgs, "alarmActions" | "okActions">,
            extraActions: pulumi.Input<string>[] = [],
            notify: aws.sns.Topic = topic,
        ) =>
            new aws.cloudwatch.MetricAlarm(
                `${name}-${key}`,
                { ...a, alarmActions: [...extraActions, notify.arn], okActions: [notify.arn], actionsEnabled: true },
                { parent: this },
            );

        alarm(
            "system-status",
            {
                alarmDescription: "Host hardware/AWS side failed (StatusCheckFailed_System): EC2 recovers the instance onto healthy hardware, same id, IP and volumes",
                namespace: "AWS/EC2",
                metricName: "StatusCheckFailed_System",
                dimensions: instanceDims,
                statistic: "Maximum",
                period: 60,
                evaluationPeriods: 2,
                threshold: 1,
                comparisonOperator: "GreaterThanOrEqualToThreshold",
                treatMissingData: "missing",
            },
            [automate("recover")],
        );
        alarm(
            "instance-status",
            {
                alarmDescription: "Guest OS unreachable (StatusCheckFailed_Instance): EC2 reboots the instance; the server restarts from its volume",
                namespace: "AWS/EC2",
                metricName: "StatusCheckFailed_Instance",
                dimensions: instanceDims,
                statistic: "Maximum",
                period: 60,
                evaluationPeriods: 3,
                threshold: 1,
                comparisonOperator: "GreaterThanOrEqualToThreshold",
                treatMissingData: "missing",
            },
            [automate("reboot")],
        );
        alarm("cpu", {
            alarmDescription: `CPUUtilization above ${args.alarms.cpu_percent}% for 15 minutes: reducers or subscriptions are saturating the host`,
            namespace: "AWS/EC2",
            metricName: "CPUUtilization",
            dimensions: instanceDims,
            statistic: "Average",
            period: 300,
            evaluationPeriods: 3,
            threshold: args.alarms.cpu_percent,
            comparisonOperator: "GreaterThanThreshold",
            treatMissingData: "missing",
        });
        const agentMetric = (plugin: "mem" | "disk") =>
            pulumi.output(args.instanceId).apply((instanceId) => emittedMetric(agentConfig, plugin, { instanceId, path: args.mount, fstype: DATA_FSTYPE }));
        const mem = agentMetric("mem");
        alarm("memory", {
            alarmDescription: `mem_used_percent above ${args.alarms.memory_percent}%: SpacetimeDB keeps the database in memory; it grows with the data`,
            namespace: mem.namespace,
            metricName: mem.metricName,
            dimensions: mem.dimensions,
            statistic: "Average",
            period: 300,
            evaluationPeriods: 2,
            threshold: args.alarms.memory_percent,
            comparisonOperator: "GreaterThanThreshold",
            // No data means the agent is down: we are blind, which deserves a page.
            treatMissingData: "breaching",
        });
        const disk = agentMetric("disk");
        alarm("disk", {
            alarmDescription: `disk_used_percent of ${args.mount} above ${args.alarms.disk_percent}%: the commitlog and snapshots are never pruned; grow the volume`,
            namespace: disk.namespace,
            metricName: disk.metricName,
            dimensions: disk.dimensions,
            statistic: "Maximum",
            period: 300,
            evaluationPeriods: 1,
            threshold: args.alarms.disk_percent,
            comparisonOperator: "GreaterThanThreshold",
            treatMissingData: "breaching",
        });

        if (args.alb) {
            alarm("alb-healthy-hosts", {
                alarmDescription: "The load balancer has no healthy target: /v1/ping fails on the host",
                namespace: "AWS/ApplicationELB",
                metricName: "HealthyHostCount",
                dimensions: pulumi.all([args.alb.loadBalancerArnSuffix, args.alb.targetGroupArnSuffix]).apply(([LoadBalancer, TargetGroup]) => ({ LoadBalancer, TargetGroup })),
                ...DOWN_FOR_3_MINUTES,
            });
        }

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
            const healthTopic = args.region === HEALTH_CHECK_METRICS_REGION ? topic : this.topic(`${name}-alarms-${HEALTH_CHECK_METRICS_REGION}`, args, HEALTH_CHECK_METRICS_REGION);
            alarm(
                "external-health",
                {
                    region: HEALTH_CHECK_METRICS_REGION,
                    alarmDescription: `https://${args.domain}/v1/ping fails from Route 53 checkers: clients cannot reach the database (DNS, TLS, proxy or server)`,
                    namespace: "AWS/Route53",
                    metricName: "HealthCheckStatus",
                    dimensions: { HealthCheckId: check.id },
                    ...DOWN_FOR_3_MINUTES,
                },
                [],
                healthTopic,
            );
        }
        this.registerOutputs({ alarmTopicArn: this.alarmTopicArn, logGroupName: this.logGroupName });
    }

    private topic(key: string, args: MonitoringArgs, region?: string): aws.sns.Topic {
        const inRegion = region ? { region } : {};
        const topic = new aws.sns.Topic(key, { ...inRegion, displayName: `inner-universe ${args.stack} alarms` }, { parent: this });
        if (args.alarms.email) {
            new aws.sns.TopicSubscription(`${key}-email`, { ...inRegion, topic: topic.arn, protocol: "email", endpoint: args.alarms.email }, { parent: this });
        }
        if (args.alarms.https_endpoint) {
            new aws.sns.TopicSubscription(`${key}-https`, { ...inRegion, topic: topic.arn, protocol: "https", endpoint: args.alarms.https_endpoint }, { parent: this });
        }
        return topic;
    }
}
