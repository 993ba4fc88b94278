import { type CapturedResource, installHarness } from "./harness";

export { type Invoke, output } from "./harness";

import { stepStdout } from "./fakeSteps";

/** Captured the same way as every other stack (test/support/harness.ts). */
export type AwsCaptured = CapturedResource;

export interface MockWorld {
    region: string;
    /** What AWS says the subnet's AZ and VPC are (to exercise the deploy-time cross-check). */
    subnetAz: string;
    subnetVpc: string;
    amiFromParameter: string;
}

export const ACCOUNT = "123456789012";
export const DEFAULT_VPC = "vpc-0defa017defa01700";

/** Pulumi mocks for AWS stacks: the shared harness with AWS ids, ARNs and data sources filled in. */
export async function installAwsMocks(stack: string, world: Partial<MockWorld> = {}) {
    const w: MockWorld = { region: "eu-west-1", subnetAz: "eu-west-1a", subnetVpc: DEFAULT_VPC, amiFromParameter: "ami-0a1b2c3d4e5f60718", ...world };
    const counters = new Map<string, number>();
    const nextId = (prefix: string) => {
        const n = (counters.get(prefix) ?? 0) + 1;
        counters.set(prefix, n);
        return `${prefix}-0${n.toString(16).padStart(16, "0")}`;
    };
    const harness = await installHarness(stack, {
        state(type, name, inputs) {
            const { id, state } = fakeState(type, name, inputs, w, nextId);
            // The program's local steps (build, identity, publish, readiness) when a whole stack is built.
            return { id, state: { ...state, ...stepStdout({ type, name }) } };
        },
        call: (token, args) => fakeInvoke(token, args, w),
    });
    return { ...harness, world: w };
}

function fakeState(type: string, name: string, inputs: Record<string, any>, w: MockWorld, nextId: (p: string) => string): { id: string; state: Record<string, unknown> } {
    const region = inputs.region ?? w.region;
    const arn = (service: string, resource: string) => `arn:aws:${service}:${region}:${ACCOUNT}:${resource}`;
    switch (type) {
        case "aws:ebs/volume:Volume": {
            const id = nextId("vol");
            return { id, state: { arn: arn("ec2", `volume/${id}`) } };
        }
        case "aws:ec2/instance:Instance":
            return { id: nextId("i"), state: { privateIp: "10.0.1.10" } };
        case "aws:ec2/securityGroup:SecurityGroup":
            return { id: nextId("sg"), state: {} };
        case "aws:ec2/eip:Eip": {
            const id = nextId("eipalloc");
            return { id, state: { allocationId: id, publicIp: "198.51.100.10" } };
        }
        case "aws:sns/topic:Topic":
            return { id: arn("sns", name), state: { arn: arn("sns", name), name } };
        case "aws:iam/role:Role":
            return { id: name, state: { arn: `arn:aws:iam::${ACCOUNT}:role/${name}`, name } };
        case "aws:iam/instanceProfile:InstanceProfile":
            return { id: name, state: { arn: `arn:aws:iam::${ACCOUNT}:instance-profile/${name}`, name } };
        case "aws:ssm/parameter:Parameter":
            return { id: inputs.name, state: { arn: arn("ssm", `parameter/${inputs.name}`) } };
        case "aws:cloudwatch/logGroup:LogGroup":
            return { id: inputs.name, state: { arn: arn("logs", `log-group:${inputs.name}`) } };
        case "aws:lb/loadBalancer:LoadBalancer":
            return {
                id: arn("elasticloadbalancing", `loadbalancer/app/${name}/50dc6c495c0c9188`),
                state: {
                    arn: arn("elasticloadbalancing", `loadbalancer/app/${name}/50dc6c495c0c9188`),
                    arnSuffix: `app/${name}/50dc6c495c0c9188`,
                    dnsName: `${name}-1234567890.${region}.elb.amazonaws.com`,
                    zoneId: "Z32O12XQLNTSW2",
                },
            };
        case "aws:lb/targetGroup:TargetGroup":
            return {
                id: arn("elasticloadbalancing", `targetgroup/${name}/73e2d6bc24d8a067`),
                state: { arn: arn("elasticloadbalancing", `targetgroup/${name}/73e2d6bc24d8a067`), arnSuffix: `targetgroup/${name}/73e2d6bc24d8a067` },
            };
        case "aws:acm/certificate:Certificate":
            return {
                id: arn("acm", "certificate/11111111-2222-3333-4444-555555555555"),
                state: {
                    arn: arn("acm", "certificate/11111111-2222-3333-4444-555555555555"),
                    domainValidationOptions: [
                        {
                            domainName: inputs.domainName,
                            resourceRecordName: `_x1.${inputs.domainName}.`,
                            resourceRecordType: "CNAME",
                            resourceRecordValue: "_x2.acm-validations.aws.",
                        },
                    ],
                },
            };
        case "aws:acm/certificateValidation:CertificateValidation":
            return { id: `${name}-id`, state: { certificateArn: inputs.certificateArn } };
        case "aws:route53/record:Record":
            return { id: `${name}-id`, state: { fqdn: String(inputs.name).replace(/\.$/, "") } };
        case "aws:kms/key:Key": {
            const keyId = `${nextId("k").slice(2)}`
                .padStart(36, "0")
                .replace(/^(.{8})(.{4})(.{4})(.{4})/, "$1-$2-$3-$4-")
                .slice(0, 36);
            return { id: keyId, state: { keyId, arn: arn("kms", `key/${keyId}`) } };
        }
        case "aws:route53/healthCheck:HealthCheck":
            return { id: "abcdef11-2222-3333-4444-555555555555", state: {} };
        default:
            return { id: `${name}-id`, state: { arn: arn("mock", name) } };
    }
}

function fakeInvoke(token: string, args: Record<string, any>, w: MockWorld): Record<string, unknown> {
    switch (token) {
        case "aws:index/getCallerIdentity:getCallerIdentity":
            return { id: ACCOUNT, accountId: ACCOUNT, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/ci`, userId: "AROAEXAMPLE:ci" };
        case "aws:index/getPartition:getPartition":
            return { id: "aws", partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" };
        case "aws:ec2/getVpc:getVpc":
            return { id: args.id ?? DEFAULT_VPC, default: args.default ?? false, cidrBlock: "172.31.0.0/16" };
        case "aws:ec2/getSubnet:getSubnet":
            return { id: args.id, availabilityZone: w.subnetAz, vpcId: w.subnetVpc, cidrBlock: "172.31.0.0/20" };
        case "aws:ssm/getParameter:getParameter":
            return { id: args.name, name: args.name, type: "String", value: w.amiFromParameter, version: 42 };
        case "aws:ec2/getAmi:getAmi": {
            const wanted = (args.filters as { name: string; values: string[] }[] | undefined)?.find((f) => f.name === "image-id")?.values[0];
            // "amazon" publishes Amazon Linux, account 136693071363 publishes Debian.
            if (!(args.owners as string[] | undefined)?.some((o) => o === "amazon" || o === "136693071363")) throw new Error("no AMI matches (owners)");
            return { id: wanted, imageId: wanted, ownerId: "137112412989", architecture: "x86_64", rootDeviceName: "/dev/xvda" };
        }
        default:
            throw new Error(`unmocked invoke ${token}`);
    }
}

export function one(resources: AwsCaptured[], type: string, name?: string): AwsCaptured {
    const found = resources.filter((r) => r.type === type && (name === undefined || r.name === name));
    if (found.length !== 1) throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${found.map((r) => r.name).join(", ") || "none"}`);
    return found[0]!;
}

export function all(resources: AwsCaptured[], type: string): AwsCaptured[] {
    return resources.filter((r) => r.type === type);
}
