import { CreateVolumeCommand, DescribeImagesCommand, DescribeSnapshotsCommand, EC2Client, ModifyVolumeCommand, RunInstancesCommand } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { growCommand, growOnHost, mustGrow } from "../../../infra/aws/growth-impl";
import { check, planOf, refusals, update, type VolumeGateOutputs } from "../../../infra/aws/volumeGate-impl";
import { type AwsCaptured, one } from "../../support/awsMocks";
import { buildAwsServer, prodConfig } from "../../support/awsStack";
import { type Moto, startMoto } from "../../support/moto";

const base: VolumeGateOutputs = {
    stack: "prod",
    region: "eu-west-1",
    volumeId: "vol-0123456789abcdef0",
    version: "1.1.1",
    sizeGb: 100,
    mountPoint: "/stdb",
    maxWaitSeconds: 60,
};

describe("data volume gate: refused in preview (check), before anything changes", () => {
    it.each([
        ["a downgrade", { version: "1.1.1" }, { version: "1.2.0" }, "version", "refusing a downgrade: inner-universe:spacetimedb.version 1.1.1 is older than 1.2.0"],
        ["a shrink", { sizeGb: 50 }, { sizeGb: 100 }, "sizeGb", "inner-universe:aws.data_volume.size_gb 50 is smaller than the volume's 100 GiB: EBS volumes and XFS only grow"],
    ])("%s", async (_what, news, olds, property, reason) => {
        const r = await check({ ...base, ...olds }, { ...base, ...news });
        expect(r.failures).toEqual([{ property, reason: expect.stringContaining(reason) }]);
        // Even if an engine skipped check, update refuses too.
        await expect(update("id", { ...base, ...olds }, { ...base, ...news })).rejects.toThrow(reason.slice(0, 40));
    });

    it("names the pre-upgrade snapshot the downgrade would restore", () => {
        const olds = { ...base, version: "1.2.0", lastUpgrade: { from: "1.1.1", to: "1.2.0", snapshotId: "snap-0abc", at: "" } };
        expect(refusals(olds, base)[0]!.reason).toContain("(snap-0abc, taken before the upgrade 1.1.1 → 1.2.0): set inner-universe:aws.data_volume.snapshot_id");
    });

    it.each([
        [undefined, base, "server 1.1.1; data volume 100 GiB"],
        [base, { ...base, version: "1.2.0" }, "server 1.1.1 → 1.2.0: EBS snapshot first (waited to completed), one-way, rollback = restore; data volume 100 GiB"],
        [base, { ...base, sizeGb: 200 }, "server 1.1.1; data volume 100 → 200 GiB: in place (ModifyVolume), then xfs_growfs /stdb"],
    ])("plans %#", (olds, news, plan) => {
        expect(planOf(olds, news)).toBe(plan);
    });

    it("grows through SSM only when the size grew on the same host (a new host grows on boot)", () => {
        const g = { stack: "prod", region: "eu-west-1", volumeId: "vol-1", instanceId: "i-1", sizeGb: 100, mountPoint: "/stdb", maxWaitSeconds: 1 };
        expect(mustGrow(g, { ...g, sizeGb: 200 })).toBe(true);
        expect(mustGrow(g, { ...g, sizeGb: 200, instanceId: "i-2" })).toBe(false);
        expect(mustGrow(g, g)).toBe(false);
        expect(growCommand("/stdb")).toBe("xfs_growfs /stdb >/dev/null && df -B1 --output=size /stdb | tail -n1");
    });
});

describe("the prod program: the gate sits between the volume and the host", () => {
    let resources: AwsCaptured[];
    const byName = (name: string) => resources.find((r) => r.name === name)!;
    beforeAll(async () => {
        resources = (await buildAwsServer(prodConfig())).resources;
    });

    it("the instance waits for the gate; the growth step waits for the host", () => {
        const gate = byName("inner-universe-aws-data-gate");
        expect(gate.type).toBe("pulumi-nodejs:dynamic/inner-universe:DataVolumeGate");
        expect(gate.inputs).toMatchObject({ version: prodConfig().spacetimedb.version, sizeGb: prodConfig().aws.data_volume.size_gb, mountPoint: "/stdb" });
        expect(one(resources, "aws:ec2/instance:Instance").options.dependencies).toContain("inner-universe-aws-data-gate");
        const growth = byName("inner-universe-aws-data-growth");
        expect(growth.type).toBe("pulumi-nodejs:dynamic/inner-universe:FilesystemGrowth");
        expect(growth.options.dependencies).toContain("inner-universe-aws-host-instance");
    });

    it("a larger size_gb changes the volume's size and the gates, never the host's user data (no replacement)", async () => {
        const bigger = (await buildAwsServer(prodConfig({ aws: { data_volume: { ...prodConfig().aws.data_volume, size_gb: 400 } } }))).resources;
        const instanceOf = (rs: AwsCaptured[]) => one(rs, "aws:ec2/instance:Instance").inputs;
        expect(instanceOf(bigger).userData).toBe(instanceOf(resources).userData);
        expect(one(bigger, "aws:ebs/volume:Volume").inputs.size).toBe(400);
        const changed = bigger.filter((r) => JSON.stringify(r.inputs) !== JSON.stringify(resources.find((x) => x.name === r.name)?.inputs)).map((r) => r.name);
        expect(changed.sort()).toEqual(["inner-universe-aws-data-gate", "inner-universe-aws-data-growth", "inner-universe-aws-data-volume"]);
    });
});

describe("against moto's server mode (a stand-in for EC2 and SSM)", () => {
    let moto: Moto;
    let ec2: EC2Client;
    const ids = { volumeId: "", instanceId: "" };
    beforeAll(async () => {
        moto = await startMoto();
        ec2 = new EC2Client({ region: "eu-west-1", endpoint: moto.endpoint });
        const image = (await ec2.send(new DescribeImagesCommand({}))).Images?.[0]?.ImageId;
        ids.instanceId = (await ec2.send(new RunInstancesCommand({ ImageId: image, InstanceType: "t3.micro", MinCount: 1, MaxCount: 1 }))).Instances![0]!.InstanceId!;
        ids.volumeId = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: "eu-west-1a", Size: 100 }))).VolumeId!;
    }, 120_000);
    afterAll(async () => {
        ec2?.destroy();
        await moto?.stop();
    });

    it("an upgrade takes a pre-upgrade snapshot of the data volume, waited to completed, and records it", async () => {
        const olds = { ...base, volumeId: ids.volumeId };
        const r = await update("id", olds, { ...olds, version: "1.2.0" });
        expect(r.outs.lastUpgrade).toMatchObject({ from: "1.1.1", to: "1.2.0", snapshotId: expect.stringMatching(/^snap-/) });
        const snap = (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [r.outs.lastUpgrade!.snapshotId] }))).Snapshots![0]!;
        expect(snap).toMatchObject({ VolumeId: ids.volumeId, State: "completed" });
        expect(snap.Tags).toEqual(
            expect.arrayContaining([
                { Key: "inner-universe:source", Value: "pre-upgrade" },
                { Key: "inner-universe:reason", Value: "before the upgrade 1.1.1 → 1.2.0" },
            ]),
        );
        // The same version again: no new snapshot, the record kept.
        const again = await update("id", r.outs, { ...olds, version: "1.2.0" });
        expect(again.outs.lastUpgrade).toEqual(r.outs.lastUpgrade);
        expect((await ec2.send(new DescribeSnapshotsCommand({ Filters: [{ Name: "volume-id", Values: [ids.volumeId] }] }))).Snapshots).toHaveLength(1);
    });

    it("a larger volume: once EBS has the modification, SSM runs xfs_growfs on the host and the step waits for its answer", async () => {
        await ec2.send(new ModifyVolumeCommand({ VolumeId: ids.volumeId, Size: 200 }));
        const g = { stack: "prod", region: "eu-west-1", volumeId: ids.volumeId, instanceId: ids.instanceId, sizeGb: 200, mountPoint: "/stdb", maxWaitSeconds: 30 };
        // moto's SSM answers Success without running the command (no stdout): the size is then 0.
        await expect(growOnHost(g, 10)).resolves.toBe(0);
    });
});
