import * as pulumi from "@pulumi/pulumi";
import { providerAt } from "../providers/load";
import type { ContainerUpgradeInputs } from "./containerUpgrade-impl";
import type { UpgradeRecord } from "./upgrade-impl";

const provider = providerAt("infra/spacetimedb/containerUpgrade-impl.ts");

export type ContainerUpgradeArgs = Omit<ContainerUpgradeInputs, "plan">;

/**
 * The docker runtime's upgrade gate, before the container is replaced with a new image: a
 * downgrade refused in preview, a backup of the volume, a trial of the new image on it, the way
 * back on failure (infra/spacetimedb/containerUpgrade-impl.ts). `last` records the last upgrade.
 */
export class ContainerUpgrade extends pulumi.dynamic.Resource {
    static readonly TYPE = "pulumi-nodejs:dynamic/spacetimedb:ContainerUpgrade";
    declare readonly plan: pulumi.Output<string>;
    declare readonly last: pulumi.Output<UpgradeRecord | undefined>;

    constructor(name: string, args: ContainerUpgradeArgs, opts?: pulumi.CustomResourceOptions) {
        super(provider, name, { ...args, plan: undefined, last: undefined }, opts, "spacetimedb", "ContainerUpgrade");
    }
}
