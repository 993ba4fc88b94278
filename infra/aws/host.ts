import * as pulumi from "@pulumi/pulumi";
import { managedPolicyArn, serviceTrustPolicy } from "./iam";
import * as aws from "./sdk";

export interface AwsHostArgs {
    environment: string;
    /** What must finish before an instance (a new one, on a version change) is created: the data volume's gate. */
    after?: pulumi.Resource[];
    partition: pulumi.Input<string>;
    availabilityZone: string;
    subnetId: pulumi.Input<string>;
    securityGroupIds: pulumi.Input<string>[];
    instanceType: string;
    amiParameter: string;
    amiOwners: string[];
    rootVolumeGb: number;
    rootKmsKeyId?: string;
    userData: pulumi.Input<string>;
    dataVolume: { id: pulumi.Input<string>; deviceName: string };
    terminationProtection: boolean;
    /** acme mode: a stable public address (Elastic IP) that DNS points at. */
    elasticIp: boolean;
    /** Pulumi-protect the Elastic IP (with protect.data): releasing it would move the public address DNS points at. */
    protectAddress: boolean;
}

/** Only these two: SSM Session Manager / State Manager, and the CloudWatch agent (metrics, logs, its config parameter). */
export const HOST_MANAGED_POLICIES = ["AmazonSSMManagedInstanceCore", "CloudWatchAgentServerPolicy"] as const;

/**
 * The EC2 host. It is disposable: everything stateful is on the data volume, so any change to its
 * user data replaces it (new host first, then the volume moves over), instead of stopping it to
 * patch user data that cloud-init would not run again anyway.
 */
export class AwsHost extends pulumi.ComponentResource {
    readonly instanceId: pulumi.Output<string>;
    readonly amiId: pulumi.Output<string>;
    readonly publicIp?: pulumi.Output<string>;
    readonly attachmentId: pulumi.Output<string>;

    constructor(name: string, args: AwsHostArgs, opts?: pulumi.ComponentResourceOptions) {
        super("inner-universe:aws:Host", name, {}, opts);
        this.amiId = this.lookupAmi(args);
        const profile = this.createInstanceProfile(name, args);
        const instance = this.createInstance(name, args, profile);
        this.instanceId = instance.id;
        const address = args.elasticIp ? this.createElasticIp(name, args, instance) : undefined;
        this.publicIp = address?.eip.publicIp;
        // The bootstrap waits for the volume before any download, so attaching it after the
        // address means the host never works with a temporary address.
        this.attachmentId = this.attachDataVolume(name, args, instance, address ? [address.association] : []).id;
        this.registerOutputs({ instanceId: this.instanceId, amiId: this.amiId, publicIp: this.publicIp });
    }

    /** The parameter names the AMI; the owners check makes sure it is one AWS published. */
    private lookupAmi(args: AwsHostArgs): pulumi.Output<string> {
        const param = aws.ssm.getParameterOutput({ name: args.amiParameter }, { parent: this });
        return aws.ec2.getAmiOutput({ owners: args.amiOwners, filters: [{ name: "image-id", values: [param.value] }] }, { parent: this }).id;
    }

    private createInstanceProfile(name: string, args: AwsHostArgs): aws.iam.InstanceProfile {
        const role = new aws.iam.Role(
            `${name}-role`,
            { description: "SpacetimeDB host: SSM management and the CloudWatch agent only", assumeRolePolicy: serviceTrustPolicy("ec2.amazonaws.com") },
            { parent: this },
        );
        const attachments = HOST_MANAGED_POLICIES.map(
            (policy) => new aws.iam.RolePolicyAttachment(`${name}-${policy}`, { role: role.name, policyArn: managedPolicyArn(args.partition, policy) }, { parent: this }),
        );
        return new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name }, { parent: this, dependsOn: attachments });
    }

    private createInstance(name: string, args: AwsHostArgs, profile: aws.iam.InstanceProfile): aws.ec2.Instance {
        // An unversioned parameter moves with every AWS release: freeze the AMI the host was built
        // from, so a routine `up` never replaces the database host. Pin `:N` to roll deliberately.
        const floatingAmi = !/:\d+$/.test(args.amiParameter);
        return new aws.ec2.Instance(
            `${name}-instance`,
            {
                ami: this.amiId,
                instanceType: args.instanceType,
                availabilityZone: args.availabilityZone,
                subnetId: args.subnetId,
                vpcSecurityGroupIds: args.securityGroupIds,
                iamInstanceProfile: profile.name,
                associatePublicIpAddress: false,
                metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1, instanceMetadataTags: "disabled" },
                rootBlockDevice: {
                    volumeType: "gp3",
                    volumeSize: args.rootVolumeGb,
                    encrypted: true,
                    deleteOnTermination: true,
                    ...(args.rootKmsKeyId ? { kmsKeyId: args.rootKmsKeyId } : {}),
                },
                ebsOptimized: true,
                monitoring: true,
                maintenanceOptions: { autoRecovery: "default" },
                disableApiTermination: args.terminationProtection,
                // Termination protection guards against console and CLI accidents. Replacing the host
                // is a planned operation here (its state is on the protected volume), so Pulumi may.
                forceDestroy: true,
                userData: args.userData,
                userDataReplaceOnChange: true,
                tags: { Name: `inner-universe-${args.environment}` },
                volumeTags: { Name: `inner-universe-${args.environment}-root` },
            },
            { parent: this, ...(args.after ? { dependsOn: args.after } : {}), ...(floatingAmi ? { ignoreChanges: ["ami"] } : {}) },
        );
    }

    private createElasticIp(name: string, args: AwsHostArgs, instance: aws.ec2.Instance) {
        const eip = new aws.ec2.Eip(`${name}-eip`, { domain: "vpc", tags: { Name: `inner-universe-${args.environment}` } }, { parent: this, protect: args.protectAddress });
        const association = new aws.ec2.EipAssociation(`${name}-eip-association`, { instanceId: instance.id, allocationId: eip.allocationId }, { parent: this });
        return { eip, association };
    }

    private attachDataVolume(name: string, args: AwsHostArgs, instance: aws.ec2.Instance, dependsOn: pulumi.Resource[]): aws.ec2.VolumeAttachment {
        return new aws.ec2.VolumeAttachment(
            `${name}-data-attachment`,
            {
                instanceId: instance.id,
                volumeId: args.dataVolume.id,
                deviceName: args.dataVolume.deviceName,
                // Stop the old host (SIGINT to the server, clean unmount) before the volume moves.
                stopInstanceBeforeDetaching: true,
            },
            // The volume attaches to one instance at a time: detach from the old host first.
            { parent: this, deleteBeforeReplace: true, dependsOn },
        );
    }
}
