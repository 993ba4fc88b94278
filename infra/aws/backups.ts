import * as pulumi from "@pulumi/pulumi";
import { managedPolicyArn, policyDocument, serviceTrustPolicy } from "./iam";
import { SNAPSHOT_TAG_KEY } from "./render/constants";
import * as aws from "./sdk";

export interface BackupsArgs {
    stack: string;
    partition: pulumi.Input<string>;
    schedule: { times: string; interval_hours: number };
    retainCount: number;
    crossRegionCopy?: { region: string; retain_days: number };
    /** The data volume's customer-managed key, if any (none: the account's default EBS key). */
    kmsKeyArn?: pulumi.Input<string>;
    /** The customer-managed key in the copy region that re-encrypts the copies (none: that region's default EBS key). */
    copyKmsKeyArn?: pulumi.Input<string>;
}

/**
 * EBS snapshots of the data volume by Data Lifecycle Manager. A block-level snapshot of the single
 * volume is crash-consistent, which SpacetimeDB's checksummed commitlog is designed to recover
 * from. Restore: docs/restore.md.
 */
export class Backups extends pulumi.ComponentResource {
    readonly policyArn: pulumi.Output<string>;
    readonly roleArn: pulumi.Output<string>;

    constructor(name: string, args: BackupsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("inner-universe:aws:Backups", name, {}, opts);
        const role = this.createRole(name, args);
        const policy = new aws.dlm.LifecyclePolicy(
            `${name}-snapshots`,
            {
                description: `inner-universe ${args.stack} data volume snapshots`,
                executionRoleArn: role.arn,
                state: "ENABLED",
                policyDetails: snapshotPolicyDetails(args),
                tags: { Name: `inner-universe-${args.stack}-snapshots` },
            },
            { parent: this },
        );
        this.policyArn = policy.arn;
        this.roleArn = role.arn;
        this.registerOutputs({ policyArn: this.policyArn });
    }

    /** The role DLM runs as: the service's managed policy, plus KMS rights when copies must re-encrypt. */
    private createRole(name: string, args: BackupsArgs): aws.iam.Role {
        // Confused-deputy guard: DLM may assume the role only on behalf of this account.
        const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
        const role = new aws.iam.Role(
            `${name}-dlm-role`,
            {
                description: "Data Lifecycle Manager: snapshots of the SpacetimeDB data volume",
                assumeRolePolicy: accountId.apply((account) => serviceTrustPolicy("dlm.amazonaws.com", { StringEquals: { "aws:SourceAccount": account } })),
            },
            { parent: this },
        );
        new aws.iam.RolePolicyAttachment(
            `${name}-dlm-service-role`,
            { role: role.name, policyArn: managedPolicyArn(args.partition, "service-role/AWSDataLifecycleManagerServiceRole") },
            { parent: this },
        );
        const keys = [args.kmsKeyArn, args.crossRegionCopy ? args.copyKmsKeyArn : undefined].filter((k) => k !== undefined);
        if (keys.length > 0) {
            // The managed policy has no KMS rights; snapshots of a volume on a customer key, and copies
            // re-encrypted with one, need these, on those keys only.
            const actions = ["kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"];
            new aws.iam.RolePolicy(
                `${name}-dlm-kms`,
                { role: role.id, policy: pulumi.all(keys).apply((arns) => policyDocument([{ Effect: "Allow", Action: actions, Resource: arns.length === 1 ? arns[0]! : arns }])) },
                { parent: this },
            );
        }
        return role;
    }
}

/** What DLM snapshots (the volumes tagged with the stack), how often, how many it keeps, and where it copies them. */
export function snapshotPolicyDetails(
    args: Pick<BackupsArgs, "stack" | "schedule" | "retainCount" | "crossRegionCopy" | "copyKmsKeyArn">,
): aws.types.input.dlm.LifecyclePolicyPolicyDetails {
    const copy = args.crossRegionCopy;
    const key = args.copyKmsKeyArn ? { cmkArn: args.copyKmsKeyArn } : {};
    const copyRules = copy ? [{ target: copy.region, encrypted: true, ...key, copyTags: true, retainRule: { interval: copy.retain_days, intervalUnit: "DAYS" } }] : undefined;
    return {
        policyType: "EBS_SNAPSHOT_MANAGEMENT",
        resourceTypes: ["VOLUME"],
        targetTags: { [SNAPSHOT_TAG_KEY]: args.stack },
        schedules: [
            {
                name: `every ${args.schedule.interval_hours}h from ${args.schedule.times} UTC`,
                copyTags: true,
                createRule: { interval: args.schedule.interval_hours, intervalUnit: "HOURS", times: args.schedule.times },
                retainRule: { count: args.retainCount },
                tagsToAdd: { "inner-universe:stack": args.stack, "inner-universe:source": "dlm" },
                ...(copyRules ? { crossRegionCopyRules: copyRules } : {}),
            },
        ],
    };
}
