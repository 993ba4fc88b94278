import * as pulumi from "@pulumi/pulumi";
import type { StackConfigFor } from "../config/load";
import { AlbTls } from "./albTls";
import { Backups } from "./backups";
import { DataKey } from "./dataKey";
import { DataVolume } from "./dataVolume";
import { AwsHost } from "./host";
import { checkAwsServerConfig, hostSpec } from "./hostSpec";
import { Monitoring } from "./monitoring";
import { AwsNetwork } from "./network";
import { renderUserData } from "./render/cloudInit";
import * as aws from "./sdk";
import { albArgs, backupsArgs, type DataKeyArns, dataKeyPlan, dataVolumeArgs, hostArgs, type KeySource, monitoringArgs, networkArgs, providerArgs } from "./serverArgs";
import { DataVolumeGate, FilesystemGrowth } from "./volumeGate";

/** The first snapshot of a volume copies every used block: an hour before the `up` calls it stuck. */
const SNAPSHOT_WAIT_S = 3600;
/** An EBS modification reaches `optimizing` in minutes. */
const GROWTH_WAIT_S = 900;

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

    constructor(name: string, { cfg }: AwsServerArgs, opts?: pulumi.ComponentResourceOptions) {
        // Checked before anything registers: a refused config must leave nothing half-built.
        const checked = checkAwsServerConfig(cfg);
        super("inner-universe:aws:Server", name, {}, opts);
        // One explicit provider: the region comes from the validated config, never from ambient settings.
        const provider = new aws.Provider(`${name}-provider`, providerArgs(cfg), { parent: this });
        const child = { parent: this, providers: { aws: provider } };
        const partition = aws.getPartitionOutput({}, { parent: this, provider }).partition;

        const network = new AwsNetwork(`${name}-net`, networkArgs(cfg, checked), child);
        const keys = this.dataKeys(name, cfg, partition, child);
        const volume = new DataVolume(`${name}-data`, dataVolumeArgs(cfg, network.availabilityZone, keys), child);
        const userData = volume.volumeId.apply((id) => renderUserData(hostSpec(cfg, id, checked)));
        const gate = this.createVolumeGate(name, cfg, volume);
        const host = new AwsHost(`${name}-host`, { ...hostArgs(cfg, checked, { partition, network, volumeId: volume.volumeId, userData }), after: [gate] }, child);
        this.createFilesystemGrowth(name, cfg, volume, host);
        const alb = checked.front.mode === "alb" && cfg.aws.alb ? new AlbTls(`${name}-alb`, albArgs(cfg, cfg.aws.alb, checked, { network, host }), child) : undefined;
        const dnsReady = cfg.aws.dns ? this.dnsRecord(name, cfg.aws.dns.zone_id, checked.domain, { alb, host, provider }) : pulumi.output("unmanaged");
        const monitoring = new Monitoring(`${name}-mon`, monitoringArgs(cfg, checked, { partition, instanceId: host.instanceId, alb }), child);
        new Backups(`${name}-backup`, backupsArgs(cfg, partition, keys), child);

        // The URLs resolve once the host has its volume (and the ALB its rules, DNS its record),
        // so whatever waits on them (identity, publish) starts polling a server that exists.
        const built = pulumi.all([host.attachmentId, alb ? alb.ready : "caddy", dnsReady]);
        this.publicUrl = built.apply(() => `https://${checked.domain}`);
        this.wsUrl = built.apply(() => `wss://${checked.domain}`);
        this.adminUrl = this.publicUrl;
        this.instanceId = host.instanceId;
        this.dataVolumeId = volume.volumeId;
        this.alarmTopicArn = monitoring.alarmTopicArn;
        this.dnsTarget = alb ? alb.dnsName : host.publicIp!;
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

    /** The data volume's key and the backup copies' key, each the stack's own unless the config names one (dataKeyPlan). */
    private dataKeys(name: string, cfg: StackConfigFor<"aws">, partition: pulumi.Input<string>, child: pulumi.ComponentResourceOptions): DataKeyArns {
        const plan = dataKeyPlan(cfg);
        const accountId = aws.getCallerIdentityOutput({}, child).accountId;
        const resolve = (source: KeySource, suffix: string): pulumi.Input<string> | undefined => {
            if (source.kind === "account_default") return undefined;
            if (source.kind === "arn") return source.arn;
            const otherRegion = source.region !== cfg.aws.region;
            return new DataKey(`${name}-${suffix}`, { stack: cfg.stack, partition, accountId, region: source.region, otherRegion, protect: cfg.protect.data }, child).arn;
        };
        const volume = resolve(plan.volume, "data-key");
        const copies = plan.copies ? resolve(plan.copies, "copy-key") : undefined;
        return { ...(volume ? { volume } : {}), ...(copies ? { copies } : {}) };
    }

    /** Downgrade and shrink refused in preview; an upgrade snapshotted before the new host (infra/aws/volumeGate-impl.ts). */
    private createVolumeGate(name: string, cfg: StackConfigFor<"aws">, volume: DataVolume): DataVolumeGate {
        return new DataVolumeGate(
            `${name}-data-gate`,
            {
                stack: cfg.stack,
                region: cfg.aws.region,
                volumeId: volume.volumeId,
                version: cfg.spacetimedb.version,
                sizeGb: cfg.aws.data_volume.size_gb,
                mountPoint: cfg.spacetimedb.root_dir,
                maxWaitSeconds: SNAPSHOT_WAIT_S,
            },
            { parent: this },
        );
    }

    /** A larger volume: the running host's XFS grown through SSM once EBS has the new size (infra/aws/growth-impl.ts). */
    private createFilesystemGrowth(name: string, cfg: StackConfigFor<"aws">, volume: DataVolume, host: AwsHost): FilesystemGrowth {
        return new FilesystemGrowth(
            `${name}-data-growth`,
            {
                stack: cfg.stack,
                region: cfg.aws.region,
                volumeId: volume.volumeId,
                instanceId: host.instanceId,
                sizeGb: cfg.aws.data_volume.size_gb,
                mountPoint: cfg.spacetimedb.root_dir,
                maxWaitSeconds: GROWTH_WAIT_S,
            },
            { parent: this, dependsOn: [host] },
        );
    }

    /** aws.dns: the domain's A record, an alias of the ALB or the host's Elastic IP; resolves to its name. */
    private dnsRecord(name: string, zoneId: string, domain: string, on: { alb: AlbTls | undefined; host: AwsHost; provider: aws.Provider }): pulumi.Output<string> {
        const target = on.alb ? { aliases: [{ name: on.alb.dnsName, zoneId: on.alb.zoneId, evaluateTargetHealth: true }] } : { ttl: 60, records: [on.host.publicIp!] };
        return new aws.route53.Record(`${name}-dns`, { zoneId, name: domain, type: "A", ...target }, { parent: this, provider: on.provider }).fqdn;
    }
}
