import * as pulumi from "@pulumi/pulumi";
import type { PolicyStatement } from "./kms";
import * as aws from "./sdk";

/**
 * Key policy of a data key: the account administers it and IAM policies decide who uses it (the
 * deployer creating and attaching the volume, DLM's role copying its snapshots). EBS reaches the
 * key through grants the caller creates, so no service needs a statement of its own; no other
 * account can use it unless this policy is changed (which is also what sharing snapshots with a
 * backup account takes, impossible under the account's default EBS key).
 */
export function dataKeyPolicy(f: { partition: string; accountId: string }): { Version: "2012-10-17"; Statement: PolicyStatement[] } {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "AccountAdministersTheKey",
                Effect: "Allow",
                Principal: { AWS: `arn:${f.partition}:iam::${f.accountId}:root` },
                Action: ["kms:*"],
                Resource: "*",
            },
        ],
    };
}

export interface DataKeyArgs {
    stack: string;
    partition: pulumi.Input<string>;
    accountId: pulumi.Input<string>;
    region: string;
    /** Set when the key lives outside the provider's region (the backup copies' key). */
    otherRegion?: boolean;
    /** protect.data: Pulumi refuses to delete the key, like the volume it encrypts. */
    protect: boolean;
}

/**
 * A customer-managed key for the data volume and its snapshots (or for their copies in the backup
 * region), rotated yearly. The key outlives the stack on every stack: snapshots (DLM's, the final
 * one of an unprotected volume, the copies) outlive it, and without their key they cannot be
 * restored. A destroyed stack leaves its keys; schedule their deletion once its snapshots are gone.
 */
export class DataKey extends pulumi.ComponentResource {
    readonly arn: pulumi.Output<string>;

    constructor(name: string, args: DataKeyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("inner-universe:aws:DataKey", name, {}, opts);
        const inRegion = args.otherRegion ? { region: args.region } : {};
        const kept = { parent: this, protect: args.protect, retainOnDelete: true };
        const key = new aws.kms.Key(
            `${name}-key`,
            {
                ...inRegion,
                description: `inner-universe ${args.stack}: data volume, snapshots and their copies (${args.region})`,
                enableKeyRotation: true,
                deletionWindowInDays: 30,
                policy: pulumi.all([args.partition, args.accountId]).apply(([partition, accountId]) => JSON.stringify(dataKeyPolicy({ partition, accountId }))),
            },
            kept,
        );
        new aws.kms.Alias(`${name}-alias`, { ...inRegion, name: dataKeyAlias(args.stack, args.region), targetKeyId: key.keyId }, kept);
        this.arn = key.arn;
        this.registerOutputs({ arn: this.arn });
    }
}

/** How an operator finds the key (`aws kms describe-key --key-id alias/…`), e.g. to copy a snapshot back for a restore. */
export const dataKeyAlias = (stack: string, region: string) => `alias/inner-universe-${stack}-data-${region}`;
