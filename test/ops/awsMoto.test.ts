import * as os from "node:os";
import { CloudWatchClient, PutMetricAlarmCommand, PutMetricDataCommand, SetAlarmStateCommand } from "@aws-sdk/client-cloudwatch";
import { CreateSnapshotCommand, CreateVolumeCommand, DescribeImagesCommand, DescribeSnapshotsCommand, EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATA_FSTYPE, SNAPSHOT_TAG_KEY } from "../../infra/aws/render/constants";
import { dataDiskMetric } from "../../infra/aws/render/cwAgentConfig";
import { snapshotTags } from "../../infra/aws/snapshot";
import { createAws, listAws } from "../../ops/backup/aws";
import type { StackFacts } from "../../ops/stack";
import { awsFacts } from "../../ops/status/aws";
import { evaluate } from "../../ops/status/report";
import { type Moto, pause, startMoto } from "../support/moto";

/**
 * The operator commands' AWS calls (ops/status/aws.ts, ops/backup/aws.ts) sent through the AWS
 * SDK v3 to moto's server mode, a stand-in for the AWS API (EC2, EBS snapshots, CloudWatch) on a
 * loopback port: no request leaves this machine, and moto is not AWS (IAM is not enforced, a
 * snapshot completes at once), so this checks our requests, filters and answer handling, not
 * AWS's semantics. The fixtures (an instance, the data volume, alarms of two topics) are made with
 * the SDK too. moto_server comes from `bash toolchain/setup-tools.sh` (the tool manifest's
 * MOTO_SERVER, or PATH); without it this test fails, it does not skip.
 */

const REGION = "eu-west-1";
const STACK = "moto";
const TOPIC = "arn:aws:sns:eu-west-1:123456789012:inner-universe-moto-mon-alarms-1a2b3c4";
const OTHER_TOPIC = "arn:aws:sns:eu-west-1:123456789012:inner-universe-staging-mon-alarms-9z8y7x6";

let moto: Moto;
let endpoint: string;
let ec2: EC2Client;
let cw: CloudWatchClient;
const ids = { instanceId: "", dataVolumeId: "", dlmSnapshot: "" };

beforeAll(async () => {
    // ops/backup/aws.ts is given no endpoint: it must take the SDK's standard variable (set by startMoto).
    moto = await startMoto();
    endpoint = moto.endpoint;
    ec2 = new EC2Client({ region: REGION, endpoint });
    cw = new CloudWatchClient({ region: REGION, endpoint });

    const image = (await ec2.send(new DescribeImagesCommand({}))).Images?.[0]?.ImageId;
    const run = await ec2.send(new RunInstancesCommand({ ImageId: image, InstanceType: "t3.micro", MinCount: 1, MaxCount: 1 }));
    ids.instanceId = run.Instances![0]!.InstanceId!;
    ids.dataVolumeId = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: `${REGION}a`, Size: 8 }))).VolumeId!;
    const otherVolume = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: `${REGION}a`, Size: 8 }))).VolumeId!;

    // DLM's scheduled snapshot of the data volume: a retention run never deletes it.
    const dlmTags = [
        { Key: SNAPSHOT_TAG_KEY, Value: STACK },
        { Key: "inner-universe:source", Value: "dlm" },
    ];
    ids.dlmSnapshot = (await ec2.send(new CreateSnapshotCommand({ VolumeId: ids.dataVolumeId, TagSpecifications: [{ ResourceType: "snapshot", Tags: dlmTags }] }))).SnapshotId!;
    // Newer, but of another volume: not the data volume's last backup. (moto's StartTime may have
    // whole seconds: a pause keeps "newer" true.)
    await pause(1100);
    await ec2.send(new CreateSnapshotCommand({ VolumeId: otherVolume }));

    const alarm = (name: string, topic: string) =>
        cw.send(
            new PutMetricAlarmCommand({
                AlarmName: name,
                AlarmActions: [topic],
                Namespace: "CWAgent",
                MetricName: "disk_used_percent",
                Dimensions: [{ Name: "InstanceId", Value: ids.instanceId }],
                Statistic: "Maximum",
                Period: 300,
                EvaluationPeriods: 1,
                Threshold: 80,
                ComparisonOperator: "GreaterThanThreshold",
            }),
        );
    await alarm("inner-universe-moto-mon-disk", TOPIC);
    await alarm("inner-universe-moto-mon-cpu", TOPIC);
    await alarm("inner-universe-staging-mon-disk", OTHER_TOPIC);
    await cw.send(new SetAlarmStateCommand({ AlarmName: "inner-universe-moto-mon-disk", StateValue: "ALARM", StateReason: "Threshold Crossed: 81.2 > 80" }));
    await cw.send(new SetAlarmStateCommand({ AlarmName: "inner-universe-staging-mon-disk", StateValue: "ALARM", StateReason: "another stack's" }));
});

afterAll(async () => {
    ec2?.destroy();
    cw?.destroy();
    await moto?.stop();
});

const facts = (dataVolumeId: string): StackFacts => ({
    target: { runtime: "aws", stack: STACK, database: "inner-universe", adminUrl: "https://moto.invalid", backupDir: ".iu/backups/moto", dataVolumeId, region: REGION },
    token: "",
    projectDir: os.tmpdir(),
});

describe("status through the SDK, against moto", () => {
    it("reads the instance's state and checks, only this topic's alarms, and the data volume's newest snapshot", async () => {
        const state = await awsFacts({ region: REGION, endpoint, ...ids, alarmTopicArn: TOPIC });
        expect(state.errors).toEqual([]);
        expect(state.instance).toEqual({ state: "running", system: "ok", instance: "ok" });
        expect(state.alarms?.map((a) => a.name).sort()).toEqual(["inner-universe-moto-mon-cpu", "inner-universe-moto-mon-disk"]);
        expect(state.alarms?.find((a) => a.name === "inner-universe-moto-mon-disk")).toMatchObject({ state: "ALARM", reason: "Threshold Crossed: 81.2 > 80" });
        expect(state.lastSnapshot).toMatchObject({ id: ids.dlmSnapshot, state: "completed" });

        const r = evaluate({ stack: STACK, runtime: "aws", atlasOutput: undefined, aws: { ...ids, alarmTopicArn: TOPIC }, awsState: state, backupIntervalHours: 24 });
        expect(r.problems).toContain("alarm: inner-universe-moto-mon-disk is in ALARM (Threshold Crossed: 81.2 > 80)");
        expect(r.problems.join("\n")).not.toMatch(/staging|instance:|backup:/);
    });

    it("forecasts when the data volume is full from a week of disk_used_percent (the series the agent emits)", async () => {
        const m = dataDiskMetric("/stdb", ids.instanceId, DATA_FSTYPE);
        const now = new Date();
        // 2 percentage points a day for 3 days, sampled every 6 h: 40% a minute ago, full in 30 days.
        const points = Array.from({ length: 13 }, (_, i) => ({ at: new Date(now.getTime() - 60_000 - (12 - i) * 6 * 3_600_000), value: 34 + i * 0.5 }));
        await cw.send(
            new PutMetricDataCommand({
                Namespace: m.namespace,
                MetricData: points.map((p) => ({
                    MetricName: m.metricName,
                    Dimensions: Object.entries(m.dimensions).map(([Name, Value]) => ({ Name, Value })),
                    Timestamp: p.at,
                    Value: p.value,
                })),
            }),
        );
        const state = await awsFacts({ region: REGION, instanceId: ids.instanceId, mount: "/stdb", now });
        expect(state.errors).toEqual([]);
        expect(state.growth).toMatchObject({ samples: 13, bytesPerDay: 2 });
        expect(state.growth!.daysUntilFull).toBeCloseTo(30, 0);
        const r = evaluate({ stack: STACK, runtime: "aws", atlasOutput: undefined, aws: { instanceId: ids.instanceId }, awsState: state });
        expect(r.fields.growth).toMatchObject({ daysUntilFull: state.growth!.daysUntilFull, percentPerDay: 2 });
        // The same rate with a fuller volume: a problem.
        const short = evaluate({
            stack: STACK,
            runtime: "aws",
            atlasOutput: undefined,
            aws: { instanceId: ids.instanceId },
            awsState: { ...state, growth: { ...state.growth!, daysUntilFull: 5 } },
        });
        expect(short.problems).toContain("disk: the data volume is full in 5 days at 2 percentage points/day: raise aws.data_volume.size_gb");
    });

    it("an unknown instance is not found, a call AWS refuses is named with its code", async () => {
        const state = await awsFacts({ region: REGION, endpoint, instanceId: "i-0000000000000000f", dataVolumeId: ids.dataVolumeId });
        expect(state.instance).toBeUndefined();
        expect(state.errors.join("\n")).toMatch(/^DescribeInstanceStatus answered 400 \(InvalidInstanceID\.NotFound: /);
        expect(state.lastSnapshot).toMatchObject({ id: ids.dlmSnapshot });
    });
});

describe("backup create/list through the SDK, against moto (endpoint from AWS_ENDPOINT_URL)", () => {
    const log: string[] = [];
    const create = (keep: number, dryRun = false) => createAws(facts(ids.dataVolumeId), { keep, dryRun, now: new Date(), log: (l) => log.push(l), maxWaitSeconds: 60 });
    const described = async (id: string) => (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }))).Snapshots![0]!;
    const onDemand: string[] = [];

    it("--dry-run returns the request and sends nothing", async () => {
        const before = (await listAws(facts(ids.dataVolumeId))).Snapshots.length;
        const out = (await create(2, true)) as { request: { VolumeId: string }; sdk: { command: string } };
        expect(out.request.VolumeId).toBe(ids.dataVolumeId);
        expect(out.sdk.command).toBe("CreateSnapshotCommand");
        expect((await listAws(facts(ids.dataVolumeId))).Snapshots.length).toBe(before);
    });

    it("creates a snapshot of the data volume tagged as snapshotTags says, and waits for it to complete", async () => {
        const now = new Date();
        const out = (await createAws(facts(ids.dataVolumeId), { keep: 2, dryRun: false, now, log: (l) => log.push(l), maxWaitSeconds: 60 })) as {
            SnapshotId: string;
            State: string;
            deleted: string[];
        };
        onDemand.push(out.SnapshotId);
        expect(out).toMatchObject({ State: "completed", deleted: [] });
        const s = await described(out.SnapshotId);
        expect(s).toMatchObject({ VolumeId: ids.dataVolumeId, State: "completed", Description: `inner-universe ${STACK} on-demand backup ${now.toISOString()}` });
        const byKey = (t: { Key?: string }[]) => [...t].sort((a, b) => (a.Key ?? "").localeCompare(b.Key ?? ""));
        expect(byKey(s.Tags ?? [])).toEqual(byKey(snapshotTags({ stack: STACK, now })));
        expect(log).toEqual([
            expect.stringMatching(new RegExp(`^snapshot ${out.SnapshotId} of ${ids.dataVolumeId} started \\(\\w+\\); waiting for completed, at most 60 s$`)),
            expect.stringMatching(new RegExp(`^snapshot ${out.SnapshotId} completed after \\d+ s$`)),
        ]);
    });

    it("retention deletes the oldest on-demand snapshots beyond keep, never DLM's; list shows the stack's", async () => {
        for (let i = 0; i < 2; i++) {
            // Retention orders by StartTime: keep them apart even if moto's clock ticks coarsely.
            await pause(1100);
            const out = (await create(2)) as { SnapshotId: string; deleted: string[] };
            onDemand.push(out.SnapshotId);
            expect(out.deleted).toEqual(i === 0 ? [] : [onDemand[0]]);
        }
        expect(log).toContain(`retention (keep 2 on-demand): deleted ${onDemand[0]}`);
        const listed = (await listAws(facts(ids.dataVolumeId))).Snapshots.map((s) => s.SnapshotId).sort();
        expect(listed).toEqual([ids.dlmSnapshot, onDemand[1], onDemand[2]].sort());

        const state = await awsFacts({ region: REGION, dataVolumeId: ids.dataVolumeId });
        expect(state.lastSnapshot).toMatchObject({ id: onDemand[2], state: "completed" });
    });

    it("a volume EC2 does not know: the CreateSnapshot error names the call and AWS's code", async () => {
        await expect(createAws(facts("vol-0000000000000000f"), { keep: 2, dryRun: false, now: new Date(), log: () => {} })).rejects.toThrow(
            /^CreateSnapshot answered 400 \(InvalidVolume\.NotFound: /,
        );
    });
});
