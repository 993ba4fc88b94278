import * as pulumi from "@pulumi/pulumi";

/** An IAM policy document as IAM takes it: JSON text with the policy language's one version. */
export function policyDocument(statements: object[]): string {
    return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

/** Trust policy of a role only `service` may assume (and, with `condition`, only under it). */
export function serviceTrustPolicy(service: string, condition?: Record<string, Record<string, string>>): string {
    return policyDocument([{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole", ...(condition ? { Condition: condition } : {}) }]);
}

/** ARN of an AWS-managed policy, e.g. `service-role/AWSDataLifecycleManagerServiceRole`. */
export function managedPolicyArn(partition: pulumi.Input<string>, policy: string): pulumi.Output<string> {
    return pulumi.interpolate`arn:${partition}:iam::aws:policy/${policy}`;
}
