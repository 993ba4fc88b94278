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
        const vpcId = args.vpcId ? pulumi.output(args.vpcId) : aws.ec2.getVpcOutput({ default: true }, { parent: this }).id;
        // Config names the subnet's AZ so the volume can be pinned offline; the real subnet must agree.
        const subnet = aws.ec2.getSubnetOutput({ id: args.subnet.id }, { parent: this });
        this.subnetId = pulumi.all([subnet, vpcId]).apply(([s, vpc]) => {
            const problem = subnetProblem(s, args.subnet, vpc);
            if (problem) throw new pulumi.ResourceError(problem, this);
            return s.id;
        });
        this.vpcId = vpcId;
        this.availabilityZone = args.subnet.az;

        const sg = (suffix: string, description: string) =>
            new aws.ec2.SecurityGroup(`${name}-${suffix}`, { vpcId, description, revokeRulesOnDelete: true, tags: { Name: `${name}-${suffix}` } }, { parent: this });
        const host = sg("host", "SpacetimeDB host: TLS front only, no SSH");
        this.hostSecurityGroupId = host.id;

        const publicSources = coveringCidrs([...args.clientCidrs, ...args.deployCidrs]);
        const ingress = (key: string, groupId: pulumi.Input<string>, port: number, source: { cidr: string } | { group: pulumi.Input<string> }, description: string) =>
            new aws.vpc.SecurityGroupIngressRule(
                `${name}-in-${key}`,
                {
                    securityGroupId: groupId,
                    ipProtocol: "tcp",
                    fromPort: port,
                    toPort: port,
                    ...("cidr" in source ? { cidrIpv4: source.cidr } : { referencedSecurityGroupId: source.group }),
                    description,
                },
                { parent: this },
            );

        // Package repositories, SSM, CloudWatch, release downloads and Let's Encrypt are all HTTPS.
        // DNS, NTP and instance metadata use link-local addresses that security groups do not filter.
        new aws.vpc.SecurityGroupEgressRule(
            `${name}-out-host-https`,
            { securityGroupId: host.id, ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: WORLD, description: "HTTPS to AWS APIs, package repos, release assets, ACME" },
            { parent: this },
        );

        if (args.front === "acme") {
            for (const [i, cidr] of publicSources.entries()) ingress(`host-https-${i}`, host.id, 443, { cidr }, `HTTPS from ${cidr}`);
            // Let's Encrypt validates from undisclosed addresses: port 80 serves only the ACME
            // challenge and the redirect to HTTPS (Caddy routes nothing else there).
            ingress("host-http-acme", host.id, 80, { cidr: WORLD }, "ACME HTTP-01 challenge and redirect to HTTPS");
        } else {
            const alb = sg("alb", "SpacetimeDB load balancer: HTTPS (and redirect) from clients");
            this.albSecurityGroupId = alb.id;
            publicSources.forEach((cidr, i) => {
                ingress(`alb-https-${i}`, alb.id, 443, { cidr }, `HTTPS from ${cidr}`);
                ingress(`alb-http-${i}`, alb.id, 80, { cidr }, `redirect to HTTPS for ${cidr}`);
            });
            new aws.vpc.SecurityGroupEgressRule(
                `${name}-out-alb-target`,
                {
                    securityGroupId: alb.id,
                    ipProtocol: "tcp",
                    fromPort: ALB_TARGET_PORT,
                    toPort: ALB_TARGET_PORT,
                    referencedSecurityGroupId: host.id,
                    description: "to the host's target port",
                },
                { parent: this },
            );
            ingress("host-target", host.id, ALB_TARGET_PORT, { group: alb.id }, "from the load balancer only");
        }
        this.registerOutputs({ vpcId: this.vpcId, hostSecurityGroupId: this.hostSecurityGroupId, albSecurityGroupId: this.albSecurityGroupId });
    }
}

/** The subnet AWS reports must be the one config describes: same AZ (volume and host are pinned to it), same VPC. */
export function subnetProblem(actual: { availabilityZone: string; vpcId: string }, configured: { id: string; az: string }, vpcId: string): string | undefined {
    if (actual.availabilityZone !== configured.az) return `inner-universe:aws.subnet.az: ${configured.id} is in ${actual.availabilityZone}, config says ${configured.az}`;
    if (actual.vpcId !== vpcId) return `inner-universe:aws.subnet.id: ${configured.id} is in ${actual.vpcId}, not in ${vpcId}`;
    return undefined;
}
