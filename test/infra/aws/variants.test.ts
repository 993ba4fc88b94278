import { describe, expect, it } from "vitest";
import { checkAwsServerConfig } from "../../../infra/aws/hostSpec";
import { subnetProblem } from "../../../infra/aws/network";
import { AwsServer } from "../../../infra/aws/server";
import type { StackConfigFor } from "../../../infra/config";
import { parseStackConfig } from "../../../infra/config";
import { ConfigError } from "../../../infra/config/errors";
import { ACME_DIRECTORY, drillOverrides, mergeConfig, pulumiConfigMap } from "../../../ops/drill/host/overrides";
import { ACCOUNT, all, one } from "../../support/awsMocks";
import { ALB_SECTION } from "../../support/awsSpecs";
import { buildAwsServer, prodConfig } from "../../support/awsStack";
import { stackFileConfig } from "../../support/stackFiles";
import { expandUserData } from "../../support/userData";

const KEY = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555";

describe("restore path: aws.data_volume.snapshot_id", () => {
    it("creates the data volume from the snapshot, still protected, and renders the new volume id into the host", async () => {
        const cfg = prodConfig({ aws: { data_volume: { size_gb: 200, iops: 3000, throughput: 250, device_name: "/dev/sdf", snapshot_id: "snap-0123456789abcdef0" } } });
        const { resources, outputs } = await buildAwsServer(cfg, {}, "restore");
        const volume = one(resources, "aws:ebs/volume:Volume");
        expect(volume.inputs.snapshotId).toBe("snap-0123456789abcdef0");
        expect(volume.options).toMatchObject({ protect: true, retainOnDelete: true });
        const instance = one(resources, "aws:ec2/instance:Instance");
        expect(expandUserData(instance.inputs.userData)).toContain(`readonly VOLUME_ID='${outputs.dataVolumeId}'`);
        // A new volume id changes user data, which replaces the host instead of patching it in place.
        expect(instance.inputs.userDataReplaceOnChange).toBe(true);
    });
});

describe("an unprotected stack (staging) in a configured VPC with a customer key and cross-region copies", () => {
    it("drops protect/retain and termination protection, uses the VPC, key and a scoped KMS grant for DLM", async () => {
        const cfg = prodConfig({
            stack: "staging",
            protect: { data: false },
            aws: {
                vpc_id: "vpc-0abc1234def567890",
                data_volume: { size_gb: 50, iops: 3000, throughput: 125, device_name: "/dev/sdf", kms_key_id: KEY },
                instance: {
                    type: "m7i.large",
                    ami_parameter: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64:61",
                    ami_owners: ["amazon"],
                    root_volume_gb: 20,
                },
            },
        });
        const { resources, invokes } = await buildAwsServer(cfg, { subnetVpc: "vpc-0abc1234def567890" }, "staging");
        expect(invokes.some((i) => i.token === "aws:ec2/getVpc:getVpc")).toBe(false);
        expect(one(resources, "aws:ec2/securityGroup:SecurityGroup").inputs.vpcId).toBe("vpc-0abc1234def567890");
        const volume = one(resources, "aws:ebs/volume:Volume");
        expect(volume.options.protect).toBe(false);
        expect(volume.options.retainOnDelete).toBe(false);
        expect(volume.inputs).toMatchObject({ kmsKeyId: KEY, encrypted: true, finalSnapshot: true, tags: { "inner-universe:snapshot": "staging" } });
        const instance = one(resources, "aws:ec2/instance:Instance");
        expect(instance.inputs.disableApiTermination).toBe(false);
        expect(instance.inputs.rootBlockDevice.kmsKeyId).toBe(KEY);
        // A versioned parameter is an explicit pin: changing it must roll the host, so no ignoreChanges.
        expect(instance.options.ignoreChanges).toEqual([]);
        expect(invokes.find((i) => i.token === "aws:ssm/getParameter:getParameter")!.args.name).toMatch(/:61$/);
        // The named key serves the volume; the copies get a key of the stack's own in their region, kept even here.
        const copyKey = one(resources, "aws:kms/key:Key");
        expect([copyKey.name, copyKey.inputs.region, copyKey.options.protect, copyKey.options.retainOnDelete]).toEqual(["staging-copy-key-key", "eu-central-1", false, true]);
        const copyKeyArn = one(resources, "aws:dlm/lifecyclePolicy:LifecyclePolicy").inputs.policyDetails.schedules[0].crossRegionCopyRules[0].cmkArn;
        expect(copyKeyArn).toBe(`arn:aws:kms:eu-central-1:${ACCOUNT}:key/${one(resources, "aws:kms/alias:Alias").inputs.targetKeyId}`);
        const kms = one(resources, "aws:iam/rolePolicy:RolePolicy");
        expect(JSON.parse(kms.inputs.policy).Statement[0].Resource).toEqual([KEY, copyKeyArn]);
    });
});

describe("data_volume.kms_key_id: account_default (a stack whose volume predates the stack's own key)", () => {
    it("makes no key, leaves the volume and its copies on the default EBS keys, and gives DLM no KMS rights", async () => {
        const base = prodConfig();
        const cfg = prodConfig({ aws: { data_volume: { ...base.aws.data_volume, kms_key_id: "account_default" } } });
        const { resources } = await buildAwsServer(cfg, {}, "legacy");
        expect(all(resources, "aws:kms/key:Key")).toEqual([]);
        const volume = one(resources, "aws:ebs/volume:Volume");
        expect(volume.inputs.encrypted).toBe(true);
        expect(volume.inputs).not.toHaveProperty("kmsKeyId");
        expect(one(resources, "aws:ec2/instance:Instance").inputs.rootBlockDevice.kmsKeyId).toBeUndefined();
        const rule = one(resources, "aws:dlm/lifecyclePolicy:LifecyclePolicy").inputs.policyDetails.schedules[0].crossRegionCopyRules[0];
        expect(rule).toMatchObject({ target: "eu-central-1", encrypted: true });
        expect(rule).not.toHaveProperty("cmkArn");
        expect(all(resources, "aws:iam/rolePolicy:RolePolicy")).toEqual([]);
    });
});

describe("deploy-time cross-checks", () => {
    const configured = { id: "subnet-0a1b2c3d4e5f60718", az: "eu-west-1a" };
    it("accepts the subnet AWS reports when AZ and VPC agree with config", () => {
        expect(subnetProblem({ availabilityZone: "eu-west-1a", vpcId: "vpc-0abc1234def567890" }, configured, "vpc-0abc1234def567890")).toBeUndefined();
    });

    it("fails when AWS says the subnet is in another AZ than config", () => {
        expect(subnetProblem({ availabilityZone: "eu-west-1b", vpcId: "vpc-0abc1234def567890" }, configured, "vpc-0abc1234def567890")).toBe(
            "inner-universe:aws.subnet.az: subnet-0a1b2c3d4e5f60718 is in eu-west-1b, config says eu-west-1a",
        );
    });

    it("fails when the subnet is not in the configured VPC", () => {
        expect(subnetProblem({ availabilityZone: "eu-west-1a", vpcId: "vpc-0fed9876cba543210" }, configured, "vpc-0abc1234def567890")).toBe(
            "inner-universe:aws.subnet.id: subnet-0a1b2c3d4e5f60718 is in vpc-0fed9876cba543210, not in vpc-0abc1234def567890",
        );
    });

    it("refuses acme without a pinned Caddy and alb without its section, naming the key, before registering anything", () => {
        const noCaddy = prodConfig();
        delete (noCaddy.aws as { caddy_binary?: unknown }).caddy_binary;
        expect(() => checkAwsServerConfig(noCaddy)).toThrow(ConfigError);
        expect(() => new AwsServer("no-caddy", { cfg: noCaddy })).toThrow(/inner-universe:aws.caddy_binary: required for tls.mode acme/);
        // Past the schema (which refuses it too): the component's own check, on a hand-made config.
        const noAlb = { ...prodConfig(), tls: { ...prodConfig().tls, mode: "alb" as const } } as StackConfigFor<"aws">;
        expect(() => new AwsServer("no-alb", { cfg: noAlb })).toThrow(/inner-universe:aws.alb: required for tls.mode alb/);
        // The section's own rules too (a Debian host needs the agent's .deb), through the same check.
        const noAgent = { ...prodConfig(), aws: { ...prodConfig().aws, instance: { ...prodConfig().aws.instance, os: "debian" as const } } } as StackConfigFor<"aws">;
        expect(() => new AwsServer("no-agent", { cfg: noAgent })).toThrow(/inner-universe:aws.cloudwatch_agent_deb: required for instance.os debian/);
    });
});

describe("alarm subscriptions", () => {
    it("adds an HTTPS endpoint subscription when configured, and keeps us-east-1 alarms on a us-east-1 topic", async () => {
        const cfg = prodConfig({
            aws: { alarms: { email: "oncall@inner-universe.example", https_endpoint: "https://events.example.com/hook", cpu_percent: 80, memory_percent: 85, disk_percent: 75 } },
        });
        const { resources } = await buildAwsServer(cfg, {}, "hooks");
        const subs = all(resources, "aws:sns/topicSubscription:TopicSubscription").map((s) => [s.inputs.protocol, s.inputs.endpoint, s.inputs.region ?? "home"]);
        expect(subs.sort()).toEqual(
            [
                ["email", "oncall@inner-universe.example", "home"],
                ["email", "oncall@inner-universe.example", "us-east-1"],
                ["https", "https://events.example.com/hook", "home"],
                ["https", "https://events.example.com/hook", "us-east-1"],
            ].sort(),
        );
    });
});

const DEBIAN_INSTANCE = { type: "r7i.large", os: "debian", ami_parameter: "/aws/service/debian/release/bookworm/latest/amd64", ami_owners: ["136693071363"], root_volume_gb: 20 };
const AGENT_DEB = { url: "https://amazoncloudwatch-agent-eu-west-1.s3.eu-west-1.amazonaws.com/debian/amd64/1.300057.1b1167/amazon-cloudwatch-agent.deb", sha256: "c".repeat(64) };

describe("a Debian host (aws.instance.os debian)", () => {
    it("resolves the AMI from Debian's parameter and publisher, and renders an apt bootstrap with the pinned agent .deb", async () => {
        const cfg = prodConfig({ stack: "debian", aws: { instance: DEBIAN_INSTANCE, cloudwatch_agent_deb: AGENT_DEB } });
        const { resources, invokes } = await buildAwsServer(cfg, {}, "debian");
        expect(invokes.find((i) => i.token === "aws:ssm/getParameter:getParameter")!.args.name).toBe("/aws/service/debian/release/bookworm/latest/amd64");
        expect(invokes.find((i) => i.token === "aws:ec2/getAmi:getAmi")!.args.owners).toEqual(["136693071363"]);
        const userData = one(resources, "aws:ec2/instance:Instance").inputs.userData as string;
        const script = expandUserData(userData);
        expect(script).toContain("readonly HOST_OS='debian'");
        expect(script).toContain(`readonly CW_AGENT_DEB_URL='${AGENT_DEB.url}'`);
        expect(script).toContain(`readonly CW_AGENT_DEB_SHA256='${AGENT_DEB.sha256}'`);
        expect(Buffer.byteLength(userData)).toBeLessThan(16 * 1024);
    });

    const problems = (over: Parameters<typeof prodConfig>[0]) => {
        try {
            prodConfig(over);
        } catch (e) {
            expect(e).toBeInstanceOf(ConfigError);
            return (e as ConfigError).problems.join("\n");
        }
        throw new Error("config was accepted");
    };
    it.each([
        ["no agent package", { aws: { instance: DEBIAN_INSTANCE } }, "inner-universe:aws.cloudwatch_agent_deb: required for instance.os debian"],
        [
            "an Amazon Linux parameter",
            { aws: { instance: { ...DEBIAN_INSTANCE, ami_parameter: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64" }, cloudwatch_agent_deb: AGENT_DEB } },
            "inner-universe:aws.instance.ami_parameter: instance.os is debian: name a Debian parameter",
        ],
        [
            "Amazon as the AMI owner",
            { aws: { instance: { ...DEBIAN_INSTANCE, ami_owners: ["amazon"] }, cloudwatch_agent_deb: AGENT_DEB } },
            'inner-universe:aws.instance.ami_owners: Debian publishes its AMIs from account 136693071363; set ami_owners: ["136693071363"]',
        ],
        [
            "an arm64 agent on an x86 instance",
            { aws: { instance: DEBIAN_INSTANCE, cloudwatch_agent_deb: { ...AGENT_DEB, url: AGENT_DEB.url.replace("amd64", "arm64") } } },
            "inner-universe:aws.cloudwatch_agent_deb.url: is an arm64 build but r7i.large is x86_64",
        ],
        [
            "a Debian parameter on al2023",
            { aws: { instance: { ...DEBIAN_INSTANCE, os: "al2023" } } },
            "inner-universe:aws.instance.ami_parameter: is a Debian image, not an Amazon Linux 2023 SSM public parameter; for a Debian host set instance.os: debian",
        ],
        [
            "acme_ca outside acme mode",
            { tls: { mode: "alb", acme_ca: "https://acme-staging-v02.api.letsencrypt.org/directory" }, aws: { alb: ALB_SECTION } },
            "inner-universe:tls.acme_ca: only used by tls.mode acme (tls.mode is alb); remove it",
        ],
        ["a plain-http ACME directory", { tls: { acme_ca: "http://acme.example/directory" } }, "inner-universe:tls.acme_ca: expected an https:// ACME directory URL"],
    ] as const)("refuses %s, naming the key and the fix", (_, over, message) => {
        expect(problems(over as Parameters<typeof prodConfig>[0])).toContain(message);
    });
});

describe("the drill's stack config (ops/drill/host/overrides.ts)", () => {
    const assets = {
        server: { url: "https://mirror.drill.test/clockworklabs/SpacetimeDB/releases/download/v1.2.0/spacetime-x86_64-unknown-linux-gnu.tar.gz", sha256: "a".repeat(64) },
        caddy: { url: "https://mirror.drill.test/caddyserver/caddy/releases/download/v2.6.2/caddy_2.6.2_linux_amd64.tar.gz", sha256: "b".repeat(64) },
        cloudwatchAgentDeb: { url: "https://mirror.drill.test/amazoncloudwatch-agent/debian/amd64/iu-drill-cloudwatch-agent-standin_1.0_amd64.deb", sha256: "c".repeat(64) },
        acmeDirectory: ACME_DIRECTORY,
        deployCidrs: ["172.18.0.1/32"],
    };
    it("merges objects key by key and replaces arrays and scalars", () => {
        expect(mergeConfig({ a: { b: 1, c: [1, 2], d: { e: 1 } }, f: "x" }, { a: { c: [3], d: { g: 2 } }, f: "y" })).toEqual({ a: { b: 1, c: [3], d: { e: 1, g: 2 } }, f: "y" });
        expect(pulumiConfigMap({ runtime: "aws", tls: { mode: "acme" } })).toEqual({ "inner-universe:runtime": "aws", "inner-universe:tls": '{"mode":"acme"}' });
    });
    it("is Pulumi.prod.yaml changed only where the drill must: downloads, OS, ACME directory, deploy address", () => {
        const prod = stackFileConfig("prod") as Record<string, any>;
        const merged = mergeConfig(prod, drillOverrides(assets)) as Record<string, any>;
        const cfg = parseStackConfig(merged, { stack: "prod", projectRoot: "/repo" });
        expect(cfg.aws!.instance).toMatchObject({ os: "debian", type: prod.aws.instance.type, root_volume_gb: prod.aws.instance.root_volume_gb });
        expect(cfg.tls).toMatchObject({ mode: "acme", domain: prod.tls.domain, acme_ca: ACME_DIRECTORY });
        expect(cfg.aws!.deploy_cidrs).toEqual(["172.18.0.1/32"]);
        expect(cfg.aws!.client_cidrs).toEqual(prod.aws.client_cidrs);
        expect(cfg.aws!.data_volume).toEqual({ ...prod.aws.data_volume });
        expect(cfg.protect.data).toBe(true);
        expect(cfg.aws!.server_binary).toEqual({ ...assets.server, command: "standalone" });
    });
});
