import { beforeAll, describe, expect, it } from "vitest";
import { alarmSpecs } from "../../../infra/aws/alarmSpecs";
import { dataKeyPolicy } from "../../../infra/aws/dataKey";
import { hostSpec } from "../../../infra/aws/hostSpec";
import { alarmInputs } from "../../../infra/aws/monitoring";
import { renderUserData } from "../../../infra/aws/render/cloudInit";
import { DATA_FSTYPE, SNAPSHOT_TAG_KEY } from "../../../infra/aws/render/constants";
import { type CwAgentConfig, emittedMetric, emittedStdbMetric, renderCwAgentConfig, STDB_NAMESPACE } from "../../../infra/aws/render/cwAgentConfig";
import type { StackConfigFor } from "../../../infra/config/load";
import { noSecretsInPlainParameters, runPoliciesOver } from "../../../policy/policies";
import { ACCOUNT, type AwsCaptured, all, DEFAULT_VPC, type Invoke, one } from "../../support/awsMocks";
import { buildAwsServer, prodConfig } from "../../support/awsStack";
import { expandUserData } from "../../support/userData";

let cfg: StackConfigFor<"aws">;
let resources: AwsCaptured[];
let invokes: Invoke[];
let outputs: Awaited<ReturnType<typeof buildAwsServer>>["outputs"];

beforeAll(async () => {
    cfg = prodConfig();
    const built = await buildAwsServer(cfg);
    resources = built.resources;
    invokes = built.invokes;
    outputs = built.outputs;
});

const N = "inner-universe-aws";
const HOST_SG = "sg-00000000000000001";
const byName = (name: string) => {
    const r = resources.find((x) => x.name === name);
    if (!r) throw new Error(`no ${name}: ${resources.map((x) => x.name).join(", ")}`);
    return r;
};
const invoked = (token: string) => invokes.filter((i) => i.token === token);
const instance = () => one(resources, "aws:ec2/instance:Instance");
const volume = () => one(resources, "aws:ebs/volume:Volume");
const alarm = (suffix: string) => byName(`${N}-mon-${suffix}`);
const topicArn = (name: string) => `arn:aws:sns:eu-west-1:${ACCOUNT}:${name}`;
/** The ARN of one of the stack's DataKeys, found through its alias (which names the key by id). */
const keyArn = (component: string, region: string) => `arn:aws:kms:${region}:${ACCOUNT}:key/${byName(`${N}-${component}-alias`).inputs.targetKeyId}`;

describe("AwsServer outputs", () => {
    it("exposes the public, websocket and admin URLs on the domain, and the ids", () => {
        expect(outputs).toMatchObject({
            publicUrl: "https://db.inner-universe.example",
            wsUrl: "wss://db.inner-universe.example",
            adminUrl: "https://db.inner-universe.example",
            instanceId: expect.stringMatching(/^i-/),
            dataVolumeId: expect.stringMatching(/^vol-/),
            alarmTopicArn: topicArn(`${N}-mon-alarms`),
            dnsTarget: "198.51.100.10",
        });
    });

    it("is one component per concept, each resource under its component", () => {
        const components = resources.filter((r) => r.type.startsWith("inner-universe:aws:"));
        expect(components.map((c) => [c.type, c.name, c.options.parent])).toEqual(
            expect.arrayContaining([
                ["inner-universe:aws:Server", N, ""],
                ["inner-universe:aws:Network", `${N}-net`, N],
                ["inner-universe:aws:DataVolume", `${N}-data`, N],
                ["inner-universe:aws:Host", `${N}-host`, N],
                ["inner-universe:aws:Monitoring", `${N}-mon`, N],
                ["inner-universe:aws:Backups", `${N}-backup`, N],
                ["inner-universe:aws:DataKey", `${N}-data-key`, N],
                ["inner-universe:aws:DataKey", `${N}-copy-key`, N],
            ]),
        );
        expect(components).toHaveLength(8);
        for (const r of resources.filter((x) => x.type.startsWith("aws:"))) {
            expect(r.name.startsWith(`${N}-`), r.name).toBe(true);
            expect(r.options.parent, r.name).toMatch(new RegExp(`^${N}(-net|-data|-data-key|-copy-key|-host|-mon|-backup)?$`));
        }
    });

    it("deploys through one explicit provider in the configured region with default tags", () => {
        const provider = one(resources, "pulumi:providers:aws");
        expect(provider.inputs.region).toBe("eu-west-1");
        expect(JSON.parse(provider.inputs.defaultTags)).toEqual({ tags: { Project: "inner-universe", Stack: "prod", Environment: "prod", ManagedBy: "pulumi" } });
    });
});

describe("network and access", () => {
    it("looks up the default VPC only because no vpc_id is configured, and the configured subnet", () => {
        expect(invoked("aws:ec2/getVpc:getVpc").map((i) => i.args)).toEqual([{ default: true }]);
        expect(invoked("aws:ec2/getSubnet:getSubnet").map((i) => i.args)).toEqual([{ id: "subnet-0a1b2c3d4e5f60718" }]);
    });

    it("has one host security group, no inline rules", () => {
        const sg = one(resources, "aws:ec2/securityGroup:SecurityGroup");
        expect(sg.inputs.vpcId).toBe(DEFAULT_VPC);
        expect(sg.inputs.ingress).toBeUndefined();
        expect(sg.inputs.egress).toBeUndefined();
        expect(sg.inputs.revokeRulesOnDelete).toBe(true);
    });

    it("admits exactly 443 from the client/deploy networks and 80 for ACME, nothing else (no SSH)", () => {
        const rules = all(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map((r) => ({
            port: [r.inputs.fromPort, r.inputs.toPort],
            proto: r.inputs.ipProtocol,
            cidr: r.inputs.cidrIpv4,
            group: r.inputs.securityGroupId,
        }));
        // 203.0.113.0/28 (deploy) is inside 0.0.0.0/0 (clients): one rule covers both.
        expect(rules).toEqual([
            { port: [443, 443], proto: "tcp", cidr: "0.0.0.0/0", group: HOST_SG },
            { port: [80, 80], proto: "tcp", cidr: "0.0.0.0/0", group: HOST_SG },
        ]);
        expect(rules.some((r) => r.port[0]! <= 22 && 22 <= r.port[1]!)).toBe(false);
    });

    it("allows egress on 443 only", () => {
        const egress = all(resources, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule");
        expect(egress.map((r) => [r.inputs.ipProtocol, r.inputs.fromPort, r.inputs.toPort, r.inputs.cidrIpv4])).toEqual([["tcp", 443, 443, "0.0.0.0/0"]]);
    });
});

describe("host", () => {
    it("resolves the AMI from the pinned SSM public parameter and checks its owners", () => {
        const param = invoked("aws:ssm/getParameter:getParameter");
        expect(param.map((i) => i.args.name)).toEqual(["/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"]);
        const ami = invoked("aws:ec2/getAmi:getAmi");
        expect(ami.map((i) => i.args)).toEqual([{ owners: ["amazon"], filters: [{ name: "image-id", values: ["ami-0a1b2c3d4e5f60718"] }] }]);
        expect(instance().inputs.ami).toBe("ami-0a1b2c3d4e5f60718");
    });

    it("freezes a floating AMI parameter so new AWS releases never replace the host", () => {
        expect(instance().options.ignoreChanges).toEqual(["ami"]);
    });

    it("is an EBS-optimised, monitored, auto-recovering, termination-protected instance pinned to the subnet's AZ", () => {
        expect(instance().inputs).toMatchObject({
            instanceType: "r7i.large",
            availabilityZone: "eu-west-1a",
            subnetId: "subnet-0a1b2c3d4e5f60718",
            vpcSecurityGroupIds: [HOST_SG],
            associatePublicIpAddress: false,
            ebsOptimized: true,
            monitoring: true,
            maintenanceOptions: { autoRecovery: "default" },
            disableApiTermination: true,
            forceDestroy: true,
            userDataReplaceOnChange: true,
        });
        expect(instance().inputs.keyName).toBeUndefined();
    });

    it("requires IMDSv2 and encrypts its gp3 root volume", () => {
        expect(instance().inputs.metadataOptions).toEqual({ httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1, instanceMetadataTags: "disabled" });
        expect(instance().inputs.rootBlockDevice).toEqual({ volumeType: "gp3", volumeSize: 20, encrypted: true, deleteOnTermination: true });
    });

    it("has an instance profile with the SSM and CloudWatch agent managed policies only", () => {
        const role = byName(`${N}-host-role`);
        expect(JSON.parse(role.inputs.assumeRolePolicy)).toEqual({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
        });
        expect(role.inputs.inlinePolicies).toBeUndefined();
        expect(role.inputs.managedPolicyArns).toBeUndefined();
        const attached = all(resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((a) => a.inputs.role === role.name);
        expect(attached.map((a) => a.inputs.policyArn).sort()).toEqual([
            "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
            "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
        ]);
        expect(all(resources, "aws:iam/rolePolicy:RolePolicy").filter((p) => p.inputs.role === role.name)).toEqual([]);
        expect(byName(`${N}-host-profile`).inputs.role).toBe(role.name);
        expect(instance().inputs.iamInstanceProfile).toBe(`${N}-host-profile`);
    });

    it("gets a stable Elastic IP before the data volume arrives", () => {
        const eip = byName(`${N}-host-eip`);
        expect(eip.inputs.domain).toBe("vpc");
        // Releasing the address would move what DNS points at: protected with the data (FSBP sweep, docs/aws.md).
        expect(cfg.protect.data).toBe(true);
        expect(eip.options.protect).toBe(true);
        const assoc = byName(`${N}-host-eip-association`);
        expect(assoc.inputs).toMatchObject({ instanceId: outputs.instanceId, allocationId: "eipalloc-00000000000000001" });
        expect(byName(`${N}-host-data-attachment`).options.dependencies).toContain(`${N}-host-eip-association`);
    });
});

describe("data volume", () => {
    it("is a separate encrypted gp3 volume sized from config, in the host's AZ, tagged for snapshots", () => {
        expect(volume().inputs).toEqual({
            availabilityZone: "eu-west-1a",
            size: 200,
            type: "gp3",
            iops: 3000,
            throughput: 250,
            encrypted: true,
            kmsKeyId: keyArn("data-key", "eu-west-1"),
            finalSnapshot: true,
            tags: { Name: `${N}-data`, [SNAPSHOT_TAG_KEY]: "prod", "inner-universe:role": "spacetimedb-root" },
        });
        expect(volume().inputs.availabilityZone).toBe(instance().inputs.availabilityZone);
    });

    it("is encrypted with a rotating customer key of the stack's own, protected like the volume and kept by destroy", () => {
        const key = byName(`${N}-data-key-key`);
        expect(key.inputs).toMatchObject({ enableKeyRotation: true, deletionWindowInDays: 30 });
        expect(key.inputs.region).toBeUndefined();
        expect(JSON.parse(key.inputs.policy)).toEqual(dataKeyPolicy({ partition: "aws", accountId: ACCOUNT }));
        // Snapshots outlive the volume and the stack; without their key they cannot be restored.
        for (const r of [key, byName(`${N}-data-key-alias`)]) expect([r.options.protect, r.options.retainOnDelete], r.name).toEqual([true, true]);
        expect(byName(`${N}-data-key-alias`).inputs.name).toBe("alias/inner-universe-prod-data-eu-west-1");
        // The root holds no data: it stays on the account's default key unless the config names one.
        expect(instance().inputs.rootBlockDevice.kmsKeyId).toBeUndefined();
    });

    it("cannot be deleted by destroy: protect AND retainOnDelete, as the engine is told", () => {
        expect(volume().options.protect).toBe(true);
        expect(volume().options.retainOnDelete).toBe(true);
    });

    it("is attached by a VolumeAttachment that stops the old host before detaching and detaches before re-attaching", () => {
        const att = one(resources, "aws:ec2/volumeAttachment:VolumeAttachment");
        expect(att.inputs).toEqual({ instanceId: outputs.instanceId, volumeId: outputs.dataVolumeId, deviceName: "/dev/sdf", stopInstanceBeforeDetaching: true });
        expect(att.options.deleteBeforeReplace).toBe(true);
    });
});

describe("bootstrap user data", () => {
    it("is exactly the pure renderer's output for this config and volume", () => {
        expect(instance().inputs.userData).toBe(renderUserData(hostSpec(cfg, outputs.dataVolumeId)));
    });

    it("finds the volume by its id, installs the pinned server and Caddy, configures the agent from SSM", () => {
        const ud: string = expandUserData(instance().inputs.userData);
        expect(ud).toContain(`readonly VOLUME_ID='${outputs.dataVolumeId}'`);
        expect(ud).toContain("nvme-Amazon_Elastic_Block_Store_${VOLUME_ID//-/}");
        expect(ud).toContain("readonly STDB_URL='https://github.com/clockworklabs/SpacetimeDB/releases/download/v1.2.0/spacetime-x86_64-unknown-linux-gnu.tar.gz'");
        expect(ud).toContain("readonly CADDY_URL='https://github.com/caddyserver/caddy/releases/download/v2.10.2/caddy_2.10.2_linux_amd64.tar.gz'");
        expect(ud).toContain("readonly FRONT='acme'");
        expect(ud).toContain("readonly CW_AGENT_PARAMETER='AmazonCloudWatch-inner-universe-prod'");
        expect(ud).toContain("--listen-addr 127.0.0.1:3000");
        expect(ud).toContain("KillSignal=SIGINT");
    });
});

describe("monitoring", () => {
    const agentParameter = () => byName(`${N}-mon-cwagent-config`);
    const agentConfig = (): CwAgentConfig => JSON.parse(agentParameter().inputs.insecureValue);

    it("has an alarm topic with the configured e-mail subscription, in the home region and in us-east-1", () => {
        const topics = all(resources, "aws:sns/topic:Topic");
        expect(topics.map((t) => [t.name, t.inputs.region])).toEqual(
            expect.arrayContaining([
                [`${N}-mon-alarms`, undefined],
                [`${N}-mon-alarms-us-east-1`, "us-east-1"],
            ]),
        );
        const subs = all(resources, "aws:sns/topicSubscription:TopicSubscription");
        expect(subs.map((s) => [s.inputs.topic, s.inputs.protocol, s.inputs.endpoint, s.inputs.region])).toEqual(
            expect.arrayContaining([
                [topicArn(`${N}-mon-alarms`), "email", "oncall@inner-universe.example", undefined],
                [`arn:aws:sns:us-east-1:${ACCOUNT}:${N}-mon-alarms-us-east-1`, "email", "oncall@inner-universe.example", "us-east-1"],
            ]),
        );
    });

    it("stores the agent config in an AmazonCloudWatch-* parameter, the rendered config exactly", () => {
        expect(agentParameter().inputs).toMatchObject({ name: "AmazonCloudWatch-inner-universe-prod", type: "String" });
        expect(agentConfig()).toEqual(
            renderCwAgentConfig({
                mount: "/stdb",
                logGroupName: "/inner-universe/prod/host",
                caddyAccessLog: true,
                prometheus: { logGroupName: "/inner-universe/prod/prometheus", environment: cfg.environment },
            }),
        );
    });

    it("keeps it a String shown in every preview (insecureValue): it holds no secret, which the plain-parameter rule checks", () => {
        expect(agentParameter().inputs).not.toHaveProperty("value");
        expect(agentParameter().secretInputs).not.toContain("insecureValue");
        expect(runPoliciesOver([agentParameter()], { protectData: true }, [noSecretsInPlainParameters])).toEqual([]);
        // The rule does look at this parameter: the same config with a credential in it fails.
        const leaked = {
            ...agentParameter(),
            inputs: { ...agentParameter().inputs, insecureValue: agentParameter().inputs.insecureValue.replace("{", '{"aws_access_key_id":"AKIAABCDEFGHIJKLMNOP",') },
        };
        expect(runPoliciesOver([leaked], { protectData: true }, [noSecretsInPlainParameters]).map((v) => v.policy)).toEqual(["ssm-plain-parameters-no-secrets"]);
    });

    it("applies it with an association on targets (not instanceId) running AmazonCloudWatch-ManageAgent", () => {
        const assoc = byName(`${N}-mon-cwagent`);
        expect(assoc.inputs).toMatchObject({
            name: "AmazonCloudWatch-ManageAgent",
            targets: [{ key: "InstanceIds", values: [outputs.instanceId] }],
            parameters: {
                action: "configure",
                mode: "ec2",
                optionalConfigurationSource: "ssm",
                optionalConfigurationLocation: "AmazonCloudWatch-inner-universe-prod",
                optionalRestart: "yes",
            },
        });
        expect(assoc.inputs.instanceId).toBeUndefined();
        expect(assoc.inputs.associationName).toMatch(/^inner-universe-prod-cwagent-[0-9a-f]{12}$/);
    });

    it("scans the host's patch compliance daily without installing anything (FSBP SSM.2)", () => {
        const associations = all(resources, "aws:ssm/association:Association");
        expect(associations.map((a) => a.name).sort()).toEqual([`${N}-mon-cwagent`, `${N}-mon-patch-scan`]);
        expect(byName(`${N}-mon-patch-scan`).inputs).toMatchObject({
            name: "AWS-RunPatchBaseline",
            targets: [{ key: "InstanceIds", values: [outputs.instanceId] }],
            parameters: { Operation: "Scan" },
            scheduleExpression: "rate(1 day)",
        });
    });

    it("ships logs (and the scraped SpacetimeDB series) to log groups with the configured retention", () => {
        expect(all(resources, "aws:cloudwatch/logGroup:LogGroup").map((g) => g.inputs)).toEqual([
            { name: "/inner-universe/prod/host", retentionInDays: 90 },
            { name: "/inner-universe/prod/prometheus", retentionInDays: 90 },
        ]);
        expect(new Set(agentConfig().logs.logs_collected.files.collect_list.map((f) => f.log_group_name))).toEqual(new Set(["/inner-universe/prod/host"]));
        expect(agentConfig().logs.metrics_collected?.prometheus.log_group_name).toBe("/inner-universe/prod/prometheus");
    });

    it("has no customer key unless aws.customer_key (the AWS-managed keys encrypt topics and logs)", () => {
        expect(all(resources, "aws:kms/key:Key").filter((k) => k.name.startsWith(`${N}-mon-`))).toEqual([]);
        for (const t of all(resources, "aws:sns/topic:Topic")) expect(t.inputs.kmsMasterKeyId, t.name).toBeUndefined();
    });

    it("recovers the instance on a system status failure and notifies", () => {
        expect(alarm("system-status").inputs).toMatchObject({
            namespace: "AWS/EC2",
            metricName: "StatusCheckFailed_System",
            dimensions: { InstanceId: outputs.instanceId },
            alarmActions: ["arn:aws:automate:eu-west-1:ec2:recover", topicArn(`${N}-mon-alarms`)],
            okActions: [topicArn(`${N}-mon-alarms`)],
            comparisonOperator: "GreaterThanOrEqualToThreshold",
            threshold: 1,
        });
    });

    it("reboots the instance on an instance status failure and notifies", () => {
        expect(alarm("instance-status").inputs).toMatchObject({
            metricName: "StatusCheckFailed_Instance",
            dimensions: { InstanceId: outputs.instanceId },
            alarmActions: ["arn:aws:automate:eu-west-1:ec2:reboot", topicArn(`${N}-mon-alarms`)],
        });
    });

    it("watches CPU and memory at the configured thresholds", () => {
        expect(alarm("cpu").inputs).toMatchObject({ namespace: "AWS/EC2", metricName: "CPUUtilization", threshold: 80, dimensions: { InstanceId: outputs.instanceId } });
        expect(alarm("memory").inputs).toMatchObject({ namespace: "CWAgent", metricName: "mem_used_percent", threshold: 85, dimensions: { InstanceId: outputs.instanceId } });
    });

    it("watches /stdb disk with exactly the dimensions the agent config makes the agent emit", () => {
        const disk = alarm("disk").inputs;
        const emitted = emittedMetric(agentConfig(), "disk", { instanceId: outputs.instanceId, path: cfg.spacetimedb.root_dir, fstype: DATA_FSTYPE });
        expect({ namespace: disk.namespace, metricName: disk.metricName, dimensions: disk.dimensions }).toEqual(emitted);
        expect(disk.dimensions).toEqual({ InstanceId: outputs.instanceId, path: "/stdb", fstype: "xfs" });
        expect(disk.threshold).toBe(75);
    });

    it("checks https://DOMAIN/v1/ping from Route 53 and alarms on it in us-east-1", () => {
        expect(one(resources, "aws:route53/healthCheck:HealthCheck").inputs).toMatchObject({
            type: "HTTPS",
            fqdn: "db.inner-universe.example",
            port: 443,
            resourcePath: "/v1/ping",
            enableSni: true,
            tags: { Name: "inner-universe-prod-ping" },
        });
        expect(alarm("external-health").inputs).toMatchObject({
            region: "us-east-1",
            namespace: "AWS/Route53",
            metricName: "HealthCheckStatus",
            dimensions: { HealthCheckId: "abcdef11-2222-3333-4444-555555555555" },
            comparisonOperator: "LessThanThreshold",
            alarmActions: [`arn:aws:sns:us-east-1:${ACCOUNT}:${N}-mon-alarms-us-east-1`],
        });
    });

    it("creates exactly the alarms of the alarm table, each from its row", () => {
        const specs = alarmSpecs({
            instanceId: outputs.instanceId,
            mount: cfg.spacetimedb.root_dir,
            environment: cfg.environment,
            agentConfig: agentConfig(),
            thresholds: cfg.aws!.alarms,
            maxConnections: cfg.server.max_connections,
            external: { domain: "db.inner-universe.example", healthCheckId: "abcdef11-2222-3333-4444-555555555555" },
        });
        const alarms = all(resources, "aws:cloudwatch/metricAlarm:MetricAlarm");
        expect(alarms.map((a) => a.name).sort()).toEqual(specs.map((s) => `${N}-mon-${s.key}`).sort());
        for (const spec of specs) {
            const { alarmActions: _a, okActions: _o, actionsEnabled: _e, ...inputs } = alarm(spec.key).inputs;
            expect(inputs, spec.key).toEqual(JSON.parse(JSON.stringify(alarmInputs(spec))));
        }
    });

    it("alarms on SpacetimeDB's own series in the namespace and dimension the agent publishes them with", () => {
        const clients = alarm("stdb-clients").inputs;
        expect(clients).toMatchObject({ namespace: STDB_NAMESPACE, metricName: "spacetime_worker_connected_clients", dimensions: { environment: "prod" }, threshold: 90 });
        expect(emittedStdbMetric(agentConfig(), clients.metricName, "prod")).toEqual({
            namespace: clients.namespace,
            metricName: clients.metricName,
            dimensions: clients.dimensions,
        });
        const busy = alarm("stdb-reducer-busy").inputs;
        expect(busy.metricQueries.find((q: any) => q.returnData).expression).toBe("100 * m1 / (PERIOD(m1) * 1000000)");
        expect(busy.metricQueries.find((q: any) => q.id === "m1").metric).toMatchObject({
            namespace: STDB_NAMESPACE,
            metricName: "reducer_wasm_time_usec",
            stat: "Sum",
            dimensions: { environment: "prod" },
        });
        expect(alarm("stdb-commitlog-growth").inputs.metricQueries[1].metric.metricName).toBe("spacetime_message_log_size_bytes");
    });

    it("draws a widget for every alarm the stack creates (the list comes from the graph, not a copy)", () => {
        const dashboard = one(resources, "aws:cloudwatch/dashboard:Dashboard");
        expect(dashboard.inputs.dashboardName).toBe("inner-universe-prod");
        const body = JSON.parse(dashboard.inputs.dashboardBody) as { widgets: { type: string; properties: any }[] };
        const graphed = body.widgets.flatMap((w) => (w.type === "metric" ? (w.properties.annotations?.alarms ?? []) : []));
        const alarms = all(resources, "aws:cloudwatch/metricAlarm:MetricAlarm");
        expect(alarms.length).toBeGreaterThan(6);
        for (const a of alarms) expect(graphed, a.name).toContain(`arn:aws:mock:${a.inputs.region ?? "eu-west-1"}:${ACCOUNT}:${a.name}`);
        const status = body.widgets.find((w) => w.type === "alarm")!;
        expect(status.properties.alarms).toHaveLength(alarms.filter((a) => a.inputs.region === undefined).length);
    });

    it("gives every alarm actions", () => {
        const alarms = all(resources, "aws:cloudwatch/metricAlarm:MetricAlarm");
        for (const a of alarms) {
            expect(a.inputs.alarmActions.length, a.name).toBeGreaterThan(0);
            expect(a.inputs.actionsEnabled, a.name).toBe(true);
        }
    });
});

describe("backups", () => {
    it("snapshot the volume by its tag on the configured schedule and retention, copied to a second region", () => {
        const policy = one(resources, "aws:dlm/lifecyclePolicy:LifecyclePolicy");
        expect(policy.inputs.state).toBe("ENABLED");
        expect(policy.inputs.executionRoleArn).toBe(`arn:aws:iam::${ACCOUNT}:role/${N}-backup-dlm-role`);
        const details = policy.inputs.policyDetails;
        expect(details).toMatchObject({ policyType: "EBS_SNAPSHOT_MANAGEMENT", resourceTypes: ["VOLUME"], targetTags: { [SNAPSHOT_TAG_KEY]: "prod" } });
        expect(details.targetTags[SNAPSHOT_TAG_KEY]).toBe(volume().inputs.tags[SNAPSHOT_TAG_KEY]);
        const schedule = details.schedules[0];
        expect(details.schedules).toHaveLength(1);
        expect(schedule.createRule).toEqual({ interval: 6, intervalUnit: "HOURS", times: "03:00" });
        expect(typeof schedule.createRule.times).toBe("string");
        expect(schedule.retainRule).toEqual({ count: 28 });
        expect(schedule.copyTags).toBe(true);
        expect(schedule.crossRegionCopyRules).toEqual([
            { target: "eu-central-1", encrypted: true, cmkArn: keyArn("copy-key", "eu-central-1"), copyTags: true, retainRule: { interval: 14, intervalUnit: "DAYS" } },
        ]);
    });

    it("re-encrypt the copies with a customer key of the stack's own in the copy region, kept like the data key", () => {
        const key = byName(`${N}-copy-key-key`);
        expect(key.inputs).toMatchObject({ region: "eu-central-1", enableKeyRotation: true, deletionWindowInDays: 30 });
        expect([key.options.protect, key.options.retainOnDelete]).toEqual([true, true]);
        expect(byName(`${N}-copy-key-alias`).inputs).toMatchObject({ region: "eu-central-1", name: "alias/inner-universe-prod-data-eu-central-1" });
    });

    it("let DLM use exactly the data key and the copy key, nothing else", () => {
        const policy = byName(`${N}-backup-dlm-kms`);
        expect(policy.inputs.role).toBe(`${N}-backup-dlm-role`);
        const statements = JSON.parse(policy.inputs.policy).Statement;
        expect(statements).toHaveLength(1);
        expect(statements[0].Resource).toEqual([keyArn("data-key", "eu-west-1"), keyArn("copy-key", "eu-central-1")]);
        expect(statements[0].Action.every((a: string) => a.startsWith("kms:") && !a.includes("*"))).toBe(true);
    });

    it("run as a role only DLM can assume, with the DLM service policy only", () => {
        const role = byName(`${N}-backup-dlm-role`);
        expect(JSON.parse(role.inputs.assumeRolePolicy).Statement).toEqual([
            { Effect: "Allow", Principal: { Service: "dlm.amazonaws.com" }, Action: "sts:AssumeRole", Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } } },
        ]);
        const attached = all(resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((a) => a.inputs.role === role.name);
        expect(attached.map((a) => a.inputs.policyArn)).toEqual(["arn:aws:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole"]);
    });
});

describe("acme mode", () => {
    it("creates no load balancer, certificate or DNS record (no zone configured)", () => {
        expect(resources.some((r) => r.type.startsWith("aws:lb/") || r.type.startsWith("aws:acm/") || r.type === "aws:route53/record:Record")).toBe(false);
    });
});
