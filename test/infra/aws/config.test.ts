import { describe, expect, it } from "vitest";
import { ConfigError, parseStackConfig } from "../../../infra/config";
import { awsStackProblems, isCanonicalCidr } from "../../../infra/config/aws";
import { stackFileConfig } from "../../support/stackFiles";

const ctx = { stack: "prod", projectRoot: "/repo" };
const prod = stackFileConfig("prod") as Record<string, any>;

/** Pulumi.prod.yaml with one section's keys replaced (deep for one level below `aws`). */
function withAws(patch: Record<string, unknown>): Record<string, unknown> {
    const aws = { ...prod.aws };
    for (const [k, v] of Object.entries(patch)) {
        aws[k] = v !== null && typeof v === "object" && !Array.isArray(v) && typeof aws[k] === "object" ? { ...aws[k], ...v } : v;
    }
    return { ...prod, aws };
}

function problemsOf(raw: Record<string, unknown>): string[] {
    try {
        parseStackConfig(raw, ctx);
    } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).problems;
    }
    throw new Error("config was accepted");
}

describe("Pulumi.prod.yaml", () => {
    it("parses into an aws stack with protected data, acme TLS and every aws default filled", () => {
        const cfg = parseStackConfig(prod, ctx);
        expect(cfg.runtime).toBe("aws");
        expect(cfg.protect.data).toBe(true);
        expect(cfg.tls).toMatchObject({ enabled: true, mode: "acme", domain: "db.inner-universe.example", expose_call: false, expose_sql: false });
        expect(cfg.spacetimedb).toMatchObject({ address: "127.0.0.1", root_dir: "/stdb", version: "1.2.0" });
        expect(cfg.aws).toMatchObject({
            region: "eu-west-1",
            subnet: { id: "subnet-0a1b2c3d4e5f60718", az: "eu-west-1a" },
            instance: { type: "r7i.large", ami_owners: ["amazon"] },
            data_volume: { size_gb: 200, iops: 3000, throughput: 250, device_name: "/dev/sdf" },
            deploy_cidrs: ["203.0.113.0/28"],
            backups: { retain_count: 28, schedule: { times: "03:00", interval_hours: 6 } },
            server_binary: { command: "standalone" },
        });
        expect(cfg.aws!.deploy_cidrs).not.toContain("0.0.0.0/0");
        expect(awsStackProblems(cfg.aws!, cfg)).toEqual([]);
    });

    it("waits long enough for a fresh host (boot, install, certificate) before the deploy gives up", () => {
        expect(parseStackConfig(prod, ctx).spacetimedb.ready_timeout_s).toBeGreaterThanOrEqual(600);
    });

    it.each([
        ["the account's default EBS key", { data_volume: { kms_key_id: "account_default" } }],
        [
            "a named copy key in the copy region",
            { backups: { cross_region_copy: { region: "eu-central-1", kms_key_id: "arn:aws:kms:eu-central-1:123456789012:key/11111111-2222-3333-4444-555555555555" } } },
        ],
    ])("accepts %s", (_, patch) => {
        expect(() => parseStackConfig(withAws(patch), ctx)).not.toThrow();
    });

    it("fills defaults for a minimal aws section", () => {
        const cfg = parseStackConfig(
            {
                runtime: "aws",
                tls: { mode: "alb", domain: "db.example.com" },
                aws: {
                    region: "us-east-1",
                    subnet: { id: "subnet-0abc1234def567890", az: "us-east-1b" },
                    deploy_cidrs: ["198.51.100.0/24"],
                    server_binary: { url: "https://example.com/spacetime-x86_64-unknown-linux-gnu.tar.gz", sha256: "a".repeat(64) },
                    alb: {
                        subnets: [
                            { id: "subnet-0abc1234def567890", az: "us-east-1b" },
                            { id: "subnet-0fed9876cba543210", az: "us-east-1c" },
                        ],
                        certificate_arn: "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555",
                    },
                },
            },
            ctx,
        );
        expect(cfg.aws).toMatchObject({
            client_cidrs: ["0.0.0.0/0"],
            instance: { type: "r7i.large", ami_parameter: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64", ami_owners: ["amazon"], root_volume_gb: 20 },
            data_volume: { size_gb: 100, iops: 3000, throughput: 125 },
            alarms: { cpu_percent: 80, memory_percent: 85, disk_percent: 80 },
            backups: { schedule: { times: "03:00", interval_hours: 24 }, retain_count: 14 },
            log_retention_days: 30,
            alb: { idle_timeout_s: 3600 },
        });
    });
});

// Each row: label, raw config, the key path the error must name, a fragment of the message.
const invalid: [string, Record<string, unknown>, string, string][] = [
    ["missing domain with TLS on", { ...prod, tls: { enabled: true, mode: "acme", email: "ops@example.com" } }, "inner-universe:tls.domain", "required when tls.mode is acme"],
    ["missing domain in alb mode", { ...prod, tls: { enabled: true, mode: "alb" } }, "inner-universe:tls.domain", "required when tls.mode is alb"],
    ["TLS off on aws", { ...prod, tls: { ...prod.tls, enabled: false } }, "inner-universe:tls.enabled", "must be true for runtime aws"],
    [
        "AZ not of the region",
        withAws({ subnet: { id: "subnet-0a1b2c3d4e5f60718", az: "us-east-1a" } }),
        "inner-universe:aws.subnet.az",
        '"us-east-1a" is not an availability zone of eu-west-1',
    ],
    ["AZ that is a region", withAws({ subnet: { id: "subnet-0a1b2c3d4e5f60718", az: "eu-west-1" } }), "inner-universe:aws.subnet.az", "an availability zone like eu-west-1a"],
    [
        "ALB lists the host subnet with another AZ",
        withAws({
            alb: {
                subnets: [
                    { id: "subnet-0a1b2c3d4e5f60718", az: "eu-west-1b" },
                    { id: "subnet-0fed9876cba543210", az: "eu-west-1c" },
                ],
                certificate_arn: "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555",
            },
        }),
        "inner-universe:aws.alb.subnets[0].az",
        "subnet-0a1b2c3d4e5f60718 is in eu-west-1a according to aws.subnet",
    ],
    [
        "ALB subnets in one AZ",
        withAws({
            alb: {
                subnets: [
                    { id: "subnet-0abc1234def567890", az: "eu-west-1a" },
                    { id: "subnet-0fed9876cba543210", az: "eu-west-1a" },
                ],
                certificate_arn: "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555",
            },
        }),
        "inner-universe:aws.alb.subnets",
        "at least two different availability zones",
    ],
    [
        "ALB without certificate or zone",
        withAws({
            alb: {
                subnets: [
                    { id: "subnet-0abc1234def567890", az: "eu-west-1a" },
                    { id: "subnet-0fed9876cba543210", az: "eu-west-1b" },
                ],
            },
        }),
        "inner-universe:aws.alb.certificate_arn",
        "required unless dns.zone_id is set",
    ],
    ["volume below the data floor", withAws({ data_volume: { size_gb: 5 } }), "inner-universe:aws.data_volume.size_gb", "expected 20–16384, got 5 (example: 100)"],
    ["volume size not a number", withAws({ data_volume: { size_gb: "big" } }), "inner-universe:aws.data_volume.size_gb", 'got "big"'],
    ["gp3 IOPS above 500 per GiB", withAws({ data_volume: { size_gb: 20, iops: 12000 } }), "inner-universe:aws.data_volume.iops", "at most 500 IOPS per GiB (10000 for 20 GiB)"],
    ["gp3 throughput above IOPS/4", withAws({ data_volume: { throughput: 1000 } }), "inner-universe:aws.data_volume.throughput", "at most IOPS/4 MiB/s (750 at 3000 IOPS)"],
    [
        "KMS key from another region",
        withAws({ data_volume: { kms_key_id: "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555" } }),
        "inner-universe:aws.data_volume.kms_key_id",
        "key is in us-east-1",
    ],
    [
        "KMS key id instead of an ARN",
        withAws({ data_volume: { kms_key_id: "11111111-2222-3333-4444-555555555555" } }),
        "inner-universe:aws.data_volume.kms_key_id",
        "a KMS key ARN",
    ],
    ["bad snapshot id", withAws({ data_volume: { snapshot_id: "snapshot-1" } }), "inner-universe:aws.data_volume.snapshot_id", "snap-0123456789abcdef0"],
    ["retention 0", withAws({ backups: { retain_count: 0 } }), "inner-universe:aws.backups.retain_count", "expected 1–1000, got 0"],
    [
        "unsupported snapshot interval",
        withAws({ backups: { schedule: { times: "03:00", interval_hours: 5 } } }),
        "inner-universe:aws.backups.schedule.interval_hours",
        "expected one of 1 | 2 | 3 | 4 | 6 | 8 | 12 | 24, got 5",
    ],
    ["snapshot time not HH:MM", withAws({ backups: { schedule: { times: "3am", interval_hours: 24 } } }), "inner-universe:aws.backups.schedule.times", "a UTC time HH:MM"],
    [
        "copy to the home region",
        withAws({ backups: { cross_region_copy: { region: "eu-west-1", retain_days: 7 } } }),
        "inner-universe:aws.backups.cross_region_copy.region",
        "must differ from aws.region",
    ],
    [
        "copy key from another region than the copies",
        withAws({ backups: { cross_region_copy: { region: "eu-central-1", kms_key_id: "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555" } } }),
        "inner-universe:aws.backups.cross_region_copy.kms_key_id",
        "key is in eu-west-1; the copies are in eu-central-1",
    ],
    [
        "copy key not an ARN",
        withAws({ backups: { cross_region_copy: { region: "eu-central-1", kms_key_id: "account_default" } } }),
        "inner-universe:aws.backups.cross_region_copy.kms_key_id",
        "a KMS key ARN",
    ],
    [
        "copy retention 0",
        withAws({ backups: { cross_region_copy: { region: "eu-central-1", retain_days: 0 } } }),
        "inner-universe:aws.backups.cross_region_copy.retain_days",
        "expected 1–3650, got 0",
    ],
    ["unknown instance type family", withAws({ instance: { type: "x9z.large" } }), "inner-universe:aws.instance.type", 'unknown instance type family in "x9z.large"'],
    ["instance-store family", withAws({ instance: { type: "m6id.large" } }), "inner-universe:aws.instance.type", "unknown instance type family"],
    ["not an instance type", withAws({ instance: { type: "large" } }), "inner-universe:aws.instance.type", "an instance type like r7i.large"],
    ["arm instance with an x86 AMI", withAws({ instance: { type: "r7g.large" } }), "inner-universe:aws.instance.ami_parameter", "is an x86_64 image but r7g.large is arm64"],
    [
        "arm AMI, x86 server build",
        withAws({ instance: { type: "r7g.large", ami_parameter: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64" } }),
        "inner-universe:aws.server_binary.url",
        "is an x86_64 build but r7g.large is arm64",
    ],
    [
        "AMI parameter not AL2023",
        withAws({ instance: { ami_parameter: "/aws/service/debian/release/12/latest/amd64" } }),
        "inner-universe:aws.instance.ami_parameter",
        "an Amazon Linux 2023 SSM public parameter",
    ],
    [
        "minimal AMI without SSM agent",
        withAws({ instance: { ami_parameter: "/aws/service/ami-amazon-linux-latest/al2023-ami-minimal-kernel-default-x86_64" } }),
        "inner-universe:aws.instance.ami_parameter",
        "without the SSM agent",
    ],
    ["bad AMI owner", withAws({ instance: { ami_owners: ["someone"] } }), "inner-universe:aws.instance.ami_owners[0]", "an AMI owner"],
    ["deploy CIDRs open to the world", withAws({ deploy_cidrs: ["0.0.0.0/0"] }), "inner-universe:aws.deploy_cidrs[0]", "must not be 0.0.0.0/0"],
    ["deploy CIDRs missing", { ...prod, aws: { ...prod.aws, deploy_cidrs: undefined } }, "inner-universe:aws.deploy_cidrs", "required"],
    ["deploy CIDRs empty", withAws({ deploy_cidrs: [] }), "inner-universe:aws.deploy_cidrs", "at least one CIDR"],
    ["CIDR with host bits", withAws({ client_cidrs: ["10.0.0.1/24"] }), "inner-universe:aws.client_cidrs[0]", "host bits zero"],
    ["CIDR not a CIDR", withAws({ client_cidrs: ["everyone"] }), "inner-universe:aws.client_cidrs[0]", "an IPv4 CIDR"],
    ["region typo", withAws({ region: "eu-west" }), "inner-universe:aws.region", "an AWS region like eu-west-1"],
    ["bad subnet id", withAws({ subnet: { id: "sub-123", az: "eu-west-1a" } }), "inner-universe:aws.subnet.id", "a subnet id"],
    ["bad VPC id", withAws({ vpc_id: "default" }), "inner-universe:aws.vpc_id", "a VPC id"],
    ["server checksum not sha256", withAws({ server_binary: { sha256: "abc" } }), "inner-universe:aws.server_binary.sha256", "64 lower-case hex digits"],
    ["server asset over http", withAws({ server_binary: { url: "http://example.com/x.tar.gz" } }), "inner-universe:aws.server_binary.url", "an https:// URL"],
    ["unknown start command", withAws({ server_binary: { command: "run" } }), "inner-universe:aws.server_binary.command", "standalone | spacetime"],
    ["log retention not offered by CloudWatch", withAws({ log_retention_days: 10 }), "inner-universe:aws.log_retention_days", "expected one of 1 | 3 | 5 | 7 | 14 | 30"],
    ["alarm threshold above 100", withAws({ alarms: { disk_percent: 150 } }), "inner-universe:aws.alarms.disk_percent", "expected 1–100, got 150"],
    ["alarm e-mail malformed", withAws({ alarms: { email: "oncall" } }), "inner-universe:aws.alarms.email", "an e-mail address"],
    ["unknown aws key", withAws({ instance_type: "r7i.large" }), "inner-universe:aws", 'unknown key "instance_type"'],
    ["bad device name", withAws({ data_volume: { device_name: "/dev/sda1" } }), "inner-universe:aws.data_volume.device_name", "/dev/sdf … /dev/sdp"],
    ["bad hosted zone id", withAws({ dns: { zone_id: "example.com" } }), "inner-universe:aws.dns.zone_id", "a Route 53 hosted zone id"],
    ["server reachable beyond loopback", { ...prod, spacetimedb: { ...prod.spacetimedb, address: "0.0.0.0" } }, "inner-universe:spacetimedb.address", "must be 127.0.0.1 on AWS"],
];

describe("invalid aws configs fail with the key path, the problem and an example", () => {
    it.each(invalid)("%s", (_label, raw, key, fragment) => {
        const problems = problemsOf(raw);
        const line = problems.find((p) => p.startsWith(`${key}:`));
        expect(line, `no problem names ${key}: ${problems.join(" | ")}`).toBeDefined();
        expect(line).toContain(fragment);
    });

    it("lists every aws problem in one run, without rules tripping over keys that are already wrong", () => {
        const problems = problemsOf(
            withAws({ subnet: { id: "subnet-0a1b2c3d4e5f60718", az: "us-east-1a" }, data_volume: { size_gb: 5 }, backups: { retain_count: 0 }, instance: { type: "x9z.large" } }),
        );
        expect(problems.map((p) => p.split(":").slice(0, 2).join(":"))).toEqual(
            expect.arrayContaining([
                "inner-universe:aws.subnet.az",
                "inner-universe:aws.data_volume.size_gb",
                "inner-universe:aws.backups.retain_count",
                "inner-universe:aws.instance.type",
            ]),
        );
        expect(problems).toHaveLength(4);
    });

    it("prints the documented line for a volume below the floor", () => {
        expect(problemsOf(withAws({ data_volume: { size_gb: 5 } }))).toContain("inner-universe:aws.data_volume.size_gb: expected 20–16384, got 5 (example: 100)");
    });
});

describe("rules between aws and other sections (AwsServer refuses these too)", () => {
    const cfg = parseStackConfig(prod, ctx);
    const base = cfg.aws!;
    it("acme needs a pinned Caddy", () => {
        const { caddy_binary: _unused, ...rest } = base;
        expect(awsStackProblems(rest, cfg)).toEqual([{ path: ["aws", "caddy_binary"], message: "required for tls.mode acme (Caddy runs on the host)" }]);
    });
    it("alb needs the alb section", () => {
        expect(awsStackProblems(base, { ...cfg, tls: { ...cfg.tls, mode: "alb" } })).toEqual([
            { path: ["aws", "alb"], message: "required for tls.mode alb (subnets for the load balancer)" },
        ]);
    });
    it("the pinned release must be spacetimedb.version", () => {
        expect(awsStackProblems(base, { ...cfg, spacetimedb: { ...cfg.spacetimedb, version: "1.3.0" } })).toEqual([
            { path: ["aws", "server_binary", "url"], message: "is release 1.2.0 but spacetimedb.version is 1.3.0; change both together" },
        ]);
    });
});

describe("CIDR canonical form", () => {
    it.each([
        ["0.0.0.0/0", true],
        ["203.0.113.0/28", true],
        ["203.0.113.16/28", true],
        ["203.0.113.8/28", false],
        ["10.0.0.1/32", true],
        ["10.0.0.1/31", false],
    ])("%s → %s", (cidr, ok) => expect(isCanonicalCidr(cidr)).toBe(ok));
});
