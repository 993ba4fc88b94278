import {
    CreateSnapshotCommand,
    DeleteSnapshotCommand,
    type DescribeSnapshotsCommandOutput,
    EC2Client,
    paginateDescribeSnapshots,
    type Snapshot,
    waitUntilSnapshotCompleted,
} from "@aws-sdk/client-ec2";
import { createSnapshotInput, createSnapshotRequest, listSnapshotsInput, snapshotsBeyondRetention } from "../../infra/aws/snapshot";
import type { StackFacts } from "../stack";
import { awsErrorLine, clientConfig } from "../status/aws";

/**
 * AWS stacks, through the AWS SDK v3 (default credential chain; AWS_ENDPOINT_URL or `endpoint`
 * for a stand-in): `create` asks EC2 for an on-demand snapshot of the data volume (the request
 * built by infra/aws/snapshot.ts), waits until it is `completed`, then prunes this stack's
 * on-demand snapshots beyond the retention count; `list` describes the stack's snapshots. Restore
 * is `aws.data_volume.snapshot_id` + `pulumi up` (docs/restore.md), never done behind Pulumi's back.
 * IAM: infra/aws/snapshot.ts snapshotIamPolicy.
 */

/** The first snapshot of a volume copies every used block: give it an hour before calling it stuck. */
const DEFAULT_MAX_WAIT_SECONDS = 3600;

function volumeOf(facts: StackFacts): { volumeId: string; region: string } {
    const { dataVolumeId, region } = facts.target;
    if (!dataVolumeId || !region) throw new Error(`stack ${facts.target.stack}: the backup output has no dataVolumeId/region`);
    return { volumeId: dataVolumeId, region };
}

/** Every page of DescribeSnapshots of this stack's snapshots. */
async function stackSnapshots(ec2: EC2Client, stack: string): Promise<Snapshot[]> {
    const out: Snapshot[] = [];
    for await (const page of paginateDescribeSnapshots({ client: ec2 }, listSnapshotsInput(stack))) out.push(...(page.Snapshots ?? []));
    return out;
}

/** Runs one SDK call, naming it in the error (the SDK's own messages do not say which call failed). */
async function step<T>(operation: string, p: Promise<T>): Promise<T> {
    try {
        return await p;
    } catch (e) {
        throw new Error(awsErrorLine(operation, e));
    }
}

export async function createAws(
    facts: StackFacts,
    opts: { keep: number; dryRun: boolean; now: Date; log: (l: string) => void; maxWaitSeconds?: number; endpoint?: string },
): Promise<unknown> {
    const req = createSnapshotRequest({ stack: facts.target.stack, ...volumeOf(facts), now: opts.now });
    const input = createSnapshotInput(req);
    if (opts.dryRun) return { request: req, sdk: { client: "EC2Client", region: req.Region, command: "CreateSnapshotCommand", input } };
    const ec2 = new EC2Client(clientConfig({ region: req.Region, ...(opts.endpoint ? { endpoint: opts.endpoint } : {}) }));
    try {
        const created = await step("CreateSnapshot", ec2.send(new CreateSnapshotCommand(input)));
        const id = created.SnapshotId!;
        const maxWaitTime = opts.maxWaitSeconds ?? DEFAULT_MAX_WAIT_SECONDS;
        const started = Date.now();
        opts.log(`snapshot ${id} of ${req.VolumeId} started (${created.State}); waiting for completed, at most ${maxWaitTime} s`);
        const waited = await waitUntilSnapshotCompleted({ client: ec2, maxWaitTime }, { SnapshotIds: [id] }).catch((e: unknown) => {
            // The waiter's own error is a JSON dump; the snapshot itself goes on in EC2 either way.
            throw new Error(`snapshot ${id} not completed within ${maxWaitTime} s (${e instanceof Error ? e.name : "error"}); see \`backup list\`, it may still complete`);
        });
        const done = (waited.reason as DescribeSnapshotsCommandOutput | undefined)?.Snapshots?.[0];
        opts.log(`snapshot ${id} completed after ${Math.round((Date.now() - started) / 1000)} s`);

        // Retention only once the new snapshot is complete, so a failed one never costs an old one.
        const listed = await step("DescribeSnapshots", stackSnapshots(ec2, facts.target.stack));
        const comparable = listed.map((s) => ({
            SnapshotId: s.SnapshotId ?? "",
            StartTime: s.StartTime?.toISOString() ?? "",
            Tags: (s.Tags ?? []).map((t) => ({ Key: t.Key ?? "", Value: t.Value ?? "" })),
        }));
        const deleted: string[] = [];
        for (const old of snapshotsBeyondRetention(comparable, opts.keep)) {
            await step("DeleteSnapshot", ec2.send(new DeleteSnapshotCommand({ SnapshotId: old })));
            deleted.push(old);
            opts.log(`retention (keep ${opts.keep} on-demand): deleted ${old}`);
        }
        const { $metadata: _, ...snapshot } = created;
        return { ...snapshot, ...(done ? { State: done.State, Progress: done.Progress } : {}), deleted };
    } finally {
        ec2.destroy();
    }
}

export async function listAws(facts: StackFacts, opts: { endpoint?: string } = {}): Promise<{ Snapshots: Snapshot[] }> {
    const { region } = volumeOf(facts);
    const ec2 = new EC2Client(clientConfig({ region, ...(opts.endpoint ? { endpoint: opts.endpoint } : {}) }));
    try {
        return { Snapshots: await step("DescribeSnapshots", stackSnapshots(ec2, facts.target.stack)) };
    } finally {
        ec2.destroy();
    }
}
