import * as pulumi from "@pulumi/pulumi";
import * as aws from "./sdk";

export interface KeyPolicyFacts {
    partition: string;
    accountId: string;
    region: string;
    stack: string;
}

export interface PolicyStatement {
    Sid: string;
    Effect: "Allow";
    Principal: { AWS: string } | { Service: string };
    Action: string[];
    Resource: "*";
    Condition?: Record<string, Record<string, string>>;
}

/** Log groups of a stack all live under this prefix; the key serves only them. */
export const logGroupPrefix = (stack: string) => `/inner-universe/${stack}/`;

/**
 * Key policy of the stack's customer-managed key for alarm topics and log groups. CloudWatch
 * cannot publish to a topic encrypted with the AWS-managed SNS key (its policy cannot be
 * changed), which is why a customer key exists at all. Each service gets only the operations it
 * needs, and only on behalf of this account (aws:SourceAccount) or for this stack's log groups
 * (the logs encryption context), so no other account's alarms or log groups can use the key.
 */
export function keyPolicy(f: KeyPolicyFacts): { Version: "2012-10-17"; Statement: PolicyStatement[] } {
    const account = { StringEquals: { "aws:SourceAccount": f.accountId } };
    // Alarms publishing to an encrypted topic and SNS delivering from it need the same two operations.
    const topicUser = (Sid: string, service: string): PolicyStatement => ({
        Sid,
        Effect: "Allow",
        Principal: { Service: service },
        Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
        Resource: "*",
        Condition: account,
    });
    return {
        Version: "2012-10-17",
        Statement: [
            {
                // Without this statement IAM policies cannot grant use of the key, and nobody could manage it.
                Sid: "AccountAdministersTheKey",
                Effect: "Allow",
                Principal: { AWS: `arn:${f.partition}:iam::${f.accountId}:root` },
                Action: ["kms:*"],
                Resource: "*",
            },
            {
                Sid: "CloudWatchLogsEncryptsThisStacksLogGroups",
                Effect: "Allow",
                Principal: { Service: `logs.${f.region}.amazonaws.com` },
                Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
                Resource: "*",
                Condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": `arn:${f.partition}:logs:${f.region}:${f.accountId}:log-group:${logGroupPrefix(f.stack)}*` } },
            },
            topicUser("CloudWatchAlarmsPublishToEncryptedTopics", "cloudwatch.amazonaws.com"),
            topicUser("SnsDeliversFromEncryptedTopics", "sns.amazonaws.com"),
        ],
    };
}

export interface CustomerKeyArgs {
    stack: string;
    partition: pulumi.Input<string>;
    accountId: pulumi.Input<string>;
    /** Region of the key (KMS keys are regional); the provider's region when absent. */
    region: string;
    /** Set when the key lives outside the provider's region. */
    otherRegion?: boolean;
}

/** A customer-managed symmetric key with yearly rotation, for the stack's topics and log groups in one region. */
export class CustomerKey extends pulumi.ComponentResource {
    readonly arn: pulumi.Output<string>;

    constructor(name: string, args: CustomerKeyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("inner-universe:aws:CustomerKey", name, {}, opts);
        const inRegion = args.otherRegion ? { region: args.region } : {};
        const key = new aws.kms.Key(
            `${name}-key`,
            {
                ...inRegion,
                description: `inner-universe ${args.stack}: alarm topics and log groups (${args.region})`,
                enableKeyRotation: true,
                deletionWindowInDays: 30,
                policy: pulumi
                    .all([args.partition, args.accountId])
                    .apply(([partition, accountId]) => JSON.stringify(keyPolicy({ partition, accountId, region: args.region, stack: args.stack }))),
            },
            { parent: this },
        );
        new aws.kms.Alias(`${name}-alias`, { ...inRegion, name: `alias/inner-universe-${args.stack}-${args.region}`, targetKeyId: key.keyId }, { parent: this });
        this.arn = key.arn;
        this.registerOutputs({ arn: this.arn });
    }
}
