import * as pulumi from "@pulumi/pulumi";
import { providerAt } from "../providers/load";
import type { VolumeGateRecord } from "./volumeGate-impl";

const gateProvider = providerAt("infra/aws/volumeGate-impl.ts");
const growthProvider = providerAt("infra/aws/growth-impl.ts");

export interface DataVolumeGateArgs {
    stack: string;
    region: string;
    volumeId: pulumi.Input<string>;
    version: string;
    sizeGb: number;
    mountPoint: string;
    maxWaitSeconds: number;
}

/**
 * The prod data volume's one-way changes, checked in preview: a downgrade and a shrink refused;
 * an upgrade snapshotted (waited to completed) before the host that runs the new version replaces
 * the old one (infra/aws/volumeGate-impl.ts). `lastUpgrade` names the snapshot.
 */
export class DataVolumeGate extends pulumi.dynamic.Resource {
    static readonly TYPE = "pulumi-nodejs:dynamic/inner-universe:DataVolumeGate";
    declare readonly plan: pulumi.Output<string>;
    declare readonly lastUpgrade: pulumi.Output<VolumeGateRecord | undefined>;

    constructor(name: string, args: DataVolumeGateArgs, opts?: pulumi.CustomResourceOptions) {
        super(gateProvider, name, { ...args, plan: undefined, lastUpgrade: undefined }, opts, "inner-universe", "DataVolumeGate");
    }
}

export interface FilesystemGrowthArgs {
    stack: string;
    region: string;
    volumeId: pulumi.Input<string>;
    instanceId: pulumi.Input<string>;
    sizeGb: number;
    mountPoint: string;
    maxWaitSeconds: number;
}

/** After the volume grew in place: xfs_growfs on the running host through SSM (infra/aws/growth-impl.ts). */
export class FilesystemGrowth extends pulumi.dynamic.Resource {
    static readonly TYPE = "pulumi-nodejs:dynamic/inner-universe:FilesystemGrowth";
    declare readonly grownToBytes: pulumi.Output<number | undefined>;

    constructor(name: string, args: FilesystemGrowthArgs, opts?: pulumi.CustomResourceOptions) {
        super(growthProvider, name, { ...args, grownToBytes: undefined }, opts, "inner-universe", "FilesystemGrowth");
    }
}
