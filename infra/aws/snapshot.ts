import type { CreateSnapshotCommandInput, DescribeSnapshotsCommandInput } from "@aws-sdk/client-ec2";
import { SNAPSHOT_TAG_KEY } from "./render/constants.ts";

/**
 * The on-demand EBS snapshot `npm run backup -- create --stack <aws stack>` takes of the data
 * volume: the same call DLM makes on its schedule (ec2:CreateSnapshot), tagged so that the restore
 * runbook's filter (`tag:inner-universe:snapshot=<stack>`) lists it next to DLM's, but marked
 * `inner-universe:source=on-demand` (DLM's carry `dlm`). DLM never deletes a snapshot it did not
 * create, so these are pruned by our own retention (DeleteSnapshot on the oldest beyond the count).
 * Restore stays `aws.data_volume.snapshot_id` (docs/restore.md). Pure functions (the SDK's input
 * types only): ops/backup/aws.ts sends them.
 */
export interface SnapshotRequestArgs {
    stack: string;
    region: string;
    volumeId: string;
    /** When the request is made (goes into the description and a tag). */
    now: Date;
    reason?: string;
    /** on-demand (pruned by `backup create --keep`) or pre-upgrade (the upgrade gate's: kept until deleted by hand). */
    source?: "on-demand" | "pre-upgrade";
}

export interface Ec2Tag {
    Key: string;
    Value: string;
}

/** The EC2 API request (the SDK's field names; what `--dry-run` prints). */
export interface CreateSnapshotRequest {
    Action: "CreateSnapshot";
    Version: "2016-11-15";
    Region: string;
    VolumeId: string;
    Description: string;
    TagSpecifications: [{ ResourceType: "snapshot"; Tags: Ec2Tag[] }];
}

const VOLUME_ID = /^vol-[0-9a-f]{8,17}$/;

export function snapshotTags(args: Pick<SnapshotRequestArgs, "stack" | "now" | "reason" | "source">): Ec2Tag[] {
    const source = args.source ?? "on-demand";
    return [
        { Key: SNAPSHOT_TAG_KEY, Value: args.stack },
        { Key: "inner-universe:stack", Value: args.stack },
        { Key: "inner-universe:source", Value: source },
        { Key: "inner-universe:requested-at", Value: args.now.toISOString() },
        ...(args.reason ? [{ Key: "inner-universe:reason", Value: args.reason.slice(0, 256) }] : []),
        { Key: "Name", Value: `inner-universe-${args.stack}-${source}` },
    ];
}

export function createSnapshotRequest(args: SnapshotRequestArgs): CreateSnapshotRequest {
    if (!VOLUME_ID.test(args.volumeId)) throw new Error(`backup output dataVolumeId: expected an EBS volume id (vol-…), got ${JSON.stringify(args.volumeId)}`);
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(args.region)) throw new Error(`backup output region: expected an AWS region (eu-west-1), got ${JSON.stringify(args.region)}`);
    return {
        Action: "CreateSnapshot",
        Version: "2016-11-15",
        Region: args.region,
        VolumeId: args.volumeId,
        Description: `inner-universe ${args.stack} ${args.source ?? "on-demand"} backup ${args.now.toISOString()}`,
        TagSpecifications: [{ ResourceType: "snapshot", Tags: snapshotTags(args) }],
    };
}

/** The SDK's CreateSnapshotCommand input: the volume, its description and the tags, set on create. */
export function createSnapshotInput(req: CreateSnapshotRequest): CreateSnapshotCommandInput {
    return { VolumeId: req.VolumeId, Description: req.Description, TagSpecifications: req.TagSpecifications };
}

/** The SDK's DescribeSnapshotsCommand input for this stack's snapshots (DLM's and on-demand), for `backup list`. */
export function listSnapshotsInput(stack: string): DescribeSnapshotsCommandInput {
    return { OwnerIds: ["self"], Filters: [{ Name: `tag:${SNAPSHOT_TAG_KEY}`, Values: [stack] }] };
}

/**
 * The IAM policy an operator (or the deploy role) needs for on-demand snapshots of this stack's
 * data volume and their retention — and nothing else: CreateSnapshot on that one volume, on new
 * snapshots only when they carry this stack's tag, CreateTags only as part of CreateSnapshot,
 * DeleteSnapshot only of on-demand snapshots of this stack. Describe* has no resource-level
 * permissions in EC2, hence "*".
 */
export function snapshotIamPolicy(args: { partition: string; region: string; accountId: string; volumeId: string; stack: string }) {
    const snapshots = `arn:${args.partition}:ec2:${args.region}::snapshot/*`;
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "SnapshotTheDataVolume",
                Effect: "Allow",
                Action: "ec2:CreateSnapshot",
                Resource: `arn:${args.partition}:ec2:${args.region}:${args.accountId}:volume/${args.volumeId}`,
            },
            {
                Sid: "CreateTaggedSnapshots",
                Effect: "Allow",
                Action: "ec2:CreateSnapshot",
                Resource: snapshots,
                // on-demand: `backup create`; pre-upgrade: the upgrade gate's during `pulumi up` (never pruned).
                Condition: { StringEquals: { [`aws:RequestTag/${SNAPSHOT_TAG_KEY}`]: args.stack, "aws:RequestTag/inner-universe:source": ["on-demand", "pre-upgrade"] } },
            },
            {
                Sid: "TagOnCreate",
                Effect: "Allow",
                Action: "ec2:CreateTags",
                Resource: snapshots,
                Condition: { StringEquals: { "ec2:CreateAction": "CreateSnapshot" } },
            },
            {
                Sid: "PruneOwnOnDemandSnapshots",
                Effect: "Allow",
                Action: "ec2:DeleteSnapshot",
                Resource: snapshots,
                Condition: { StringEquals: { [`aws:ResourceTag/${SNAPSHOT_TAG_KEY}`]: args.stack, "aws:ResourceTag/inner-universe:source": "on-demand" } },
            },
            { Sid: "ListSnapshots", Effect: "Allow", Action: ["ec2:DescribeSnapshots", "ec2:DescribeVolumes", "ec2:DescribeVolumesModifications"], Resource: "*" },
        ],
    };
}

/** Which on-demand snapshots a retention count removes (oldest first beyond `keep`); DLM's are never touched. */
export function snapshotsBeyondRetention(snapshots: { SnapshotId: string; StartTime: string; Tags?: Ec2Tag[] }[], keep: number): string[] {
    const onDemand = snapshots.filter((s) => s.Tags?.some((t) => t.Key === "inner-universe:source" && t.Value === "on-demand"));
    onDemand.sort((a, b) => a.StartTime.localeCompare(b.StartTime));
    return onDemand.slice(0, Math.max(0, onDemand.length - keep)).map((s) => s.SnapshotId);
}
