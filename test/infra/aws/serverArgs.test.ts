import { describe, expect, it } from "vitest";
import { snapshotPolicyDetails } from "../../../infra/aws/backups";
import { checkAwsServerConfig } from "../../../infra/aws/hostSpec";
import { policyDocument, serviceTrustPolicy } from "../../../infra/aws/iam";
import { albArgs, backupsArgs, dataKeyPlan, dataVolumeArgs, hostArgs, monitoringArgs, networkArgs, providerArgs } from "../../../infra/aws/serverArgs";
import { ALB_SECTION } from "../../support/awsSpecs";
import { prodConfig } from "../../support/awsStack";

const KEY = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555";
const acme = prodConfig();
const alb = prodConfig({ tls: { mode: "alb" }, aws: { alb: ALB_SECTION, caddy_binary: undefined } });
const staging = prodConfig({
    stack: "staging",
    protect: { data: false },
    aws: {
        vpc_id: "vpc-0abc1234def567890",
        data_volume: { size_gb: 50, iops: 3000, throughput: 125, device_name: "/dev/sdf", kms_key_id: KEY, snapshot_id: "snap-0123456789abcdef0" },
    },
});
const on = {
    partition: "aws",
    network: { availabilityZone: "eu-west-1a", subnetId: "subnet-1", hostSecurityGroupId: "sg-host", vpcId: "vpc-1", albSecurityGroupId: "sg-alb" },
    volumeId: "vol-1",
    userData: "#cloud-config",
    host: { instanceId: "i-1" },
};

describe("AwsServer's parts from the stack config (serverArgs.ts)", () => {
    it("tags every resource through the one provider, in the configured region", () => {
        expect(providerArgs(acme)).toEqual({
            region: "eu-west-1",
            defaultTags: { tags: { Project: "inner-universe", Stack: "prod", Environment: acme.environment, ManagedBy: "pulumi" } },
        });
    });

    it.each([
        ["acme, default VPC", acme, { front: "acme" }, ["vpcId"]],
        ["alb", alb, { front: "alb" }, ["vpcId"]],
        ["configured VPC", staging, { front: "acme", vpcId: "vpc-0abc1234def567890" }, []],
    ])("network: %s", (_, cfg, expected, absent) => {
        const args = networkArgs(cfg, checkAwsServerConfig(cfg));
        expect(args).toMatchObject({ ...expected, subnet: cfg.aws.subnet, clientCidrs: cfg.aws.client_cidrs, deployCidrs: cfg.aws.deploy_cidrs });
        for (const key of absent) expect(args).not.toHaveProperty(key);
    });

    const COPY_KEY = "arn:aws:kms:eu-central-1:123456789012:key/99999999-2222-3333-4444-555555555555";
    const onAccountKey = prodConfig({ aws: { data_volume: { ...acme.aws.data_volume, kms_key_id: "account_default" } } });
    const withCopyKey = (cfg: typeof acme) =>
        prodConfig({
            stack: cfg.stack,
            aws: { ...cfg.aws, backups: { ...cfg.aws.backups, cross_region_copy: { region: "eu-central-1", retain_days: 14, kms_key_id: COPY_KEY } } },
        });
    const noCopies = prodConfig({ aws: { backups: { ...acme.aws.backups, cross_region_copy: undefined } } });
    it.each([
        ["default: the stack's own keys, here and in the copy region", acme, { volume: { kind: "stack", region: "eu-west-1" }, copies: { kind: "stack", region: "eu-central-1" } }],
        ["no copies: one key", noCopies, { volume: { kind: "stack", region: "eu-west-1" } }],
        ["a named volume key: the copies still get one of the stack's own", staging, { volume: { kind: "arn", arn: KEY }, copies: { kind: "stack", region: "eu-central-1" } }],
        ["a named copy key", withCopyKey(acme), { volume: { kind: "stack", region: "eu-west-1" }, copies: { kind: "arn", arn: COPY_KEY } }],
        ["account_default: the default EBS keys in both regions", onAccountKey, { volume: { kind: "account_default" }, copies: { kind: "account_default" } }],
        ["account_default with a named copy key", withCopyKey(onAccountKey), { volume: { kind: "account_default" }, copies: { kind: "arn", arn: COPY_KEY } }],
    ] as const)("data keys: %s", (_, cfg, expected) => {
        expect(dataKeyPlan(cfg)).toEqual(expected);
    });

    it.each([
        ["prod: protected, on the key it is given, no snapshot", acme, { volume: "arn:stack-key" }, { protect: true, kmsKeyId: "arn:stack-key" }, ["snapshotId"]],
        ["the account's default key: no kmsKeyId", onAccountKey, {}, { protect: true }, ["kmsKeyId", "snapshotId"]],
        ["staging: unprotected, from a snapshot, with a key", staging, { volume: KEY }, { protect: false, kmsKeyId: KEY, snapshotId: "snap-0123456789abcdef0" }, []],
    ])("data volume: %s", (_, cfg, keys, expected, absent) => {
        const args = dataVolumeArgs(cfg, "eu-west-1a", keys);
        expect(args).toMatchObject({ ...expected, stack: cfg.stack, availabilityZone: "eu-west-1a", sizeGb: cfg.aws.data_volume.size_gb });
        for (const key of absent) expect(args).not.toHaveProperty(key);
    });

    it.each([
        ["acme: an Elastic IP, protected with the data", acme, { elasticIp: true, protectAddress: true, terminationProtection: true }, ["rootKmsKeyId"]],
        ["alb: no Elastic IP", alb, { elasticIp: false }, ["rootKmsKeyId"]],
        ["staging: termination protection follows protect.data, root volume on the data key", staging, { terminationProtection: false, rootKmsKeyId: KEY }, []],
        ["the account's default key: the root too", onAccountKey, {}, ["rootKmsKeyId"]],
    ])("host: %s", (_, cfg, expected, absent) => {
        const args = hostArgs(cfg, checkAwsServerConfig(cfg), on);
        expect(args).toMatchObject({ ...expected, subnetId: "subnet-1", securityGroupIds: ["sg-host"], dataVolume: { id: "vol-1", deviceName: cfg.aws.data_volume.device_name } });
        for (const key of absent) expect(args).not.toHaveProperty(key);
    });

    it("alb: the section's subnets and certificate, the network's ALB group; optional parts only when configured", () => {
        const args = albArgs(alb, alb.aws.alb!, checkAwsServerConfig(alb), on);
        expect(args).toMatchObject({
            subnetIds: ALB_SECTION.subnets.map((s) => s.id),
            securityGroupId: "sg-alb",
            instanceId: "i-1",
            certificateArn: ALB_SECTION.certificate_arn,
            domain: alb.tls.domain,
            deletionProtection: true,
        });
        for (const key of ["zoneId", "accessLogs", "wafAclArn"]) expect(args).not.toHaveProperty(key);
    });

    it.each([
        ["acme: Caddy's access log is shipped", acme, undefined, { caddyAccessLog: true }],
        ["alb: the ALB's target group is watched", alb, { loadBalancerArnSuffix: "app/lb/1", targetGroupArnSuffix: "targetgroup/tg/2" }, { caddyAccessLog: false }],
    ])("monitoring: %s", (_, cfg, lb, expected) => {
        const args = monitoringArgs(cfg, checkAwsServerConfig(cfg), { partition: "aws", instanceId: "i-1", alb: lb });
        expect(args).toMatchObject({ ...expected, stack: cfg.stack, region: "eu-west-1", instanceId: "i-1", domain: cfg.tls.domain, mount: cfg.spacetimedb.root_dir });
        if (lb) expect(args.alb).toEqual(lb);
        else expect(args).not.toHaveProperty("alb");
    });

    it("backups: cross-region copies as configured, each key only when there is one", () => {
        const base = { stack: "prod", partition: "aws", schedule: acme.aws.backups.schedule, retainCount: acme.aws.backups.retain_count };
        const copy = { region: "eu-central-1", retain_days: 14 };
        expect(backupsArgs(acme, "aws", {})).toEqual({ ...base, crossRegionCopy: copy });
        expect(backupsArgs(acme, "aws", { volume: KEY, copies: COPY_KEY })).toEqual({ ...base, crossRegionCopy: copy, kmsKeyArn: KEY, copyKmsKeyArn: COPY_KEY });
        // Without copies a copy key means nothing.
        expect(backupsArgs(noCopies, "aws", { volume: KEY, copies: COPY_KEY })).toEqual({ ...base, kmsKeyArn: KEY });
    });
});

describe("DLM policy details", () => {
    const schedule = { times: "03:00", interval_hours: 6 };
    const COPY_KEY = "arn:aws:kms:eu-central-1:123456789012:key/99999999-2222-3333-4444-555555555555";
    it.each([
        ["home region only", undefined, undefined, undefined],
        [
            "with copies to another region, on its default EBS key",
            { region: "eu-central-1", retain_days: 14 },
            undefined,
            [{ target: "eu-central-1", encrypted: true, copyTags: true, retainRule: { interval: 14, intervalUnit: "DAYS" } }],
        ],
        [
            "with copies re-encrypted with a customer key of the copy region",
            { region: "eu-central-1", retain_days: 14 },
            COPY_KEY,
            [{ target: "eu-central-1", encrypted: true, cmkArn: COPY_KEY, copyTags: true, retainRule: { interval: 14, intervalUnit: "DAYS" } }],
        ],
    ])("%s", (_, crossRegionCopy, copyKmsKeyArn, copyRules) => {
        const details = snapshotPolicyDetails({
            stack: "prod",
            schedule,
            retainCount: 28,
            ...(crossRegionCopy ? { crossRegionCopy } : {}),
            ...(copyKmsKeyArn ? { copyKmsKeyArn } : {}),
        });
        expect(details).toMatchObject({ policyType: "EBS_SNAPSHOT_MANAGEMENT", resourceTypes: ["VOLUME"], targetTags: { "inner-universe:snapshot": "prod" } });
        expect(details.schedules).toEqual([
            {
                name: "every 6h from 03:00 UTC",
                copyTags: true,
                createRule: { interval: 6, intervalUnit: "HOURS", times: "03:00" },
                retainRule: { count: 28 },
                tagsToAdd: { "inner-universe:stack": "prod", "inner-universe:source": "dlm" },
                ...(copyRules ? { crossRegionCopyRules: copyRules } : {}),
            },
        ]);
    });
});

describe("IAM documents", () => {
    it.each([
        ["a service", "ec2.amazonaws.com", undefined, { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
        [
            "a service on behalf of one account",
            "dlm.amazonaws.com",
            { StringEquals: { "aws:SourceAccount": "123456789012" } },
            { Effect: "Allow", Principal: { Service: "dlm.amazonaws.com" }, Action: "sts:AssumeRole", Condition: { StringEquals: { "aws:SourceAccount": "123456789012" } } },
        ],
    ])("trust policy: %s", (_, service, condition, statement) => {
        expect(JSON.parse(serviceTrustPolicy(service, condition))).toEqual({ Version: "2012-10-17", Statement: [statement] });
    });

    it("writes the policy language's version first, as IAM shows it", () => {
        expect(policyDocument([{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }])).toBe(
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}',
        );
    });
});
