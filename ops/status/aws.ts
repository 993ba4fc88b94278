import { CloudWatchClient, type DescribeAlarmsCommandOutput, GetMetricStatisticsCommand, paginateDescribeAlarms } from "@aws-sdk/client-cloudwatch";
import {
    DescribeInstanceStatusCommand,
    type DescribeInstanceStatusCommandOutput,
    EC2Client,
    type EC2ClientConfig,
    paginateDescribeSnapshots,
    type Snapshot,
} from "@aws-sdk/client-ec2";
import { DATA_FSTYPE } from "../../infra/aws/render/constants";
import { dataDiskMetric } from "../../infra/aws/render/cwAgentConfig";
import { type Forecast, forecast, type UsageSample } from "./growth";

/**
 * What AWS says about a prod stack, read through the AWS SDK for JavaScript v3: the instance's
 * status checks (EC2 DescribeInstanceStatus), the alarms that notify the stack's topic (CloudWatch
 * DescribeAlarms with ActionPrefix = the topic ARN, so only this stack's), and the newest snapshot
 * of the data volume (EC2 DescribeSnapshots). Credentials come from the SDK's default chain
 * (environment, shared config/profile, SSO, container or instance role); the endpoint from
 * `endpoint` or the SDK's own AWS_ENDPOINT_URL(_<SERVICE>) variables (a local stand-in in tests).
 * Mapping the SDK's answers to the facts status judges is pure and table-tested.
 */

export interface InstanceStatus {
    state: string;
    system: string;
    instance: string;
}

export interface AlarmState {
    name: string;
    state: string;
    reason: string;
}

export interface SnapshotFacts {
    id: string;
    startTime: string;
    state: string;
}

export interface AwsFacts {
    instance?: InstanceStatus;
    alarms?: AlarmState[];
    lastSnapshot?: SnapshotFacts | null;
    /** The data volume's fill rate over the last week of disk_used_percent (hourly maxima). */
    growth?: Forecast;
    errors: string[];
}

/** How far back status looks at the disk series for the fill rate. */
export const GROWTH_WINDOW_DAYS = 7;

/** disk_used_percent datapoints → usage samples on a 0–100 scale (so the capacity is 100). */
export function diskSamples(points: { Timestamp?: Date; Maximum?: number }[]): UsageSample[] {
    return points
        .filter((p) => p.Timestamp && typeof p.Maximum === "number")
        .map((p) => ({ at: p.Timestamp!.getTime(), usedBytes: p.Maximum! }))
        .sort((a, b) => a.at - b.at);
}

/** The one instance asked about, or undefined when EC2 does not know it. */
export function instanceStatusOf(out: Pick<DescribeInstanceStatusCommandOutput, "InstanceStatuses">): InstanceStatus | undefined {
    const s = out.InstanceStatuses?.[0];
    if (!s) return undefined;
    return { state: s.InstanceState?.Name ?? "", system: s.SystemStatus?.Status ?? "", instance: s.InstanceStatus?.Status ?? "" };
}

export function alarmsOf(out: Pick<DescribeAlarmsCommandOutput, "MetricAlarms">): AlarmState[] {
    return (out.MetricAlarms ?? []).map((a) => ({ name: a.AlarmName ?? "", state: a.StateValue ?? "", reason: a.StateReason ?? "" }));
}

/** The newest snapshot by start time, whatever the answer's order. */
export function newestSnapshotOf(snapshots: Snapshot[]): SnapshotFacts | undefined {
    const newest = [...snapshots].sort((a, b) => (b.StartTime?.getTime() ?? 0) - (a.StartTime?.getTime() ?? 0))[0];
    return newest && { id: newest.SnapshotId ?? "", startTime: newest.StartTime?.toISOString() ?? "", state: newest.State ?? "" };
}

/** One line for a failed call: the operation, the HTTP status and AWS's error code when it answered. */
export function awsErrorLine(operation: string, e: unknown): string {
    const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    const status = err?.$metadata?.httpStatusCode;
    const message = err?.message ?? String(e);
    return status ? `${operation} answered ${status} (${err.name}: ${message})` : `${operation} failed: ${message}`;
}

export interface AwsAccess {
    region: string;
    /** e.g. http://127.0.0.1:5000; unset: the SDK's (AWS_ENDPOINT_URL or the regional endpoint). */
    endpoint?: string;
    /** unset: the SDK's default credential chain */
    credentials?: EC2ClientConfig["credentials"];
}

/** Client settings shared by the operator commands: a 10 s request timeout, as a status check should not hang. */
export function clientConfig(a: AwsAccess) {
    return {
        region: a.region,
        ...(a.endpoint ? { endpoint: a.endpoint } : {}),
        ...(a.credentials ? { credentials: a.credentials } : {}),
        requestHandler: { connectionTimeout: 5_000, requestTimeout: 10_000 },
    };
}

const metricQuery = (m: { namespace: string; metricName: string; dimensions: Record<string, string> }) => ({
    Namespace: m.namespace,
    MetricName: m.metricName,
    Dimensions: Object.entries(m.dimensions).map(([Name, Value]) => ({ Name, Value })),
});

export async function awsFacts(o: AwsAccess & { instanceId?: string; dataVolumeId?: string; alarmTopicArn?: string; mount?: string; now?: Date }): Promise<AwsFacts> {
    const facts: AwsFacts = { errors: [] };
    const ec2 = new EC2Client(clientConfig(o));
    try {
        // Resolved once up front: without credentials the three calls would fail alike, and status
        // should say why once ("unhealthy: it cannot confirm anything on AWS") rather than crash.
        await ec2.config.credentials();
    } catch (e) {
        facts.errors.push(`no AWS credentials (the SDK's default chain: environment, profile, SSO, container or instance role): ${e instanceof Error ? e.message : String(e)}`);
        ec2.destroy();
        return facts;
    }
    const cw = new CloudWatchClient({ ...clientConfig(o), credentials: ec2.config.credentials });
    const why = (op: string) => (e: unknown) => void facts.errors.push(awsErrorLine(op, e));
    const all = async <T>(pages: AsyncIterable<T>) => {
        const out: T[] = [];
        for await (const p of pages) out.push(p);
        return out;
    };
    await Promise.all([
        o.instanceId
            ? ec2
                  .send(new DescribeInstanceStatusCommand({ InstanceIds: [o.instanceId], IncludeAllInstances: true }))
                  .then((out) => void (facts.instance = instanceStatusOf(out)), why("DescribeInstanceStatus"))
            : undefined,
        o.alarmTopicArn
            ? all(paginateDescribeAlarms({ client: cw }, { ActionPrefix: o.alarmTopicArn, AlarmTypes: ["MetricAlarm"], MaxRecords: 100 })).then(
                  (pages) => void (facts.alarms = pages.flatMap(alarmsOf)),
                  why("DescribeAlarms"),
              )
            : undefined,
        o.dataVolumeId
            ? all(paginateDescribeSnapshots({ client: ec2 }, { Filters: [{ Name: "volume-id", Values: [o.dataVolumeId] }], OwnerIds: ["self"] })).then(
                  (pages) => void (facts.lastSnapshot = newestSnapshotOf(pages.flatMap((p) => p.Snapshots ?? [])) ?? null),
                  why("DescribeSnapshots"),
              )
            : undefined,
        o.instanceId && o.mount
            ? cw
                  .send(
                      new GetMetricStatisticsCommand({
                          ...metricQuery(dataDiskMetric(o.mount, o.instanceId, DATA_FSTYPE)),
                          StartTime: new Date((o.now ?? new Date()).getTime() - GROWTH_WINDOW_DAYS * 86_400_000),
                          EndTime: o.now ?? new Date(),
                          Period: 3600,
                          Statistics: ["Maximum"],
                      }),
                  )
                  .then((out) => {
                      const f = forecast(diskSamples(out.Datapoints ?? []), 100);
                      if (f) facts.growth = f;
                  }, why("GetMetricStatistics disk_used_percent"))
            : undefined,
    ]);
    ec2.destroy();
    cw.destroy();
    return facts;
}
