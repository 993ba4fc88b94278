import * as pulumi from "@pulumi/pulumi";
import { coveringCidrs } from "./render/cidr";
import { ALB_TARGET_PORT } from "./render/constants";
import * as aws from "./sdk";

export interface AwsNetworkArgs {
    /** Configured VPC; the region's default VPC is looked up only when this is absent. */
    vpcId?: string;
    subnet: { id: string; az: string };
    front: "acme" | "alb";
    clientCidrs: string[];
    deployCidrs: string[];
}

const WORLD = "0.0.0.0/0";

/**
 * Security groups of the host (and of the ALB in alb mode), one rule resource per rule so a
 * change touches one rule. No SSH anywhere: administration goes through SSM Session Manager,
 * whose agent only needs outbound 443.
 */
export class AwsNetwork extends pulumi.ComponentResource {
    readonly vpcId: pulumi.Output<string>;
    readonly subnetId: pulumi.Output<string>;
    readonly availabilityZone: string;
    readonly hostSecurityGroupId: pulumi.Output<string>;
    readonly albSecurityGroupId?: pulumi.Output<string>;

    constructor(name: string, args: AwsNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("inner-universe:aws:Network", name, {}, opts);
        this.vpcId = args.vpcId ? pulumi.output(args.vpcId) : aws.ec2.getVpcOutput({ default: true }, { parent: this }).id;
        this.subnetId = this.checkedSubnet(args.subnet, this.vpcId);
        this.availabilityZone = args.subnet.az;
        const host = this.securityGroup(name, "host", "SpacetimeDB host: TLS front only, no SSH");
        this.hostSecurityGroupId = host.id;
        const publicSources = coveringCidrs([...args.clientCidrs, ...args.deployCidrs]);
        // Package repositories, SSM, CloudWatch, release downloads and Let's Encrypt are all HTTPS.
        // DNS, NTP and instance metadata use link-local addresses that security groups do not filter.
        this.rule(name, "out", "host-https", host.id, 443, { cidr: WORLD }, "HTTPS to AWS APIs, package repos, release assets, ACME");
        if (args.front === "acme") this.acmeIngress(name, host.id, publicSources);
        else this.albSecurityGroupId = this.albFront(name, host.id, publicSources).id;
        this.registerOutputs({ vpcId: this.vpcId, hostSecurityGroupId: this.hostSecurityGroupId, albSecurityGroupId: this.albSecurityGroupId });
    }

    /** Config names the subnet's AZ so the volume can be pinned offline; the real subnet must agree. */
    private checkedSubnet(configured: AwsNetworkArgs["subnet"], vpcId: pulumi.Output<string>): pulumi.Output<string> {
        const subnet = aws.ec2.getSubnetOutput({ id: configured.id }, { parent: this });
        return pulumi.all([subnet, vpcId]).apply(([s, vpc]) => {
            const problem = subnetProblem(s, configured, vpc);
            if (problem) throw new pulumi.ResourceError(problem, this);
            return s.id;
        });
    }

    private securityGroup(name: string, suffix: string, description: string): aws.ec2.SecurityGroup {
        return new aws.ec2.SecurityGroup(`${name}-${suffix}`, { vpcId: this.vpcId, description, revokeRulesOnDelete: true, tags: { Name: `${name}-${suffix}` } }, { parent: this });
    }

    /** The host is the front: HTTPS from the allowed sources, and port 80 from anywhere for ACME. */
    private acmeIngress(name: string, hostGroupId: pulumi.Output<string>, sources: string[]): void {
        for (const [i, cidr] of sources.entries()) this.rule(name, "in", `host-https-${i}`, hostGroupId, 443, { cidr }, `HTTPS from ${cidr}`);
        // Let's Encrypt validates from undisclosed addresses: port 80 serves only the ACME
        // challenge and the redirect to HTTPS (Caddy routes nothing else there).
        this.rule(name, "in", "host-http-acme", hostGroupId, 80, { cidr: WORLD }, "ACME HTTP-01 challenge and redirect to HTTPS");
    }

    /** The ALB is the front: clients reach it, and only it reaches the host's target port. */
    private albFront(name: string, hostGroupId: pulumi.Output<string>, sources: string[]): aws.ec2.SecurityGroup {
        const alb = this.securityGroup(name, "alb", "SpacetimeDB load balancer: HTTPS (and redirect) from clients");
        sources.forEach((cidr, i) => {
            this.rule(name, "in", `alb-https-${i}`, alb.id, 443, { cidr }, `HTTPS from ${cidr}`);
            this.rule(name, "in", `alb-http-${i}`, alb.id, 80, { cidr }, `redirect to HTTPS for ${cidr}`);
        });
        this.rule(name, "out", "alb-target", alb.id, ALB_TARGET_PORT, { group: hostGroupId }, "to the host's target port");
        this.rule(name, "in", "host-target", hostGroupId, ALB_TARGET_PORT, { group: alb.id }, "from the load balancer only");
        return alb;
    }

    /** One TCP port, from (in) or to (out) a CIDR or another security group. */
    private rule(
        name: string,
        way: "in" | "out",
        key: string,
        groupId: pulumi.Input<string>,
        port: number,
        peer: { cidr: string } | { group: pulumi.Input<string> },
        description: string,
    ) {
        const Rule = way === "in" ? aws.vpc.SecurityGroupIngressRule : aws.vpc.SecurityGroupEgressRule;
        return new Rule(
            `${name}-${way}-${key}`,
            {
                securityGroupId: groupId,
                ipProtocol: "tcp",
                fromPort: port,
                toPort: port,
                ...("cidr" in peer ? { cidrIpv4: peer.cidr } : { referencedSecurityGroupId: peer.group }),
                description,
            },
            { parent: this },
        );
    }
}

/** The subnet AWS reports must be the one config describes: same AZ (volume and host are pinned to it), same VPC. */
export function subnetProblem(actual: { availabilityZone: string; vpcId: string }, configured: { id: string; az: string }, vpcId: string): string | undefined {
    if (actual.availabilityZone !== configured.az) return `inner-universe:aws.subnet.az: ${configured.id} is in ${actual.availabilityZone}, config says ${configured.az}`;
    if (actual.vpcId !== vpcId) return `inner-universe:aws.subnet.id: ${configured.id} is in ${actual.vpcId}, not in ${vpcId}`;
    return undefined;
}
