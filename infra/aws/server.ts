import * as pulumi from "@pulumi/pulumi";
import type { StackConfigFor } from "../config/load";
import { routeMatrix } from "../render/routes";
import { AlbTls } from "./albTls";
import { Backups } from "./backups";
import { DataVolume } from "./dataVolume";
import { AwsHost } from "./host";
import { checkAwsServerConfig, cwAgentParameterName, hostSpec } from "./hostSpec";
import { Monitoring } from "./monitoring";
import { AwsNetwork } from "./network";
import { renderUserData } from "./render/cloudInit";
import * as aws from "./sdk";

export interface AwsServerArgs {
    /** Runtime aws only: the aws section and an acme|alb front with a domain, by type. */
    cfg: StackConfigFor<"aws">;
}

/**
 * SpacetimeDB on a dedicated EC2 host whose whole root dir lives on its own EBS volume, behind
 * Caddy (tls.mode acme) or an ALB (tls.mode alb), with alarms and DLM snapshots.
 * Publishing: the deploy pipeline uses `adminUrl` (the public https://DOMAIN) with its bearer
 * token; the front admits publish routes only from aws.deploy_cidrs.
 */
export class AwsServer extends pulumi.ComponentResource {
    readonly publicUrl: pulumi.Output<string>;
    readonly wsUrl: pulumi.Output<string>;
    readonly adminUrl: pulumi.Output<string>;
    readonly instanceId: pulumi.Output<string>;
    readonly dataVolumeId: pulumi.Output<string>;
    readonly alarmTopicArn: pulumi.Output<string>;
    /** Where tls.domain must point when aws.dns is not set: the Elastic IP or the ALB's name. */
    readonly dnsTarget: pulumi.Output<string>;

    constructor(name: string, args: AwsServerArgs, opts?: pulumi.ComponentResourceOptions) {
        // Checked before anything registers: a refused config must leave nothing half-built.
        const checked = checkAwsServerConfig(args.cfg);
        const { domain } = checked;
        const mode = checked.front.mode;
        super("inner-universe:aws:Server", name, {}, opts);
        const cfg = args.cfg;
        const a = cfg.aws;

        // One explicit provider: the region comes from the validated config, never from ambient settings.
        const provider = new aws.Provider(
            `${name}-provider`,
            {
                region: a.region,
                defaultTags: { tags: { Project: "inner-universe", Stack: cfg.stack, Environment: cfg.environment, ManagedBy: "pulumi" } },
            },
            { parent: this },
        );
        const child = { parent: this, providers: { aws: provider } };
        const partition = aws.getPartitionOutput({}, { parent: this, provider }).partition;

        const network = new AwsNetwork(
            `${name}-net`,
            { ...(a.vpc_id ? { vpcId: a.vpc_id } : {}), subnet: a.subnet, front: mode, clientCidrs: a.client_cidrs, deployCidrs: a.deploy_cidrs },
            child,
        );
        const volume = new DataVolume(
            `${name}-data`,
            {
                stack: cfg.stack,
                availabilityZone: network.availabilityZone,
                sizeGb: a.data_volume.size_gb,
                iops: a.data_volume.iops,
                throughput: a.data_volume.throughput,
                ...(a.data_volume.kms_key_id ? { kmsKeyId: a.data_volume.kms_key_id } : {}),
                ...(a.data_volume.snapshot_id ? { snapshotId: a.data_volume.snapshot_id } : {}),
                protect: cfg.protect.data,
            },
            child,
        );
        const userData = volume.volumeId.apply((id) => renderUserData(hostSpec(cfg, id, checked)));
        const host = new AwsHost(
            `${name}-host`,
            {
                environment: cfg.environment,
                partition,
                availabilityZone: network.availabilityZone,
                subnetId: network.subnetId,
                securityGroupIds: [network.hostSecurityGroupId],
                instanceType: a.instance.type,
                amiParameter: a.instance.ami_parameter,
                amiOwners: a.instance.ami_owners,
                rootVolumeGb: a.instance.root_volume_gb,
                ...(a.data_volume.kms_key_id ? { rootKmsKeyId: a.data_volume.kms_key_id } : {}),
                userData,
                dataVolume: { id: volume.volumeId, deviceName: a.data_volume.device_name },
                terminationProtection: a.termination_protection ?? cfg.protect.data,
                elasticIp: mode === "acme",
                protectAddress: cfg.protect.data,
            },
            child,
        );

        let alb: AlbTls | undefined;
        if (mode === "alb" && a.alb) {
            alb = new AlbTls(
                `${name}-alb`,
                {
                    environment: cfg.environment,
                    vpcId: network.vpcId,
                    subnetIds: a.alb.subnets.map((s) => s.id),
                    securityGroupId: network.albSecurityGroupId!,
                    instanceId: host.instanceId,
                    domain,
                    ...(a.alb.certificate_arn ? { certificateArn: a.alb.certificate_arn } : {}),
                    ...(a.dns ? { zoneId: a.dns.zone_id } : {}),
                    idleTimeoutSeconds: a.alb.idle_timeout_s,
                    deletionProtection: cfg.protect.data,
                    routes: routeMatrix({ database: cfg.spacetimedb.database, exposeCall: cfg.tls.expose_call, exposeSql: cfg.tls.expose_sql }),
                    deployCidrs: a.deploy_cidrs,
                    authRequired: cfg.server.auth_required,
                    ...(a.alb.access_logs ? { accessLogs: a.alb.access_logs } : {}),
                    ...(a.alb.waf_acl_arn ? { wafAclArn: a.alb.waf_acl_arn } : {}),
                },
                child,
            );
        }

        const dnsTarget = alb ? alb.dnsName : host.publicIp!;
        let dnsReady: pulumi.Output<string> = pulumi.output("unmanaged");
        if (a.dns) {
            const record = new aws.route53.Record(
                `${name}-dns`,
                alb
                    ? { zoneId: a.dns.zone_id, name: domain, type: "A", aliases: [{ name: alb.dnsName, zoneId: alb.zoneId, evaluateTargetHealth: true }] }
                    : { zoneId: a.dns.zone_id, name: domain, type: "A", ttl: 60, records: [host.publicIp!] },
                { parent: this, provider },
            );
            dnsReady = record.fqdn;
        }

        const monitoring = new Monitoring(
            `${name}-mon`,
            {
                stack: cfg.stack,
                environment: cfg.environment,
                region: a.region,
                partition,
                instanceId: host.instanceId,
                mount: cfg.spacetimedb.root_dir,
                logRetentionDays: a.log_retention_days,
                cwAgentParameterName: cwAgentParameterName(cfg),
                caddyAccessLog: mode === "acme",
                alarms: a.alarms,
                maxConnections: cfg.server.max_connections,
                customerKey: a.customer_key,
                domain,
                ...(alb ? { alb: { loadBalancerArnSuffix: alb.loadBalancerArnSuffix, targetGroupArnSuffix: alb.targetGroupArnSuffix } } : {}),
            },
            child,
        );
        new Backups(
            `${name}-backup`,
            {
                stack: cfg.stack,
                partition,
                schedule: a.backups.schedule,
                retainCount: a.backups.retain_count,
                ...(a.backups.cross_region_copy ? { crossRegionCopy: a.backups.cross_region_copy } : {}),
                ...(a.data_volume.kms_key_id ? { kmsKeyArn: a.data_volume.kms_key_id } : {}),
            },
            child,
        );

        // The URLs resolve once the host has its volume (and the ALB its rules, DNS its record),
        // so whatever waits on them (identity, publish) starts polling a server that exists.
        const built = pulumi.all([host.attachmentId, alb ? alb.ready : "caddy", dnsReady]);
        this.publicUrl = built.apply(() => `https://${domain}`);
        this.wsUrl = built.apply(() => `wss://${domain}`);
        this.adminUrl = this.publicUrl;
        this.instanceId = host.instanceId;
        this.dataVolumeId = volume.volumeId;
        this.alarmTopicArn = monitoring.alarmTopicArn;
        this.dnsTarget = dnsTarget;
        this.registerOutputs({
            publicUrl: this.publicUrl,
            wsUrl: this.wsUrl,
            adminUrl: this.adminUrl,
            instanceId: this.instanceId,
            dataVolumeId: this.dataVolumeId,
            alarmTopicArn: this.alarmTopicArn,
            dnsTarget: this.dnsTarget,
        });
    }
}
