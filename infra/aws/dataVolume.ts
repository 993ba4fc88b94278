import * as pulumi from "@pulumi/pulumi";
import { SNAPSHOT_TAG_KEY } from "./render/constants";
import * as aws from "./sdk";

export interface DataVolumeArgs {
    stack: string;
    availabilityZone: string;
    sizeGb: number;
    iops: number;
    throughput: number;
    kmsKeyId?: pulumi.Input<string>;
    /** Restore path: the volume is created from this snapshot (changing it replaces the volume). */
    snapshotId?: string;
    /** protect.data: Pulumi refuses to delete or replace the volume, and a destroy leaves it in AWS. */
    protect: boolean;
}

/**
 * The volume holding the whole server root: commitlog, snapshots, control database, JWT signing
 * keys and Caddy's certificates. It outlives every host; DLM snapshots it by its tag.
 */
export class DataVolume extends pulumi.ComponentResource {
    readonly volumeId: pulumi.Output<string>;
    readonly volumeArn: pulumi.Output<string>;

    constructor(name: string, args: DataVolumeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("inner-universe:aws:DataVolume", name, {}, opts);
        const volume = new aws.ebs.Volume(
            `${name}-volume`,
            {
                availabilityZone: args.availabilityZone,
                size: args.sizeGb,
                type: "gp3",
                iops: args.iops,
                throughput: args.throughput,
                encrypted: true,
                ...(args.kmsKeyId ? { kmsKeyId: args.kmsKeyId } : {}),
                ...(args.snapshotId ? { snapshotId: args.snapshotId } : {}),
                // Unprotected stacks (staging, drills) still get a last snapshot when Pulumi deletes the volume.
                finalSnapshot: true,
                tags: { Name: `${name}`, [SNAPSHOT_TAG_KEY]: args.stack, "inner-universe:role": "spacetimedb-root" },
            },
            { parent: this, protect: args.protect, retainOnDelete: args.protect },
        );
        this.volumeId = volume.id;
        this.volumeArn = volume.arn;
        this.registerOutputs({ volumeId: this.volumeId });
    }
}
