import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from "@aws-sdk/client-cloudwatch";
import { CreateSnapshotCommand, CreateVolumeCommand, DescribeImagesCommand, DescribeSnapshotsCommand, EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SNAPSHOT_TAG_KEY } from "../../infra/aws/render/constants";
import { snapshotTags } from "../../infra/aws/snapshot";
import { createAws, listAws } from "../../ops/backup/aws";
import { freePort, listening } from "../../ops/ports";
import type { StackFacts } from "../../ops/stack";
import { awsFacts } from "../../ops/status/aws";
import { evaluate } from "../../ops/status/report";

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

function motoServer(): string {
    const manifest = process.env.IU_TOOLS_ENV ?? path.join(process.env.IU_CACHE ?? path.join(os.homedir(), ".cache", "inner-universe"), "tools.json");
    let pinned: string | undefined;
    try {
        pinned = (JSON.parse(fs.readFileSync(manifest, "utf8")) as { MOTO_SERVER?: string }).MOTO_SERVER;
    } catch {
        // no manifest: setup has not run (to its end) here
    }
    // The manifest's first: it is the version setup pins; PATH may hold another one.
    const found = [pinned, ...(process.env.PATH ?? "").split(":").map((d) => path.join(d, "moto_server"))].find((c) => c && fs.existsSync(c));
    if (!found)
        throw new Error(`moto_server not found (looked in the tool manifest ${manifest} and PATH); install it with \`bash toolchain/setup-tools.sh\` (a venv with moto[server])`);
    return found;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

let moto: ChildProcess;
let endpoint: string;
let ec2: EC2Client;
let cw: CloudWatchClient;
const savedEnv = { ...process.env };
const ids = { instanceId: "", dataVolumeId: "", dlmSnapshot: "" };

async function startMoto(): Promise<void> {
    const port = await freePort();
    endpoint = `http://127.0.0.1:${port}`;
    let output = "";
    moto = spawn(motoServer(), ["-H", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "pipe", "pipe"] });
    moto.stdout!.on("data", (d) => (output += d));
    moto.stderr!.on("data", (d) => (output += d));
    const exited = new Promise<never>((_, reject) => moto.once("exit", (code) => reject(new Error(`moto_server exited ${code} before listening:\n${output}`))));
    const up = (async () => {
        for (const deadline = Date.now() + 60_000; Date.now() < deadline; await pause(200)) if (await listening(port)) return;
        throw new Error(`moto_server not listening on ${port} after 60 s:\n${output}`);
    })();
    await Promise.race([up, exited]);
    exited.catch(() => {}); // its later exit (afterAll's kill) is no failure
}

beforeAll(async () => {
    // Fake static credentials, and nothing else for the default chain to find (no profile, no IMDS).
    for (const k of Object.keys(process.env)) if (k.startsWith("AWS_")) delete process.env[k];
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_EC2_METADATA_DISABLED: "true" });
    await startMoto();
    // ops/backup/aws.ts is given no endpoint: it must take the SDK's standard variable.
    process.env.AWS_ENDPOINT_URL = endpoint;
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
    if (moto && moto.exitCode === null && moto.signalCode === null) {
        const exited = new Promise((r) => moto.once("exit", r));
        moto.kill();
        await exited;
    }
    for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
    Object.assign(process.env, savedEnv);
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
