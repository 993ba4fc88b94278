import { describe, expect, it } from "vitest";
import { checkedSubnetId } from "../../infra/aws/network";
import { AwsServer, checkAwsServerConfig } from "../../infra/aws/server";
import { ConfigError } from "../../infra/config/errors";
import { all, one } from "./support/awsMocks";
import { buildAwsServer, prodConfig } from "./support/stack";

const KEY = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555";

describe("restore path: aws.data_volume.snapshot_id", () => {
    it("creates the data volume from the snapshot, still protected, and renders the new volume id into the host", async () => {
        const cfg = prodConfig({ aws: { data_volume: { size_gb: 200, iops: 3000, throughput: 250, device_name: "/dev/sdf", snapshot_id: "snap-0123456789abcdef0" } } });
        const { resources, outputs } = await buildAwsServer(cfg, {}, "restore");
        const volume = one(resources, "aws:ebs/volume:Volume");
        expect(volume.inputs.snapshotId).toBe("snap-0123456789abcdef0");
        expect(volume.options).toMatchObject({ protect: true, retainOnDelete: true });
        const instance = one(resources, "aws:ec2/instance:Instance");
        expect(instance.inputs.userData).toContain(`readonly VOLUME_ID='${outputs.dataVolumeId}'`);
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
                instance: { type: "m7i.large", ami_parameter: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64:61", ami_owners: ["amazon"], root_volume_gb: 20 },
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
        const kms = one(resources, "aws:iam/rolePolicy:RolePolicy");
        expect(JSON.parse(kms.inputs.policy).Statement[0].Resource).toBe(KEY);
    });
});

describe("deploy-time cross-checks", () => {
    const configured = { id: "subnet-0a1b2c3d4e5f60718", az: "eu-west-1a" };
    it("accepts the subnet AWS reports when AZ and VPC agree with config", () => {
        expect(checkedSubnetId({ id: configured.id, availabilityZone: "eu-west-1a", vpcId: "vpc-0abc1234def567890" }, configured, "vpc-0abc1234def567890")).toBe(configured.id);
    });

    it("fails when AWS says the subnet is in another AZ than config", () => {
        expect(() => checkedSubnetId({ id: configured.id, availabilityZone: "eu-west-1b", vpcId: "vpc-0abc1234def567890" }, configured, "vpc-0abc1234def567890")).toThrow(
            "inner-universe:aws.subnet.az: subnet-0a1b2c3d4e5f60718 is in eu-west-1b, config says eu-west-1a",
        );
    });

    it("fails when the subnet is not in the configured VPC", () => {
        expect(() => checkedSubnetId({ id: configured.id, availabilityZone: "eu-west-1a", vpcId: "vpc-0fed9876cba543210" }, configured, "vpc-0abc1234def567890")).toThrow(
            "is in vpc-0fed9876cba543210, not in vpc-0abc1234def567890",
        );
    });

    it("refuses acme without a pinned Caddy and alb without its section, naming the key, before registering anything", () => {
        const noCaddy = prodConfig();
        delete (noCaddy.aws as { caddy_binary?: unknown }).caddy_binary;
        expect(() => checkAwsServerConfig(noCaddy)).toThrow(ConfigError);
        expect(() => new AwsServer("no-caddy", { cfg: noCaddy })).toThrow(/inner-universe:aws.caddy_binary: required for tls.mode acme/);
        const noAlb = { ...prodConfig(), tls: { ...prodConfig().tls, mode: "alb" as const } };
        expect(() => new AwsServer("no-alb", { cfg: noAlb })).toThrow(/inner-universe:aws.alb: required for tls.mode alb/);
    });
});

describe("alarm subscriptions", () => {
    it("adds an HTTPS endpoint subscription when configured, and keeps us-east-1 alarms on a us-east-1 topic", async () => {
        const cfg = prodConfig({ aws: { alarms: { email: "oncall@inner-universe.example", https_endpoint: "https://events.example.com/hook", cpu_percent: 80, memory_percent: 85, disk_percent: 75 } } });
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
