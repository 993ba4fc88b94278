// Dynamic provider of `DataVolumeGate` (infra/aws/volumeGate.ts): the one-way changes of the prod
// data volume, through the AWS SDK v3 (the default credential chain; AWS_ENDPOINT_URL for a
// stand-in).
//
// - check, in preview, before anything is created or stopped: a spacetimedb.version older than the
//   one last deployed is refused (the volume's root would refuse it; the way back is the snapshot
//   taken before the upgrade), and so is a smaller aws.data_volume.size_gb (EBS volumes and XFS
//   cannot shrink). `plan` says what the `up` does to the volume.
// - update, on an upgrade: an EBS snapshot of the data volume (tagged pre-upgrade, so `backup
//   create --keep` never prunes it), waited until `completed`; the host, which depends on this
//   step, is replaced only then. Its user data does the host's half (bootstrap.sh start_server).
// - a larger size needs nothing here: the volume is modified in place by its own resource, and
//   the filesystem grows after it (growth-impl.ts, through SSM) or on the next boot.
// - create records the first state (nothing to protect yet); delete: nothing.
//
// Erasable TypeScript (loaded by the dynamic-provider process).

import { CreateSnapshotCommand, EC2Client, waitUntilSnapshotCompleted } from "@aws-sdk/client-ec2";
import { compareVersions } from "../backup/serverVersion.ts";
import { createSnapshotInput, createSnapshotRequest } from "./snapshot.ts";

export interface VolumeGateInputs {
    stack: string;
    region: string;
    volumeId: string;
    version: string;
    sizeGb: number;
    /** The data volume's mount point on the host (/stdb). */
    mountPoint: string;
    /** How long a snapshot or a growth may take before the `up` fails. */
    maxWaitSeconds: number;
    plan?: string;
}

export interface VolumeGateRecord {
    from: string;
    to: string;
    snapshotId: string;
    at: string;
}

export type VolumeGateOutputs = VolumeGateInputs & { lastUpgrade?: VolumeGateRecord };

export function planOf(olds: Pick<VolumeGateInputs, "version" | "sizeGb" | "mountPoint"> | undefined, news: Pick<VolumeGateInputs, "version" | "sizeGb" | "mountPoint">): string {
    const parts: string[] = [];
    if (olds && olds.version !== news.version) parts.push(`server ${olds.version} → ${news.version}: EBS snapshot first (waited to completed), one-way, rollback = restore`);
    else parts.push(`server ${news.version}`);
    if (olds && olds.sizeGb !== news.sizeGb) parts.push(`data volume ${olds.sizeGb} → ${news.sizeGb} GiB: in place (ModifyVolume), then xfs_growfs ${news.mountPoint}`);
    else parts.push(`data volume ${news.sizeGb} GiB`);
    return parts.join("; ");
}

export function refusals(olds: VolumeGateOutputs | undefined, news: VolumeGateInputs): { property: string; reason: string }[] {
    if (!olds) return [];
    const out: { property: string; reason: string }[] = [];
    if (compareVersions(olds.version, news.version) > 0) {
        const snap = olds.lastUpgrade ? ` (${olds.lastUpgrade.snapshotId}, taken before the upgrade ${olds.lastUpgrade.from} → ${olds.lastUpgrade.to})` : "";
        out.push({
            property: "version",
            reason: `refusing a downgrade: inner-universe:spacetimedb.version ${news.version} is older than ${olds.version}, which last ran the data volume's root; SpacetimeDB upgrades are one-way and ${news.version} cannot open it. Nothing was changed. To run ${news.version} again, restore the snapshot taken before the upgrade${snap}: set inner-universe:aws.data_volume.snapshot_id (docs/restore.md)`,
        });
    }
    if (news.sizeGb < olds.sizeGb) {
        out.push({
            property: "sizeGb",
            reason: `inner-universe:aws.data_volume.size_gb ${news.sizeGb} is smaller than the volume's ${olds.sizeGb} GiB: EBS volumes and XFS only grow. Keep ${olds.sizeGb} or more; to move to a smaller volume, export into a new stack (docs/restore.md)`,
        });
    }
    return out;
}

export async function check(olds: VolumeGateOutputs | undefined, news: VolumeGateInputs) {
    const failures = refusals(olds, news);
    if (failures.length > 0) return { inputs: news, failures };
    return { inputs: { ...news, plan: planOf(olds, news) } };
}

export async function diff(_id: string, olds: VolumeGateOutputs, news: VolumeGateInputs) {
    return { changes: olds.plan !== news.plan || olds.version !== news.version || olds.sizeGb !== news.sizeGb };
}

const steady = (i: VolumeGateInputs): string => planOf(i, i);

export async function create(inputs: VolumeGateInputs) {
    return { id: `volume-gate-${inputs.stack}`, outs: { ...inputs, plan: steady(inputs) } };
}

export async function update(_id: string, olds: VolumeGateOutputs, news: VolumeGateInputs) {
    const failures = refusals(olds, news);
    if (failures.length > 0) throw new Error(failures.map((f) => f.reason).join("\n"));
    const outs: VolumeGateOutputs = { ...news, plan: steady(news), ...(olds.lastUpgrade ? { lastUpgrade: olds.lastUpgrade } : {}) };
    if (compareVersions(olds.version, news.version) < 0) outs.lastUpgrade = await snapshotBeforeUpgrade(olds.version, news);
    return { outs };
}

export async function remove() {}

export async function call<T>(what: string, p: Promise<T>): Promise<T> {
    try {
        return await p;
    } catch (e) {
        const err = e as { name?: string; message?: string };
        throw new Error(`${what}: ${err.name ?? "Error"}: ${err.message ?? String(e)}`);
    }
}

async function snapshotBeforeUpgrade(from: string, i: VolumeGateInputs): Promise<VolumeGateRecord> {
    const now = new Date();
    const ec2 = new EC2Client({ region: i.region });
    const req = createSnapshotRequest({ stack: i.stack, region: i.region, volumeId: i.volumeId, now, source: "pre-upgrade", reason: `before the upgrade ${from} → ${i.version}` });
    const made = await call(`CreateSnapshot of ${i.volumeId} before the upgrade ${from} → ${i.version}`, ec2.send(new CreateSnapshotCommand(createSnapshotInput(req))));
    const snapshotId = made.SnapshotId!;
    await call(
        `waiting for ${snapshotId} to be completed (the host is not replaced before)`,
        waitUntilSnapshotCompleted({ client: ec2, maxWaitTime: i.maxWaitSeconds, minDelay: 2, maxDelay: 15 }, { SnapshotIds: [snapshotId] }),
    );
    return { from, to: i.version, snapshotId, at: now.toISOString() };
}
