import type { DescribeAlarmsCommandOutput } from "@aws-sdk/client-cloudwatch";
import type { DescribeInstanceStatusCommandOutput, Snapshot } from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import { type AwsFacts, alarmsOf, awsErrorLine, awsFacts, instanceStatusOf, newestSnapshotOf } from "../../../ops/status/aws";
import { evaluate } from "../../../ops/status/report";

/**
 * The pure half of ops/status/aws.ts: the SDK's answers (in the shapes of the EC2 and CloudWatch
 * API references, as the SDK v3 deserializes them) mapped to what status judges. The calls
 * themselves run against moto's server mode in test/ops/awsMoto.test.ts.
 */

const TOPIC = "arn:aws:sns:eu-west-1:123456789012:inner-universe-aws-mon-alarms-1a2b3c4";

const INSTANCE_STATUS: Pick<DescribeInstanceStatusCommandOutput, "InstanceStatuses"> = {
    InstanceStatuses: [
        {
            InstanceId: "i-0123456789abcdef0",
            AvailabilityZone: "eu-west-1a",
            InstanceState: { Code: 16, Name: "running" },
            SystemStatus: { Status: "impaired", Details: [{ Name: "reachability", Status: "failed" }] },
            InstanceStatus: { Status: "ok", Details: [{ Name: "reachability", Status: "passed" }] },
        },
    ],
};

const ALARMS: Pick<DescribeAlarmsCommandOutput, "MetricAlarms"> = {
    MetricAlarms: [
        {
            AlarmName: "inner-universe-aws-mon-disk-5f3e2a1",
            StateValue: "ALARM",
            StateReason: "Threshold Crossed: 1 datapoint [81.2 (03/12/26 05:55:00)] was greater than the threshold (80.0).",
            AlarmActions: [TOPIC],
            Dimensions: [{ Name: "InstanceId", Value: "i-0123456789abcdef0" }],
        },
        {
            AlarmName: "inner-universe-aws-mon-cpu-9c8b7a6",
            StateValue: "OK",
            StateReason: "Threshold Crossed: 3 datapoints were not greater than the threshold (80.0).",
            AlarmActions: [TOPIC],
        },
    ],
};

const snap = (id: string, start: string, state: Snapshot["State"]): Snapshot => ({
    SnapshotId: id,
    VolumeId: "vol-0123456789abcdef0",
    StartTime: new Date(start),
    State: state,
    Progress: state === "completed" ? "100%" : "80%",
});
const SNAPSHOTS = [snap("snap-1111111111111111a", "2026-12-02T03:00:12.000Z", "completed"), snap("snap-2222222222222222b", "2026-12-03T03:00:09.000Z", "pending")];

describe("SDK answers → status facts", () => {
    it.each([
        ["the host's state and both checks", INSTANCE_STATUS, { state: "running", system: "impaired", instance: "ok" }],
        [
            "a stopped host (IncludeAllInstances): checks not applicable",
            { InstanceStatuses: [{ InstanceState: { Name: "stopped" as const } }] },
            { state: "stopped", system: "", instance: "" },
        ],
        ["EC2 does not know the instance", { InstanceStatuses: [] }, undefined],
        ["no list at all", {}, undefined],
    ])("instance status: %s", (_, out, expected) => {
        expect(instanceStatusOf(out)).toEqual(expected);
    });

    it.each([
        [
            "name, state and reason of each",
            ALARMS,
            [
                {
                    name: "inner-universe-aws-mon-disk-5f3e2a1",
                    state: "ALARM",
                    reason: "Threshold Crossed: 1 datapoint [81.2 (03/12/26 05:55:00)] was greater than the threshold (80.0).",
                },
                { name: "inner-universe-aws-mon-cpu-9c8b7a6", state: "OK", reason: "Threshold Crossed: 3 datapoints were not greater than the threshold (80.0)." },
            ],
        ],
        [
            "an alarm without a reason yet",
            { MetricAlarms: [{ AlarmName: "a", StateValue: "INSUFFICIENT_DATA" as const }] },
            [{ name: "a", state: "INSUFFICIENT_DATA", reason: "" }],
        ],
        ["no alarms", {}, []],
    ])("alarms: %s", (_, out, expected) => {
        expect(alarmsOf(out)).toEqual(expected);
    });

    it.each([
        ["the newest by start time", SNAPSHOTS, { id: "snap-2222222222222222b", startTime: "2026-12-03T03:00:09.000Z", state: "pending" }],
        ["whatever the answer's order", [...SNAPSHOTS].reverse(), { id: "snap-2222222222222222b", startTime: "2026-12-03T03:00:09.000Z", state: "pending" }],
        ["none", [], undefined],
    ])("snapshots: %s", (_, snapshots, expected) => {
        expect(newestSnapshotOf(snapshots)).toEqual(expected);
    });

    it.each([
        [
            "an AWS error answer: its status and code",
            Object.assign(new Error("You are not authorized to perform this operation."), { name: "UnauthorizedOperation", $metadata: { httpStatusCode: 403 } }),
            "DescribeInstanceStatus answered 403 (UnauthorizedOperation: You are not authorized to perform this operation.)",
        ],
        ["no answer (network)", Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { $metadata: {} }), "DescribeInstanceStatus failed: connect ECONNREFUSED 127.0.0.1:1"],
        ["not an Error", "boom", "DescribeInstanceStatus failed: boom"],
    ])("errors: %s", (_, e, line) => {
        expect(awsErrorLine("DescribeInstanceStatus", e)).toBe(line);
    });
});

describe("prod status from AWS", () => {
    const ids = { region: "eu-west-1", instanceId: "i-0123456789abcdef0", dataVolumeId: "vol-0123456789abcdef0", alarmTopicArn: TOPIC };
    const facts = (snapshots: Snapshot[]): AwsFacts => ({
        instance: instanceStatusOf(INSTANCE_STATUS),
        alarms: alarmsOf(ALARMS),
        lastSnapshot: newestSnapshotOf(snapshots) ?? null,
        errors: [],
    });

    it("names the alarm in ALARM and the impaired status check; reports the last backup", () => {
        const r = evaluate({ stack: "prod", runtime: "aws", atlasOutput: undefined, aws: ids, awsState: facts(SNAPSHOTS), backupIntervalHours: 24 });
        expect(r.problems).toEqual(
            expect.arrayContaining([
                "instance: status checks system=impaired instance=ok",
                "alarm: inner-universe-aws-mon-disk-5f3e2a1 is in ALARM (Threshold Crossed: 1 datapoint [81.2 (03/12/26 05:55:00)] was greater than the threshold (80.0).)",
            ]),
        );
        expect(r.fields.lastBackup).toEqual({ id: "snap-2222222222222222b", startTime: "2026-12-03T03:00:09.000Z", state: "pending" });
        expect(r.fields.alarms).toEqual(["inner-universe-aws-mon-disk-5f3e2a1=ALARM", "inner-universe-aws-mon-cpu-9c8b7a6=OK"]);
    });

    it("an old newest snapshot is a problem (DLM stopped), judged by the configured interval", () => {
        const old = [snap("snap-1111111111111111a", "2026-10-31T03:00:12.000Z", "completed"), snap("snap-2222222222222222b", "2026-11-01T03:00:09.000Z", "completed")];
        const r = evaluate({ stack: "prod", runtime: "aws", atlasOutput: undefined, aws: ids, awsState: facts(old), backupIntervalHours: 24 });
        expect(r.problems.join("\n")).toMatch(/backup: the newest snapshot snap-2222222222222222b is \d+ h old; DLM should take one every 24 h/);
    });

    it("without credentials it says so, before any call (unhealthy: it cannot confirm anything on AWS)", async () => {
        // What the default chain throws when nothing provides credentials; here a provider that
        // fails the same way, so the test neither reads this machine's profiles nor asks IMDS.
        const none = () => Promise.reject(Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" }));
        const state = await awsFacts({ ...ids, endpoint: "http://127.0.0.1:1", credentials: none });
        expect(state).toEqual({ errors: [expect.stringMatching(/^no AWS credentials \(the SDK's default chain.*\): Could not load credentials from any providers$/)] });
        const r = evaluate({ stack: "prod", runtime: "aws", atlasOutput: undefined, aws: ids, awsState: state });
        expect(r.problems).toContain(state.errors.map((e) => `aws: ${e}`)[0]);
        expect(r.healthy).toBe(false);
    });
});
