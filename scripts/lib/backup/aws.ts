import { spawnSync } from "node:child_process";
import { awsCliArgs, createSnapshotRequest, listSnapshotsArgs, snapshotsBeyondRetention } from "../../../infra/aws/snapshot";
import type { StackFacts } from "./stack";

/**
 * AWS stacks: `create` asks EC2 for an on-demand snapshot of the data volume through the AWS CLI
 * (the request built by infra/aws/snapshot.ts), `list` describes the stack's snapshots. Restore
 * is `aws.data_volume.snapshot_id` + `pulumi up` (docs/restore.md), never done behind Pulumi's back.
 */
function aws(args: string[]): unknown {
    const r = spawnSync("aws", args, { encoding: "utf8" });
    if (r.error) throw new Error(`aws CLI not runnable (${r.error.message}); install AWS CLI v2 and credentials with the policy of infra/aws/snapshot.ts snapshotIamPolicy`);
    if (r.status !== 0) throw new Error(`aws ${args.slice(0, 2).join(" ")} exited ${r.status}: ${r.stderr.trim()}`);
    return JSON.parse(r.stdout);
}

function volumeOf(facts: StackFacts): { volumeId: string; region: string } {
    const { dataVolumeId, region } = facts.target;
    if (!dataVolumeId || !region) throw new Error(`stack ${facts.target.stack}: the backup output has no dataVolumeId/region`);
    return { volumeId: dataVolumeId, region };
}

export function createAws(facts: StackFacts, opts: { keep: number; dryRun: boolean; now: Date; log: (l: string) => void }): unknown {
    const req = createSnapshotRequest({ stack: facts.target.stack, ...volumeOf(facts), now: opts.now });
    const argv = awsCliArgs(req);
    if (opts.dryRun) return { request: req, command: ["aws", ...argv] };
    const snapshot = aws(argv);
    const listed = aws(listSnapshotsArgs(facts.target.stack, req.Region)) as { Snapshots: { SnapshotId: string; StartTime: string; Tags?: { Key: string; Value: string }[] }[] };
    for (const id of snapshotsBeyondRetention(listed.Snapshots, opts.keep)) {
        aws(["ec2", "delete-snapshot", "--region", req.Region, "--snapshot-id", id]);
        opts.log(`retention (keep ${opts.keep} on-demand): deleted ${id}`);
    }
    return snapshot;
}

export function listAws(facts: StackFacts): unknown {
    return aws(listSnapshotsArgs(facts.target.stack, volumeOf(facts).region));
}
