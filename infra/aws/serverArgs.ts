import type * as pulumi from "@pulumi/pulumi";
import { ACCOUNT_DEFAULT_KEY, type AwsConfig } from "../config/aws";
import type { StackConfigFor } from "../config/load";
import { routeMatrix } from "../render/routes";
import type { AlbTlsArgs } from "./albTls";
import type { BackupsArgs } from "./backups";
import type { DataVolumeArgs } from "./dataVolume";
import type { AwsHostArgs } from "./host";
import { type CheckedAws, cwAgentParameterName } from "./hostSpec";
import type { MonitoringArgs } from "./monitoring";
import type { AwsNetworkArgs } from "./network";
import type { ProviderArgs } from "./sdk";

// Which config key feeds which part of AwsServer: each component's args from the stack config
// and the outputs of the components built before it. Pure, so AwsServer reads as its steps.

type Cfg = StackConfigFor<"aws">;

/** The one provider's settings: region from the validated config, and the tags every resource carries. */
export function providerArgs(cfg: Cfg): ProviderArgs {
    return {
        region: cfg.aws.region,
        defaultTags: { tags: { Project: "inner-universe", Stack: cfg.stack, Environment: cfg.environment, ManagedBy: "pulumi" } },
    };
}

export function networkArgs(cfg: Cfg, checked: CheckedAws): AwsNetworkArgs {
    const a = cfg.aws;
    return { ...(a.vpc_id ? { vpcId: a.vpc_id } : {}), subnet: a.subnet, front: checked.front.mode, clientCidrs: a.client_cidrs, deployCidrs: a.deploy_cidrs };
}

/** Where a key comes from: the stack makes one (the default), the config names one, or the account's default EBS key. */
export type KeySource = { kind: "stack"; region: string } | { kind: "arn"; arn: string } | { kind: "account_default" };

/** The data volume's key and, with cross-region copies, the copies' key (KMS keys are regional). */
export interface DataKeyPlan {
    volume: KeySource;
    copies?: KeySource;
}

export function dataKeyPlan(cfg: Cfg): DataKeyPlan {
    const configured = cfg.aws.data_volume.kms_key_id;
    const accountDefault = configured === ACCOUNT_DEFAULT_KEY;
    const volume: KeySource = accountDefault ? { kind: "account_default" } : configured ? { kind: "arn", arn: configured } : { kind: "stack", region: cfg.aws.region };
    const copy = cfg.aws.backups.cross_region_copy;
    if (!copy) return { volume };
    // A volume on the account's default key keeps its copies on the default key of theirs, unless a key is named.
    const copies: KeySource = copy.kms_key_id ? { kind: "arn", arn: copy.kms_key_id } : accountDefault ? { kind: "account_default" } : { kind: "stack", region: copy.region };
    return { volume, copies };
}

/** The key ARNs the plan resolved to (the stack's own keys as outputs); none for the account's default key. */
export interface DataKeyArns {
    volume?: pulumi.Input<string>;
    copies?: pulumi.Input<string>;
}

export function dataVolumeArgs(cfg: Cfg, availabilityZone: string, keys: DataKeyArns): DataVolumeArgs {
    const v = cfg.aws.data_volume;
    return {
        stack: cfg.stack,
        availabilityZone,
        sizeGb: v.size_gb,
        iops: v.iops,
        throughput: v.throughput,
        ...(keys.volume ? { kmsKeyId: keys.volume } : {}),
        ...(v.snapshot_id ? { snapshotId: v.snapshot_id } : {}),
        protect: cfg.protect.data,
    };
}

export interface HostInputs {
    partition: pulumi.Input<string>;
    network: { availabilityZone: string; subnetId: pulumi.Input<string>; hostSecurityGroupId: pulumi.Input<string> };
    volumeId: pulumi.Input<string>;
    userData: pulumi.Input<string>;
}

export function hostArgs(cfg: Cfg, checked: CheckedAws, on: HostInputs): AwsHostArgs {
    const a = cfg.aws;
    return {
        environment: cfg.environment,
        partition: on.partition,
        availabilityZone: on.network.availabilityZone,
        subnetId: on.network.subnetId,
        securityGroupIds: [on.network.hostSecurityGroupId],
        instanceType: a.instance.type,
        amiParameter: a.instance.ami_parameter,
        amiOwners: a.instance.ami_owners,
        rootVolumeGb: a.instance.root_volume_gb,
        // The root holds no data: only a key the config names encrypts it too (else the account's default).
        ...(a.data_volume.kms_key_id && a.data_volume.kms_key_id !== ACCOUNT_DEFAULT_KEY ? { rootKmsKeyId: a.data_volume.kms_key_id } : {}),
        userData: on.userData,
        dataVolume: { id: on.volumeId, deviceName: a.data_volume.device_name },
        terminationProtection: a.termination_protection ?? cfg.protect.data,
        elasticIp: checked.front.mode === "acme",
        protectAddress: cfg.protect.data,
    };
}

export interface AlbInputs {
    /** alb mode: the network has the ALB's security group. */
    network: { vpcId: pulumi.Input<string>; albSecurityGroupId?: pulumi.Input<string> };
    host: { instanceId: pulumi.Input<string> };
}

export function albArgs(cfg: Cfg, alb: NonNullable<AwsConfig["alb"]>, checked: CheckedAws, on: AlbInputs): AlbTlsArgs {
    const a = cfg.aws;
    return {
        environment: cfg.environment,
        vpcId: on.network.vpcId,
        subnetIds: alb.subnets.map((s) => s.id),
        securityGroupId: on.network.albSecurityGroupId!,
        instanceId: on.host.instanceId,
        domain: checked.domain,
        ...(alb.certificate_arn ? { certificateArn: alb.certificate_arn } : {}),
        ...(a.dns ? { zoneId: a.dns.zone_id } : {}),
        idleTimeoutSeconds: alb.idle_timeout_s,
        deletionProtection: cfg.protect.data,
        routes: routeMatrix({ database: cfg.spacetimedb.database, exposeCall: cfg.tls.expose_call, exposeSql: cfg.tls.expose_sql }),
        deployCidrs: a.deploy_cidrs,
        authRequired: cfg.server.auth_required,
        ...(alb.access_logs ? { accessLogs: alb.access_logs } : {}),
        ...(alb.waf_acl_arn ? { wafAclArn: alb.waf_acl_arn } : {}),
    };
}

export interface MonitoringInputs {
    partition: pulumi.Input<string>;
    instanceId: pulumi.Input<string>;
    alb?: { loadBalancerArnSuffix: pulumi.Input<string>; targetGroupArnSuffix: pulumi.Input<string> };
}

export function monitoringArgs(cfg: Cfg, checked: CheckedAws, on: MonitoringInputs): MonitoringArgs {
    const a = cfg.aws;
    return {
        stack: cfg.stack,
        environment: cfg.environment,
        region: a.region,
        partition: on.partition,
        instanceId: on.instanceId,
        mount: cfg.spacetimedb.root_dir,
        logRetentionDays: a.log_retention_days,
        cwAgentParameterName: cwAgentParameterName(cfg),
        caddyAccessLog: checked.front.mode === "acme",
        alarms: a.alarms,
        maxConnections: cfg.server.max_connections,
        customerKey: a.customer_key,
        domain: checked.domain,
        ...(on.alb ? { alb: { loadBalancerArnSuffix: on.alb.loadBalancerArnSuffix, targetGroupArnSuffix: on.alb.targetGroupArnSuffix } } : {}),
    };
}

export function backupsArgs(cfg: Cfg, partition: pulumi.Input<string>, keys: DataKeyArns): BackupsArgs {
    const a = cfg.aws;
    const copy = a.backups.cross_region_copy;
    return {
        stack: cfg.stack,
        partition,
        schedule: a.backups.schedule,
        retainCount: a.backups.retain_count,
        ...(copy ? { crossRegionCopy: { region: copy.region, retain_days: copy.retain_days } } : {}),
        ...(keys.volume ? { kmsKeyArn: keys.volume } : {}),
        ...(copy && keys.copies ? { copyKmsKeyArn: keys.copies } : {}),
    };
}
