import * as fs from "node:fs";
import * as path from "node:path";
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { SNAPSHOT_TAG_KEY } from "../../infra/aws/render/constants";
import {
    alarmsHaveActions,
    albHardened,
    allPolicies,
    type CapturedResource,
    encryptedVolumes,
    gp3Volumes,
    imdsV2,
    kmsKeysRotate,
    logGroupsRetained,
    loopbackServers,
    noIamUsers,
    noSecretsInPlainParameters,
    noSecretsInUserData,
    noSsh,
    noWildcardIam,
    protectedData,
    runPoliciesOver,
    serviceRolesScoped,
    snapshotTagged,
    worldOnlyWeb,
} from "../../policy/policies";

const r = (type: string, inputs: Record<string, any>, options?: CapturedResource["options"]): CapturedResource => ({ type, name: "r", inputs, ...(options ? { options } : {}) });
const VOLUME = "aws:ebs/volume:Volume";
const INSTANCE = "aws:ec2/instance:Instance";
const SHELL = "pulumi-nodejs:dynamic/inner-universe:LocalShell";
const CONTAINER = "docker:index/container:Container";
const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";
const SG = "aws:ec2/securityGroup:SecurityGroup";
const SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule";
const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const LT = "aws:ec2/launchTemplate:LaunchTemplate";
const ROLE = "aws:iam/role:Role";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const SSM_PARAMETER = "aws:ssm/parameter:Parameter";
const LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup";
const KEY = "aws:kms/key:Key";
const LB = "aws:lb/loadBalancer:LoadBalancer";
const LISTENER = "aws:lb/listener:Listener";
const trust = (service: string, condition?: object) =>
    JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole", ...(condition ? { Condition: condition } : {}) }],
    });
const doc = (action: string | string[], extra: object = {}) =>
    JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: action, Resource: "arn:aws:kms:eu-west-1:1:key/k", ...extra }] });
const goodLb = { loadBalancerType: "application", dropInvalidHeaderFields: true, enableDeletionProtection: true };

const goodVolume = { type: "gp3", encrypted: true, tags: { [SNAPSHOT_TAG_KEY]: "prod" } };
const goodInstance = { metadataOptions: { httpTokens: "required" }, rootBlockDevice: { encrypted: true, volumeType: "gp3" }, userData: "#cloud-config\nruncmd:\n- [echo, hi]\n" };
const b64 = (s: string) => Buffer.from(s).toString("base64");

/** Each row: policy, a resource it accepts, a resource it rejects, a fragment of the rejection. */
const cases: [ResourceValidationPolicy, CapturedResource, CapturedResource, string][] = [
    [encryptedVolumes, r(VOLUME, goodVolume), r(VOLUME, { ...goodVolume, encrypted: false }), "volume is not encrypted"],
    [encryptedVolumes, r(INSTANCE, goodInstance), r(INSTANCE, { ...goodInstance, rootBlockDevice: { volumeType: "gp3" } }), "rootBlockDevice is not encrypted"],
    [
        encryptedVolumes,
        r(INSTANCE, { ...goodInstance, ebsBlockDevices: [{ encrypted: true, volumeType: "gp3" }] }),
        r(INSTANCE, { ...goodInstance, ebsBlockDevices: [{ volumeType: "gp3" }] }),
        "ebsBlockDevices[0] is not encrypted",
    ],
    [gp3Volumes, r(VOLUME, goodVolume), r(VOLUME, { encrypted: true }), "volume is unset (gp2), expected gp3"],
    [gp3Volumes, r(INSTANCE, goodInstance), r(INSTANCE, { ...goodInstance, rootBlockDevice: { encrypted: true, volumeType: "gp2" } }), "rootBlockDevice is gp2"],
    [imdsV2, r(INSTANCE, goodInstance), r(INSTANCE, { ...goodInstance, metadataOptions: { httpTokens: "optional" } }), 'httpTokens is optional, expected "required"'],
    [imdsV2, r(LT, { metadataOptions: { httpTokens: "required" } }), r(LT, {}), "httpTokens is unset"],
    [
        worldOnlyWeb,
        r(INGRESS, { ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" }),
        r(INGRESS, { ipProtocol: "tcp", fromPort: 3000, toPort: 3000, cidrIpv4: "0.0.0.0/0" }),
        "ingress tcp 3000-3000 is open to the world",
    ],
    [
        worldOnlyWeb,
        r(INGRESS, { ipProtocol: "tcp", fromPort: 3000, toPort: 3000, cidrIpv4: "10.0.0.0/8" }),
        r(INGRESS, { ipProtocol: "tcp", fromPort: 80, toPort: 443, cidrIpv4: "0.0.0.0/0" }),
        "tcp 80-443 is open to the world",
    ],
    [
        worldOnlyWeb,
        r(EGRESS, { ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" }),
        r(EGRESS, { ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" }),
        "egress -1 0-65535 is open to the world",
    ],
    [
        worldOnlyWeb,
        r(INGRESS, { ipProtocol: "tcp", fromPort: 80, toPort: 80, cidrIpv6: "::/0" }),
        r(INGRESS, { ipProtocol: "udp", fromPort: 443, toPort: 443, cidrIpv6: "::/0" }),
        "ingress udp 443-443",
    ],
    [
        worldOnlyWeb,
        r(SG, { ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }] }),
        r(SG, { egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }] }),
        "egress -1",
    ],
    [
        noSsh,
        r(INGRESS, { ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "10.0.0.0/8" }),
        r(INGRESS, { ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "10.0.0.0/8" }),
        "admits SSH",
    ],
    [
        noSsh,
        r(EGRESS, { ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "10.0.0.0/8" }),
        r(INGRESS, { ipProtocol: "tcp", fromPort: 0, toPort: 1024, referencedSecurityGroupId: "sg-1" }),
        "ingress tcp 0-1024 admits SSH",
    ],
    [
        noSsh,
        r(SG_RULE, { type: "ingress", protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["10.0.0.0/8"] }),
        r(SG_RULE, { type: "ingress", protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["10.0.0.0/8"] }),
        "ingress -1",
    ],
    [alarmsHaveActions, r(ALARM, { alarmActions: ["arn:aws:sns:eu-west-1:1:t"] }), r(ALARM, { alarmActions: [] }), "alarm has no alarmActions"],
    [
        alarmsHaveActions,
        r(ALARM, { alarmActions: ["arn:aws:sns:eu-west-1:1:t"], actionsEnabled: true }),
        r(ALARM, { alarmActions: ["arn:aws:sns:eu-west-1:1:t"], actionsEnabled: false }),
        "actionsEnabled: false",
    ],
    [snapshotTagged, r(VOLUME, goodVolume), r(VOLUME, { ...goodVolume, tags: { Name: "data" } }), `no ${SNAPSHOT_TAG_KEY} tag`],
    [protectedData, r(VOLUME, goodVolume, { protect: true, retainOnDelete: true }), r(VOLUME, goodVolume, { protect: true }), "not retained on delete"],
    [protectedData, r(VOLUME, goodVolume, { protect: true, retainOnDelete: true }), r(VOLUME, goodVolume, { retainOnDelete: true }), "not protected (protect: true)"],
    [noSecretsInUserData, r(INSTANCE, goodInstance), r(INSTANCE, { ...goodInstance, userData: "export AWS_ACCESS_KEY_ID=AKIAABCDEFGHIJKLMNOP" }), "an AWS access key id"],
    [
        noSecretsInUserData,
        r(INSTANCE, goodInstance),
        r(INSTANCE, { ...goodInstance, userData: "curl -H 'Authorization: Bearer abcdefghijklmnopqrstuvwx' https://db" }),
        "a literal bearer token",
    ],
    [
        noSecretsInUserData,
        r(INSTANCE, goodInstance),
        r(INSTANCE, { ...goodInstance, userData: "IU_DEPLOYER_TOKEN=eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlMTIz" }),
        "a JWT",
    ],
    [noSecretsInUserData, r(INSTANCE, goodInstance), r(INSTANCE, { ...goodInstance, userData: "-----BEGIN EC PRIVATE KEY-----\nMHc..." }), "a private key"],
    [noSecretsInUserData, r(INSTANCE, goodInstance), r(INSTANCE, { userDataBase64: b64("DB_PASSWORD=hunter2hunter2") }), "a password/secret/token assignment"],
    [
        noSecretsInUserData,
        r(LT, { userData: b64("#!/bin/bash\necho ok") }),
        r(LT, { userData: b64("GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789") }),
        "user data contains",
    ],
    [
        noSecretsInPlainParameters,
        r(SSM_PARAMETER, { name: "AmazonCloudWatch-x", type: "String", insecureValue: '{"logs":{"logs_collected":{}}}' }),
        r(SSM_PARAMETER, { name: "AmazonCloudWatch-x", type: "String", insecureValue: '{"agent":{"region":"eu-west-1"},"aws_access_key_id":"AKIAABCDEFGHIJKLMNOP"}' }),
        "String parameter AmazonCloudWatch-x contains an AWS access key id; make it a SecureString",
    ],
    [
        noSecretsInPlainParameters,
        r(SSM_PARAMETER, { name: "deploy-token", type: "SecureString", value: "IU_DEPLOYER_TOKEN=eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlMTIz" }),
        r(SSM_PARAMETER, { name: "deploy-token", type: "StringList", value: "IU_DEPLOYER_TOKEN=eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlMTIz" }),
        "StringList parameter deploy-token contains a JWT",
    ],
    [loopbackServers, r(SHELL, { environment: { IU_LISTEN: "127.0.0.1:3000" } }), r(SHELL, { environment: { IU_LISTEN: "0.0.0.0:3000" } }), "the local server listens on 0.0.0.0"],
    [
        loopbackServers,
        r(SHELL, { environment: { IU_LISTEN: "[::1]:3000" } }),
        r(SHELL, { environment: { IU_LISTEN: "10.1.2.3:3000" } }),
        "set inner-universe:spacetimedb.address to 127.0.0.1",
    ],
    [
        loopbackServers,
        r(CONTAINER, { ports: [{ internal: 3000, external: 3100, ip: "127.0.0.1" }] }),
        r(CONTAINER, { ports: [{ internal: 3000, external: 3100 }] }),
        "publishes port 3100 on every interface",
    ],
    [
        serviceRolesScoped,
        r(ROLE, { assumeRolePolicy: trust("dlm.amazonaws.com", { StringEquals: { "aws:SourceAccount": "123456789012" } }) }),
        r(ROLE, { assumeRolePolicy: trust("dlm.amazonaws.com") }),
        "dlm.amazonaws.com may assume the role without",
    ],
    [
        serviceRolesScoped,
        r(ROLE, { assumeRolePolicy: trust("ec2.amazonaws.com") }),
        r(ROLE, { assumeRolePolicy: JSON.parse(trust("lambda.amazonaws.com", { StringEquals: { "aws:PrincipalTag/x": "y" } })) }),
        "lambda.amazonaws.com",
    ],
    [noWildcardIam, r(ROLE_POLICY, { policy: doc(["kms:Decrypt", "kms:DescribeKey"]) }), r(ROLE_POLICY, { policy: doc("kms:*") }), "allows kms:*"],
    [noWildcardIam, r(ROLE, { inlinePolicies: [{ name: "p", policy: doc("s3:GetObject") }] }), r(ROLE, { inlinePolicies: [{ name: "p", policy: doc("*") }] }), "allows *"],
    [
        noWildcardIam,
        r(ROLE_POLICY, { policy: doc("kms:Decrypt*") }),
        r(ROLE_POLICY, { policy: JSON.stringify({ Statement: [{ Effect: "Allow", NotAction: "iam:*", Resource: "*" }] }) }),
        "NotAction",
    ],
    [noIamUsers, r(ROLE, {}), r("aws:iam/accessKey:AccessKey", { user: "ci" }), "long-lived credentials"],
    [logGroupsRetained, r(LOG_GROUP, { name: "/g", retentionInDays: 30 }), r(LOG_GROUP, { name: "/g" }), "no retentionInDays"],
    [kmsKeysRotate, r(KEY, { enableKeyRotation: true }), r(KEY, { description: "k" }), "enableKeyRotation is not true"],
    [albHardened, r(LB, goodLb), r(LB, { ...goodLb, dropInvalidHeaderFields: false }), "dropInvalidHeaderFields"],
    [albHardened, r(LB, goodLb), r(LB, { ...goodLb, enableDeletionProtection: false }), "enableDeletionProtection"],
    [
        albHardened,
        r(LISTENER, { protocol: "HTTP", port: 80, defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }] }),
        r(LISTENER, { protocol: "HTTP", port: 80, defaultActions: [{ type: "forward", targetGroupArn: "tg" }] }),
        "other than redirect to HTTPS",
    ],
    [
        albHardened,
        r(LISTENER, { protocol: "HTTPS", sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06" }),
        r(LISTENER, { protocol: "HTTPS", sslPolicy: "ELBSecurityPolicy-2016-08" }),
        "not a TLS 1.2+ forward-secret policy",
    ],
];

describe("each policy has a passing and a failing case", () => {
    it.each(cases.map(([p, good, bad, fragment], i) => [`${p.name} #${i}`, p, good, bad, fragment] as const))("%s", (_label, policy, good, bad, fragment) => {
        expect(runPoliciesOver([good], { protectData: true }, [policy])).toEqual([]);
        const violations = runPoliciesOver([bad], { protectData: true }, [policy]);
        expect(violations.length, JSON.stringify(violations)).toBeGreaterThan(0);
        expect(violations.map((v) => v.message).join(" | ")).toContain(fragment);
        expect(violations.every((v) => v.policy === policy.name)).toBe(true);
    });

    it("covers every policy of the pack", () => {
        expect(new Set(cases.map(([p]) => p.name))).toEqual(new Set(allPolicies.map((p) => p.name)));
    });
});

describe("data-volumes-protected follows the stack's protect.data", () => {
    it("does not require protection when protect.data is false", () => {
        expect(runPoliciesOver([r(VOLUME, goodVolume)], { protectData: false }, [protectedData])).toEqual([]);
        expect(runPoliciesOver([r(VOLUME, goodVolume)], { protectData: true }, [protectedData])).toHaveLength(2);
    });

    it("declares its config with prod rules as the default for the real pack", () => {
        expect(protectedData.configSchema?.properties.protectData).toEqual({ type: "boolean", default: true });
    });
});

describe("runPoliciesOver", () => {
    it("ignores resources no policy is about (dev/docker stacks)", () => {
        const dev: CapturedResource[] = [
            {
                type: "pulumi-nodejs:dynamic/inner-universe:LocalShell",
                name: "inner-universe-server-process",
                inputs: { environment: { IU_LISTEN: "127.0.0.1:3000" } },
                options: { protect: false },
            },
            { type: "docker:index/container:Container", name: "c", inputs: { ports: [{ internal: 3000, external: 3100, ip: "127.0.0.1" }] } },
        ];
        expect(runPoliciesOver(dev, { protectData: false })).toEqual([]);
    });

    it("names policy, resource and message", () => {
        expect(runPoliciesOver([{ type: VOLUME, name: "data", inputs: { encrypted: true, type: "gp3" } }], { protectData: false })).toEqual([
            { policy: "data-volumes-snapshot-tagged", type: VOLUME, name: "data", message: `volume has no ${SNAPSHOT_TAG_KEY} tag, so no snapshots` },
        ]);
    });

    it("the pack entry is separate and never imported by tests (it starts a gRPC server)", () => {
        const entry = fs.readFileSync(path.join(__dirname, "../../policy/index.ts"), "utf8");
        expect(entry).toContain("new PolicyPack(");
        expect(entry).toContain("policies: allPolicies");
        const policies = fs.readFileSync(path.join(__dirname, "../../policy/policies.ts"), "utf8");
        expect(policies).not.toMatch(/^import \{[^}]*\} from "@pulumi\/policy"/m);
        expect(policies).not.toContain("new PolicyPack");
    });
});
