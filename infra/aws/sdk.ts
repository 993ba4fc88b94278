/**
 * The parts of @pulumi/aws the program uses, imported by service. The package's index loads its
 * whole type tree (≈0.2 s of every preview and up, whatever the runtime, since program.ts imports
 * this folder); a service's index loads its resources lazily. Components write `aws.ec2.Instance`
 * as with the index.
 */
export * as acm from "@pulumi/aws/acm";
export * as cloudwatch from "@pulumi/aws/cloudwatch";
export * as dlm from "@pulumi/aws/dlm";
export * as ebs from "@pulumi/aws/ebs";
export * as ec2 from "@pulumi/aws/ec2";
export { getCallerIdentityOutput } from "@pulumi/aws/getCallerIdentity";
export { getPartitionOutput } from "@pulumi/aws/getPartition";
export * as iam from "@pulumi/aws/iam";
export * as kms from "@pulumi/aws/kms";
export * as lb from "@pulumi/aws/lb";
export { Provider, type ProviderArgs } from "@pulumi/aws/provider";
export * as route53 from "@pulumi/aws/route53";
export * as sns from "@pulumi/aws/sns";
export * as ssm from "@pulumi/aws/ssm";
export type * as types from "@pulumi/aws/types";
export * as vpc from "@pulumi/aws/vpc";
export * as wafv2 from "@pulumi/aws/wafv2";
