import type * as pulumi from "@pulumi/pulumi";
import type { AwsConfig } from "../config/aws";
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

export function dataVolumeArgs(cfg: Cfg, availabilityZone: string): DataVolumeArgs {
    const v = cfg.aws.data_volume;
    return {
        stack: cfg.stack,
        availabilityZone,
        sizeGb: v.size_gb,
        iops: v.iops,
        throughput: v.throughput,
        ...(v.kms_key_id ? { kmsKeyId: v.kms_key_id } : {}),
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
        ...(a.data_volume.kms_key_id ? { rootKmsKeyId: a.data_volume.kms_key_id } : {}),
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

export function backupsArgs(cfg: Cfg, partition: pulumi.Input<string>): BackupsArgs {
    const a = cfg.aws;
    return {
        stack: cfg.stack,
        partition,
        schedule: a.backups.schedule,
        retainCount: a.backups.retain_count,
        ...(a.backups.cross_region_copy ? { crossRegionCopy: a.backups.cross_region_copy } : {}),
        ...(a.data_volume.kms_key_id ? { kmsKeyArn: a.data_volume.kms_key_id } : {}),
    };
}
