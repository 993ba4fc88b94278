import { describe, expect, it } from "vitest";
import { evaluate } from "../../scripts/lib/status";
import {
    alarmsRequest,
    awsError,
    awsFacts,
    call,
    instanceStatusRequest,
    parseAlarms,
    parseInstanceStatus,
    parseNewestSnapshot,
    type QueryRequest,
    signV4,
    snapshotsRequest,
} from "../../scripts/lib/status-aws";

const EXAMPLE = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
const TOPIC = "arn:aws:sns:eu-west-1:123456789012:inner-universe-aws-mon-alarms-1a2b3c4";

describe("SigV4 (AWS's published test-suite vectors)", () => {
    const vanilla = (url: string) =>
        signV4({
            method: "GET",
            url: new URL(url),
            headers: { Host: "example.amazonaws.com", "X-Amz-Date": "20150830T123600Z" },
            body: "",
            region: "us-east-1",
            service: "service",
            credentials: EXAMPLE,
            amzDate: "20150830T123600Z",
        });

    it("get-vanilla", () => {
        expect(vanilla("https://example.amazonaws.com/")).toBe(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        );
    });

    it("get-vanilla-query-order-key-case: the query is sorted before signing", () => {
        expect(vanilla("https://example.amazonaws.com/?Param2=value2&Param1=value1")).toMatch(/Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500$/);
    });
});

describe("the three query calls (request shapes of the EC2 2016-11-15 and CloudWatch 2010-08-01 query APIs)", () => {
    it("DescribeInstanceStatus of the host, stopped instances included", () => {
        expect(instanceStatusRequest("eu-west-1", "i-0123456789abcdef0")).toEqual({
            url: "https://ec2.eu-west-1.amazonaws.com/",
            service: "ec2",
            region: "eu-west-1",
            body: "Action=DescribeInstanceStatus&Version=2016-11-15&InstanceId.1=i-0123456789abcdef0&IncludeAllInstances=true",
        });
    });

    it("DescribeAlarms of the alarms whose actions name this stack's topic (no other stack's)", () => {
        const req = alarmsRequest("eu-west-1", TOPIC);
        expect(req.url).toBe("https://monitoring.eu-west-1.amazonaws.com/");
        expect(Object.fromEntries(new URLSearchParams(req.body))).toEqual({
            Action: "DescribeAlarms",
            Version: "2010-08-01",
            ActionPrefix: TOPIC,
            "AlarmTypes.member.1": "MetricAlarm",
            MaxRecords: "100",
        });
    });

    it("DescribeSnapshots of the data volume, own snapshots only", () => {
        expect(Object.fromEntries(new URLSearchParams(snapshotsRequest("eu-west-1", "vol-0123456789abcdef0").body))).toEqual({
            Action: "DescribeSnapshots",
            Version: "2016-11-15",
            "Filter.1.Name": "volume-id",
            "Filter.1.Value.1": "vol-0123456789abcdef0",
            "Owner.1": "self",
        });
    });

    it("signs each call for its service and region, the session token included and signed", async () => {
        const seen: { req: QueryRequest; headers: Record<string, string> }[] = [];
        const send = async (req: QueryRequest, headers: Record<string, string>) => (seen.push({ req, headers }), { status: 200, body: "<ok/>" });
        await call(alarmsRequest("eu-west-1", TOPIC), { ...EXAMPLE, sessionToken: "FQoGZXIvYXdzEXAMPLE" }, send, new Date("2026-12-03T06:00:00Z"));
        const h = seen[0]!.headers;
        expect(h["x-amz-date"]).toBe("20261203T060000Z");
        expect(h["x-amz-security-token"]).toBe("FQoGZXIvYXdzEXAMPLE");
        expect(h["content-type"]).toBe("application/x-www-form-urlencoded; charset=utf-8");
        expect(h.authorization).toMatch(
            /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20261203\/eu-west-1\/monitoring\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
        );
        // Deterministic for a fixed clock, and bound to the body: another topic, another signature.
        const again: string[] = [];
        const s2 = async (_r: QueryRequest, hh: Record<string, string>) => (again.push(hh.authorization!), { status: 200, body: "" });
        await call(alarmsRequest("eu-west-1", TOPIC), { ...EXAMPLE, sessionToken: "FQoGZXIvYXdzEXAMPLE" }, s2, new Date("2026-12-03T06:00:00Z"));
        await call(alarmsRequest("eu-west-1", `${TOPIC}x`), { ...EXAMPLE, sessionToken: "FQoGZXIvYXdzEXAMPLE" }, s2, new Date("2026-12-03T06:00:00Z"));
        expect(again[0]).toBe(h.authorization);
        expect(again[1]).not.toBe(h.authorization);
    });

    it("an AWS error answer names its code", async () => {
        const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation.</Message></Error></Errors><RequestID>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestID></Response>`;
        expect(awsError(body)).toBe("UnauthorizedOperation: You are not authorized to perform this operation.");
        await expect(call(instanceStatusRequest("eu-west-1", "i-1"), EXAMPLE, async () => ({ status: 403, body }))).rejects.toThrow(
            /DescribeInstanceStatus answered 403 \(UnauthorizedOperation/,
        );
    });
});

// Answers in the documented shapes of the EC2 and CloudWatch API references.
const INSTANCE_STATUS = `<DescribeInstanceStatusResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>3be1508e-c444-4fef-89cc-0b1223c4f02fEXAMPLE</requestId>
    <instanceStatusSet>
        <item>
            <instanceId>i-0123456789abcdef0</instanceId>
            <availabilityZone>eu-west-1a</availabilityZone>
            <instanceState><code>16</code><name>running</name></instanceState>
            <systemStatus><status>impaired</status><details><item><name>reachability</name><status>failed</status></item></details></systemStatus>
            <instanceStatus><status>ok</status><details><item><name>reachability</name><status>passed</status></item></details></instanceStatus>
        </item>
    </instanceStatusSet>
</DescribeInstanceStatusResponse>`;

const ALARMS = `<DescribeAlarmsResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/">
  <DescribeAlarmsResult>
    <MetricAlarms>
      <member>
        <AlarmName>inner-universe-aws-mon-disk-5f3e2a1</AlarmName>
        <StateValue>ALARM</StateValue>
        <StateReason>Threshold Crossed: 1 datapoint [81.2 (03/12/26 05:55:00)] was greater than the threshold (80.0).</StateReason>
        <StateReasonData>{"version":"1.0"}</StateReasonData>
        <Dimensions><member><Name>InstanceId</Name><Value>i-0123456789abcdef0</Value></member><member><Name>path</Name><Value>/stdb</Value></member></Dimensions>
      </member>
      <member>
        <AlarmName>inner-universe-aws-mon-cpu-9c8b7a6</AlarmName>
        <StateValue>OK</StateValue>
        <StateReason>Threshold Crossed: 3 datapoints were not greater than the threshold (80.0).</StateReason>
        <Dimensions><member><Name>InstanceId</Name><Value>i-0123456789abcdef0</Value></member></Dimensions>
      </member>
    </MetricAlarms>
    <CompositeAlarms/>
  </DescribeAlarmsResult>
  <ResponseMetadata><RequestId>f3c1-EXAMPLE</RequestId></ResponseMetadata>
</DescribeAlarmsResponse>`;

const SNAPSHOTS = `<DescribeSnapshotsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
   <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
   <snapshotSet>
      <item>
         <snapshotId>snap-1111111111111111a</snapshotId>
         <volumeId>vol-0123456789abcdef0</volumeId>
         <status>completed</status>
         <startTime>2026-12-02T03:00:12.000Z</startTime>
         <progress>100%</progress>
         <tagSet><item><key>inner-universe:source</key><value>dlm</value></item></tagSet>
      </item>
      <item>
         <snapshotId>snap-2222222222222222b</snapshotId>
         <volumeId>vol-0123456789abcdef0</volumeId>
         <status>pending</status>
         <startTime>2026-12-03T03:00:09.000Z</startTime>
         <progress>80%</progress>
      </item>
   </snapshotSet>
</DescribeSnapshotsResponse>`;

describe("answers", () => {
    it("instance status: state and both checks", () => {
        expect(parseInstanceStatus(INSTANCE_STATUS)).toEqual({ state: "running", system: "impaired", instance: "ok" });
        expect(parseInstanceStatus("<DescribeInstanceStatusResponse><instanceStatusSet/></DescribeInstanceStatusResponse>")).toBeUndefined();
    });

    it("alarms: name, state and reason of each (nested dimension members do not confuse it)", () => {
        expect(parseAlarms(ALARMS)).toEqual([
            {
                name: "inner-universe-aws-mon-disk-5f3e2a1",
                state: "ALARM",
                reason: "Threshold Crossed: 1 datapoint [81.2 (03/12/26 05:55:00)] was greater than the threshold (80.0).",
            },
            { name: "inner-universe-aws-mon-cpu-9c8b7a6", state: "OK", reason: "Threshold Crossed: 3 datapoints were not greater than the threshold (80.0)." },
        ]);
    });

    it("snapshots: the newest by start time, whatever the answer's order", () => {
        expect(parseNewestSnapshot(SNAPSHOTS)).toEqual({ id: "snap-2222222222222222b", startTime: "2026-12-03T03:00:09.000Z", state: "pending" });
        expect(parseNewestSnapshot("<DescribeSnapshotsResponse><snapshotSet/></DescribeSnapshotsResponse>")).toBeUndefined();
    });
});

describe("prod status from AWS", () => {
    const answers: Record<string, string> = { DescribeInstanceStatus: INSTANCE_STATUS, DescribeAlarms: ALARMS, DescribeSnapshots: SNAPSHOTS };
    const send = async (req: QueryRequest) => ({ status: 200, body: answers[new URLSearchParams(req.body).get("Action")!]! });
    const ids = { region: "eu-west-1", instanceId: "i-0123456789abcdef0", dataVolumeId: "vol-0123456789abcdef0", alarmTopicArn: TOPIC };

    it("names the alarm in ALARM and the impaired status check; reports the last backup", async () => {
        const state = await awsFacts(ids, EXAMPLE, send);
        expect(state.errors).toEqual([]);
        const r = evaluate({ stack: "prod", runtime: "aws", atlasOutput: undefined, aws: ids, awsState: state, backupIntervalHours: 24 });
        expect(r.problems).toEqual(
            expect.arrayContaining([
                "instance: status checks system=impaired instance=ok",
                "alarm: inner-universe-aws-mon-disk-5f3e2a1 is in ALARM (Threshold Crossed: 1 datapoint [81.2 (03/12/26 05:55:00)] was greater than the threshold (80.0).)",
            ]),
        );
        expect(r.fields.lastBackup).toEqual({ id: "snap-2222222222222222b", startTime: "2026-12-03T03:00:09.000Z", state: "pending" });
        expect(r.fields.alarms).toEqual(["inner-universe-aws-mon-disk-5f3e2a1=ALARM", "inner-universe-aws-mon-cpu-9c8b7a6=OK"]);
    });

    it("an old newest snapshot is a problem (DLM stopped), judged by the configured interval", async () => {
        const old = SNAPSHOTS.replace("2026-12-03T03:00:09.000Z", "2026-11-01T03:00:09.000Z").replace("2026-12-02T03:00:12.000Z", "2026-10-31T03:00:12.000Z");
        const state = await awsFacts(ids, EXAMPLE, async (req) => ({
            status: 200,
            body: new URLSearchParams(req.body).get("Action") === "DescribeSnapshots" ? old : answers[new URLSearchParams(req.body).get("Action")!]!,
        }));
        const r = evaluate({ stack: "prod", runtime: "aws", atlasOutput: undefined, aws: ids, awsState: state, backupIntervalHours: 24 });
        expect(r.problems.join("\n")).toMatch(/backup: the newest snapshot snap-2222222222222222b is \d+ h old; DLM should take one every 24 h/);
    });

    it("without credentials it says so (unhealthy: it cannot confirm anything on AWS)", async () => {
        const state = await awsFacts(ids, undefined, send);
        const r = evaluate({ stack: "prod", runtime: "aws", atlasOutput: undefined, aws: ids, awsState: state });
        expect(r.problems).toContain("aws: no AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, optional AWS_SESSION_TOKEN)");
    });
});
