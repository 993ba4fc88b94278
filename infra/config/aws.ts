import { z } from "zod";
import { serverReleaseUrl } from "../facts";
import { bool, CIDR4, doc, intRange, oneOf, pattern, show } from "./fields";

/**
 * The `aws` section (runtime aws). Owned by the production-on-AWS work; the program only passes
 * the parsed value to `infra/aws`. Everything that can be checked without an AWS account is
 * checked here, so a bad value fails `pulumi preview` before any API call.
 */

export const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const AZ = /^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8}([0-9a-f]{9})?$/;
const SHA256 = /^[0-9a-f]{64}$/;
const HTTPS_URL = /^https:\/\/[^\s/]+\/\S+$/;

/**
 * Instance families the host may use, with their CPU architecture. Only Nitro families without
 * instance-store disks: the bootstrap finds the data volume through the NVMe by-id symlink, and
 * simplified automatic recovery (the StatusCheckFailed_System alarm's action) refuses instances
 * with instance-store volumes. A family missing here is rejected rather than guessed at.
 */
export const INSTANCE_FAMILIES: Readonly<Record<string, "x86_64" | "arm64">> = Object.freeze({
    ...Object.fromEntries(
        [
            "t3",
            "t3a",
            "m5",
            "m5a",
            "m5n",
            "m6i",
            "m6a",
            "m7i",
            "m7i-flex",
            "m7a",
            "c5",
            "c5a",
            "c5n",
            "c6i",
            "c6a",
            "c6in",
            "c7i",
            "c7a",
            "r5",
            "r5a",
            "r5n",
            "r6i",
            "r6a",
            "r7i",
            "r7a",
            "r7iz",
        ].map((f) => [f, "x86_64" as const]),
    ),
    ...Object.fromEntries(["t4g", "m6g", "m7g", "m8g", "c6g", "c7g", "c8g", "r6g", "r7g", "r8g"].map((f) => [f, "arm64" as const])),
});

const INSTANCE_TYPE = /^([a-z][a-z0-9-]*)\.(nano|micro|small|medium|large|xlarge|[1-9]\d?xlarge)$/;

/** CloudWatch Logs accepts only these retention periods. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;
/** DLM accepts only these intervals for an HOURS create rule. */
export const DLM_INTERVAL_HOURS = [1, 2, 3, 4, 6, 8, 12, 24] as const;

export const DEFAULT_AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";
/** Host operating systems the bootstrap knows (package manager and agent install differ). */
export const HOST_OS = ["al2023", "debian"] as const;
const AL2023_AMI_PARAMETER = /^\/aws\/service\/ami-amazon-linux-latest\/al2023-ami-[a-z0-9.-]+-(x86_64|arm64)(:\d+)?$/;
/** Debian's own SSM public parameters (https://wiki.debian.org/Cloud/AmazonEC2Image). */
const DEBIAN_AMI_PARAMETER = /^\/aws\/service\/debian\/(daily\/)?release\/(bookworm|trixie|12|13)\/latest\/(amd64|arm64)(:\d+)?$/;
/** The AWS account Debian publishes its official AMIs from. */
export const DEBIAN_AMI_OWNER = "136693071363";

function oneOfNumbers(values: readonly number[]) {
    return z.number({ error: (iss) => `expected one of ${values.join(" | ")}, got ${show(iss.input)}` }).refine((v) => values.includes(v), {
        error: (iss) => `expected one of ${values.join(" | ")}, got ${show(iss.input)}`,
    });
}

const cidr = (what: string) =>
    pattern(CIDR4, `an IPv4 CIDR like 203.0.113.0/24 (${what})`).refine(isCanonicalCidr, {
        error: (iss) => `expected a network address (host bits zero), got ${show(iss.input)}`,
    });

const subnetRef = z.strictObject({
    id: doc(pattern(SUBNET_ID, "a subnet id like subnet-0abc1234def567890"), "Subnet id", "subnet-0abc1234def567890"),
    az: doc(pattern(AZ, "an availability zone like eu-west-1a"), "The subnet's availability zone (instance and data volume are pinned to it)", "eu-west-1a"),
});

const binary = (what: string, example: string) =>
    z.strictObject({
        url: doc(pattern(HTTPS_URL, "an https:// URL of a release asset"), `${what} release asset (.tar.gz) the host downloads`, example),
        sha256: doc(pattern(SHA256, "64 lower-case hex digits"), "sha256 of that asset; the bootstrap refuses anything else", "0".repeat(64)),
    });

const instanceSection = z.strictObject({
    type: doc(
        pattern(INSTANCE_TYPE, "an instance type like r7i.large").refine((t) => familyOf(t) in INSTANCE_FAMILIES, {
            error: (iss) => `unknown instance type family in ${show(iss.input)}; expected one of ${Object.keys(INSTANCE_FAMILIES).join(", ")} (Nitro, EBS-only)`,
        }),
        "EC2 instance type; SpacetimeDB keeps the database in memory, so size memory first",
        "r7i.large",
    ).default("r7i.large"),
    os: doc(
        oneOf(HOST_OS).default("al2023"),
        "Operating system of the AMI: al2023 (Amazon Linux 2023, dnf) or debian (Debian 12/13, apt); ami_parameter must name an image of it",
        "al2023",
    ),
    ami_parameter: doc(
        z
            .string({ error: (iss) => `expected an Amazon Linux 2023 or Debian SSM public parameter, got ${show(iss.input)}` })
            .refine((p) => AL2023_AMI_PARAMETER.test(p) || DEBIAN_AMI_PARAMETER.test(p), {
                error: (iss) =>
                    `expected an Amazon Linux 2023 SSM public parameter (/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64) or a Debian one (/aws/service/debian/release/bookworm/latest/amd64), got ${show(iss.input)}`,
            })
            .refine((p) => !p.includes("minimal"), { error: "minimal AL2023 images ship without the SSM agent; use a kernel-default parameter" })
            .default(DEFAULT_AMI_PARAMETER),
        "SSM public parameter naming the AMI (append :N to pin a parameter version): Amazon Linux 2023 or Debian, matching os",
        DEFAULT_AMI_PARAMETER,
    ),
    ami_owners: doc(
        z
            .array(pattern(/^(amazon|\d{12})$/, 'an AMI owner ("amazon" or an account id)'))
            .min(1)
            .default(["amazon"]),
        "Owners the resolved AMI must belong to (guards against a parameter pointing elsewhere)",
        ["amazon"],
    ),
    root_volume_gb: doc(intRange(8, 1024).default(20), "Root volume size (GiB); data lives on the data volume", 20),
});

/** data_volume.kms_key_id's way to say "the account's default EBS key" (what volumes used before the stack made its own). */
export const ACCOUNT_DEFAULT_KEY = "account_default";
const KMS_KEY_ARN_RE = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key\/[0-9a-f-]{36}|alias\/[A-Za-z0-9/_-]+)$/;
const KMS_KEY_ARN = pattern(KMS_KEY_ARN_RE, "a KMS key ARN");

const dataVolumeSection = z.strictObject({
    size_gb: doc(intRange(20, 16384).default(100), "Data volume size (GiB); the commitlog is never pruned, leave room", 100),
    iops: doc(intRange(3000, 16000).default(3000), "gp3 provisioned IOPS", 3000),
    throughput: doc(intRange(125, 1000).default(125), "gp3 throughput (MiB/s)", 125),
    kms_key_id: doc(
        pattern(new RegExp(`^(${ACCOUNT_DEFAULT_KEY}|${KMS_KEY_ARN_RE.source.slice(1, -1)})$`), `a KMS key ARN or ${ACCOUNT_DEFAULT_KEY}`).optional(),
        `KMS key of the data volume (and its snapshots): a customer-managed key ARN, or ${ACCOUNT_DEFAULT_KEY} for the account's default EBS key. Default: a customer key of the stack's own (rotated yearly, kept when the stack is destroyed). Changing it replaces the volume`,
        "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555",
    ),
    snapshot_id: doc(
        pattern(/^snap-[0-9a-f]{8}([0-9a-f]{9})?$/, "a snapshot id like snap-0123456789abcdef0").optional(),
        "Create the data volume from this snapshot (the restore path, docs/restore.md)",
        "snap-0123456789abcdef0",
    ),
    device_name: doc(
        pattern(/^\/dev\/sd[f-p]$/, "a device name /dev/sdf … /dev/sdp").default("/dev/sdf"),
        "Attachment device name (the host finds the volume by id, not by this name)",
        "/dev/sdf",
    ),
});

const albSection = z.strictObject({
    subnets: doc(
        z.array(subnetRef).min(2, { error: "an ALB needs at least two subnets in different availability zones" }),
        "Public subnets for the load balancer (two or more AZs)",
        [
            { id: "subnet-0abc1234def567890", az: "eu-west-1a" },
            { id: "subnet-0fed9876cba543210", az: "eu-west-1b" },
        ],
    ),
    certificate_arn: doc(
        pattern(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/, "an ACM certificate ARN").optional(),
        "Issued ACM certificate for tls.domain (default: one is requested and validated through dns.zone_id)",
        "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555",
    ),
    idle_timeout_s: doc(intRange(60, 4000).default(3600), "ALB idle timeout; WebSocket subscriptions idle longer than the 60 s default", 3600),
    access_logs: doc(
        z
            .strictObject({
                bucket: doc(
                    pattern(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "an S3 bucket name"),
                    "Existing S3 bucket whose policy lets the region's ELB log delivery write",
                    "inner-universe-alb-logs",
                ),
                prefix: doc(
                    pattern(/^[A-Za-z0-9!_.*'()/-]{0,200}$/, "an S3 key prefix without a leading or trailing slash").default("prod"),
                    "Key prefix of the log objects",
                    "prod",
                ),
            })
            .optional(),
        "ALB access logs (FSBP ELB.5) into an existing bucket; the stack does not create or own the bucket",
        { bucket: "inner-universe-alb-logs", prefix: "prod" },
    ),
    waf_acl_arn: doc(
        pattern(/^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:regional\/webacl\/[A-Za-z0-9_-]+\/[0-9a-f-]{36}$/, "a regional WAFv2 web ACL ARN").optional(),
        "Associate this existing regional WAFv2 web ACL with the load balancer (FSBP ELB.16)",
        "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/inner-universe/11111111-2222-3333-4444-555555555555",
    ),
});

const alarmsSection = z.strictObject({
    email: doc(z.email({ error: "expected an e-mail address" }).optional(), "E-mail subscribed to the alarm topic (confirm the subscription once)", "oncall@example.com"),
    https_endpoint: doc(
        pattern(HTTPS_URL, "an https:// URL").optional(),
        "HTTPS endpoint subscribed to the alarm topic (pager webhook)",
        "https://events.pagerduty.com/integration/abc/enqueue",
    ),
    cpu_percent: doc(intRange(1, 100).default(80), "CPUUtilization alarm threshold (%)", 80),
    memory_percent: doc(intRange(1, 100).default(85), "mem_used_percent alarm threshold (%)", 85),
    disk_percent: doc(intRange(1, 100).default(80), "disk_used_percent of /stdb alarm threshold (%)", 80),
    connected_clients_percent: doc(intRange(1, 100).default(90), "Connected-clients alarm at this share of server.max_connections (%)", 90),
    reducer_queue_length: doc(intRange(1, 100_000).default(25), "Reducer-queue alarm: operations waiting for the module instance, sustained 5 minutes", 25),
    reducer_busy_percent: doc(intRange(1, 100).default(80), "Reducer-time alarm: share of wall-clock time spent in reducers over 15 minutes (%)", 80),
    commitlog_growth_gb_per_day: doc(intRange(1, 10_000).default(10), "Commitlog-growth alarm threshold (GB/day, sustained 3 hours)", 10),
});

const backupsSection = z.strictObject({
    schedule: z
        .strictObject({
            times: doc(pattern(/^([01]\d|2[0-3]):[0-5]\d$/, "a UTC time HH:MM").default("03:00"), "UTC start time of the snapshot schedule", "03:00"),
            interval_hours: doc(oneOfNumbers(DLM_INTERVAL_HOURS).default(24), "Hours between snapshots", 24),
        })
        .default({ times: "03:00", interval_hours: 24 }),
    retain_count: doc(intRange(1, 1000).default(14), "Snapshots kept in the home region", 14),
    cross_region_copy: doc(
        z
            .strictObject({
                region: doc(pattern(REGION, "an AWS region like eu-central-1"), "Region snapshots are copied to", "eu-central-1"),
                retain_days: doc(intRange(1, 3650).default(30), "Days a copy is kept", 30),
                kms_key_id: doc(
                    KMS_KEY_ARN.optional(),
                    `Customer-managed key in the copy region that re-encrypts the copies. Default: a customer key of the stack's own there, unless data_volume.kms_key_id is ${ACCOUNT_DEFAULT_KEY} (then the copy region's default EBS key)`,
                    "arn:aws:kms:eu-central-1:123456789012:key/11111111-2222-3333-4444-555555555555",
                ),
            })
            .optional(),
        "Copy every snapshot to a second region",
        { region: "eu-central-1", retain_days: 30 },
    ),
});

export const awsSchema = z
    .strictObject({
        region: doc(pattern(REGION, "an AWS region like eu-west-1"), "AWS region", "eu-west-1"),
        vpc_id: doc(
            pattern(/^vpc-[0-9a-f]{8}([0-9a-f]{9})?$/, "a VPC id like vpc-0abc1234def567890").optional(),
            "VPC of the subnet (default: the region's default VPC)",
            "vpc-0abc1234def567890",
        ),
        subnet: doc(subnetRef, "Subnet of the host with its AZ (public in acme mode; behind NAT is fine in alb mode)", { id: "subnet-0abc1234def567890", az: "eu-west-1a" }),
        instance: instanceSection.default(instanceSection.parse({})),
        data_volume: dataVolumeSection.default(dataVolumeSection.parse({})),
        deploy_cidrs: doc(
            z.array(cidr("deploy runners")).min(1, { error: "at least one CIDR: the deploy pipeline publishes from there" }).max(10),
            "Networks the deploy pipeline publishes from; the only sources admitted to publish routes",
            ["203.0.113.0/24"],
        ),
        client_cidrs: doc(z.array(cidr("clients")).min(1).max(20).default(["0.0.0.0/0"]), "Networks allowed on 443 (clients)", ["0.0.0.0/0"]),
        alarms: alarmsSection.default(alarmsSection.parse({})),
        backups: backupsSection.default(backupsSection.parse({})),
        server_binary: doc(
            binary("SpacetimeDB", serverReleaseUrl()).extend({
                command: doc(
                    oneOf(["standalone", "spacetime"]).default("standalone"),
                    "How the server starts: standalone (1.x: spacetimedb-standalone start with explicit paths) or spacetime (2.x: spacetime --root-dir=/stdb start)",
                    "standalone",
                ),
            }),
            "Pinned SpacetimeDB release asset",
            {
                url: serverReleaseUrl(),
                sha256: "0".repeat(64),
                command: "standalone",
            },
        ),
        caddy_binary: doc(
            binary("Caddy", "https://github.com/caddyserver/caddy/releases/download/v2.10.2/caddy_2.10.2_linux_amd64.tar.gz").optional(),
            "Pinned Caddy release asset (required for tls.mode acme: Amazon Linux has no Caddy package)",
            { url: "https://github.com/caddyserver/caddy/releases/download/v2.10.2/caddy_2.10.2_linux_amd64.tar.gz", sha256: "0".repeat(64) },
        ),
        cloudwatch_agent_deb: doc(
            z
                .strictObject({
                    url: doc(
                        pattern(/^https:\/\/[^\s/]+\/\S+\.deb$/, "an https:// URL of a .deb"),
                        "CloudWatch agent package (.deb) the Debian host installs",
                        "https://amazoncloudwatch-agent-eu-west-1.s3.eu-west-1.amazonaws.com/debian/amd64/latest/amazon-cloudwatch-agent.deb",
                    ),
                    sha256: doc(pattern(SHA256, "64 lower-case hex digits"), "sha256 of that package; the bootstrap refuses anything else", "0".repeat(64)),
                })
                .optional(),
            "Pinned CloudWatch agent package for instance.os debian (Debian has no apt package for it; Amazon Linux installs it with dnf)",
            { url: "https://amazoncloudwatch-agent-eu-west-1.s3.eu-west-1.amazonaws.com/debian/amd64/latest/amazon-cloudwatch-agent.deb", sha256: "0".repeat(64) },
        ),
        alb: doc(albSection.optional(), "Load balancer settings (required for tls.mode alb)", {
            subnets: [
                { id: "subnet-0abc1234def567890", az: "eu-west-1a" },
                { id: "subnet-0fed9876cba543210", az: "eu-west-1b" },
            ],
            idle_timeout_s: 3600,
        }),
        dns: doc(
            z
                .strictObject({
                    zone_id: doc(pattern(/^Z[0-9A-Z]{4,31}$/, "a Route 53 hosted zone id like Z0123456789ABCDEFGHIJ"), "Hosted zone of tls.domain", "Z0123456789ABCDEFGHIJ"),
                })
                .optional(),
            "Route 53 zone: when set, the DNS record (and the ACM validation in alb mode) is managed here",
            { zone_id: "Z0123456789ABCDEFGHIJ" },
        ),
        log_retention_days: doc(oneOfNumbers(LOG_RETENTION_DAYS).default(30), "Retention of the server log group (days)", 30),
        customer_key: doc(
            bool().default(false),
            "Create a customer-managed KMS key (yearly rotation) for the alarm topics and log groups; its key policy lets CloudWatch, CloudWatch Logs and SNS use it",
            true,
        ),
        termination_protection: doc(bool().optional(), "EC2 termination protection (default: protect.data)", true),
    })
    // Like the top-level rules: run even when some keys are invalid, so one run lists every problem.
    .superRefine(checkAws, { when: () => true });

export type AwsConfig = z.output<typeof awsSchema>;

type Fail = (path: (string | number)[], message: string) => void;

/**
 * Rules across keys of the aws section; each names the key to change. They may see a partly
 * invalid section, so a rule runs only when every key it reads passed its own check.
 */
function checkAws(raw: AwsConfig, ctx: z.RefinementCtx): void {
    const a = (raw ?? {}) as Partial<AwsConfig>;
    const broken = ctx.issues.map((i) => (i.path ?? []).join("."));
    const ok = (...paths: string[]) => paths.every((p) => !broken.some((b) => b === p || b.startsWith(`${p}.`) || p.startsWith(`${b}.`)));
    const fail: Fail = (path, message) => ctx.addIssue({ code: "custom", path, message, input: undefined });
    const region = typeof a.region === "string" && ok("region") ? a.region : undefined;
    const inRegion = (az: string) => region === undefined || (az.length === region.length + 1 && az.startsWith(region));

    if (a.subnet && ok("subnet") && !inRegion(a.subnet.az)) fail(["subnet", "az"], `${show(a.subnet.az)} is not an availability zone of ${region}`);

    const arch = a.instance && ok("instance.type") ? INSTANCE_FAMILIES[familyOf(a.instance.type)] : undefined;
    const amiArchName = a.instance && ok("instance.ami_parameter") ? a.instance.ami_parameter.match(/[-/](x86_64|amd64|arm64)(:\d+)?$/)?.[1] : undefined;
    const amiArch = amiArchName === "amd64" ? "x86_64" : amiArchName;
    if (a.instance && ok("instance.os", "instance.ami_parameter")) {
        const debianAmi = DEBIAN_AMI_PARAMETER.test(a.instance.ami_parameter);
        if (a.instance.os === "debian" && !debianAmi)
            fail(["instance", "ami_parameter"], "instance.os is debian: name a Debian parameter like /aws/service/debian/release/bookworm/latest/amd64");
        if (a.instance.os === "al2023" && debianAmi)
            fail(["instance", "ami_parameter"], "is a Debian image, not an Amazon Linux 2023 SSM public parameter; for a Debian host set instance.os: debian");
    }
    if (a.instance?.os === "debian" && ok("instance.os", "instance.ami_owners") && !a.instance.ami_owners.includes(DEBIAN_AMI_OWNER)) {
        fail(["instance", "ami_owners"], `Debian publishes its AMIs from account ${DEBIAN_AMI_OWNER}; set ami_owners: ["${DEBIAN_AMI_OWNER}"]`);
    }
    if (a.instance?.os === "debian" && ok("instance.os", "cloudwatch_agent_deb") && !a.cloudwatch_agent_deb) {
        fail(["cloudwatch_agent_deb"], "required for instance.os debian (the agent's .deb and its sha256; Debian has no package for it)");
    }
    const agentArch = a.cloudwatch_agent_deb && ok("cloudwatch_agent_deb.url") ? archInUrl(a.cloudwatch_agent_deb.url) : undefined;
    if (arch && agentArch && agentArch !== arch) fail(["cloudwatch_agent_deb", "url"], `is an ${agentArch} build but ${a.instance!.type} is ${arch}`);
    if (arch && amiArch && arch !== amiArch) fail(["instance", "ami_parameter"], `is an ${amiArch} image but ${a.instance!.type} is ${arch}`);
    const serverArch = a.server_binary && ok("server_binary.url") ? archInUrl(a.server_binary.url) : undefined;
    if (arch && serverArch && serverArch !== arch) fail(["server_binary", "url"], `is an ${serverArch} build but ${a.instance!.type} is ${arch}`);
    const caddyArch = a.caddy_binary && ok("caddy_binary.url") ? archInUrl(a.caddy_binary.url) : undefined;
    if (arch && caddyArch && caddyArch !== arch) fail(["caddy_binary", "url"], `is an ${caddyArch} build but ${a.instance!.type} is ${arch}`);

    const v = a.data_volume;
    if (v && ok("data_volume.iops", "data_volume.size_gb") && v.iops > v.size_gb * 500) {
        fail(["data_volume", "iops"], `gp3 allows at most 500 IOPS per GiB (${v.size_gb * 500} for ${v.size_gb} GiB), got ${v.iops}`);
    }
    if (v && ok("data_volume.iops", "data_volume.throughput") && v.throughput * 4 > v.iops) {
        fail(["data_volume", "throughput"], `gp3 allows at most IOPS/4 MiB/s (${Math.floor(v.iops / 4)} at ${v.iops} IOPS), got ${v.throughput}`);
    }
    if (v?.kms_key_id && v.kms_key_id !== ACCOUNT_DEFAULT_KEY && region && ok("data_volume.kms_key_id") && arnRegion(v.kms_key_id) !== region) {
        fail(["data_volume", "kms_key_id"], `key is in ${arnRegion(v.kms_key_id)}; the volume is in ${region}`);
    }

    if (Array.isArray(a.deploy_cidrs)) {
        a.deploy_cidrs.forEach((c, i) => {
            if (typeof c === "string" && c.endsWith("/0")) fail(["deploy_cidrs", i], "must not be 0.0.0.0/0: publish routes are admitted only from known deploy networks");
        });
    }
    const copyRegion = a.backups?.cross_region_copy?.region;
    if (copyRegion && region && ok("backups.cross_region_copy.region") && copyRegion === region)
        fail(["backups", "cross_region_copy", "region"], `must differ from aws.region (${region})`);
    const copyKey = a.backups?.cross_region_copy?.kms_key_id;
    // KMS keys are regional: the copies are re-encrypted with a key of the region they land in.
    if (copyKey && copyRegion && ok("backups.cross_region_copy.kms_key_id", "backups.cross_region_copy.region") && arnRegion(copyKey) !== copyRegion)
        fail(["backups", "cross_region_copy", "kms_key_id"], `key is in ${arnRegion(copyKey)}; the copies are in ${copyRegion}`);

    if (a.alb && ok("alb")) {
        const azs = new Set<string>();
        a.alb.subnets.forEach((s, i) => {
            if (!inRegion(s.az)) fail(["alb", "subnets", i, "az"], `${show(s.az)} is not an availability zone of ${region}`);
            if (a.subnet && ok("subnet") && s.id === a.subnet.id && s.az !== a.subnet.az) {
                fail(["alb", "subnets", i, "az"], `${s.id} is in ${a.subnet.az} according to aws.subnet; one subnet has one AZ`);
            }
            azs.add(s.az);
        });
        if (azs.size < 2) fail(["alb", "subnets"], "an ALB needs subnets in at least two different availability zones");
        if (!a.alb.certificate_arn && !a.dns) fail(["alb", "certificate_arn"], "required unless dns.zone_id is set (the certificate is then requested and DNS-validated)");
        if (a.alb.waf_acl_arn && region && arnRegion(a.alb.waf_acl_arn) !== region)
            fail(["alb", "waf_acl_arn"], `web ACL is in ${arnRegion(a.alb.waf_acl_arn)}; the ALB is in ${region}`);
        if (a.alb.certificate_arn && region && arnRegion(a.alb.certificate_arn) !== region) {
            fail(["alb", "certificate_arn"], `certificate is in ${arnRegion(a.alb.certificate_arn)}; the ALB is in ${region}`);
        }
    }
}

function archInUrl(url: string): "x86_64" | "arm64" | undefined {
    return /aarch64|arm64/.test(url) ? "arm64" : /x86_64|amd64/.test(url) ? "x86_64" : undefined;
}

/**
 * Rules between the aws section and other sections, which a refinement inside the aws section
 * cannot see. The top-level checkCombinations should call this for runtime aws; AwsServer calls
 * it too, so a stack can never deploy without them.
 */
export function awsStackProblems(a: AwsConfig, s: { tls: { mode: string }; spacetimedb: { version: string } }): { path: (string | number)[]; message: string }[] {
    const out: { path: (string | number)[]; message: string }[] = [];
    if (s.tls.mode === "acme" && !a.caddy_binary) out.push({ path: ["aws", "caddy_binary"], message: "required for tls.mode acme (Caddy runs on the host)" });
    if (s.tls.mode === "alb" && !a.alb) out.push({ path: ["aws", "alb"], message: "required for tls.mode alb (subnets for the load balancer)" });
    const release = a.server_binary.url.match(/\/v(\d+\.\d+\.\d+)\//)?.[1];
    if (release && release !== s.spacetimedb.version) {
        out.push({ path: ["aws", "server_binary", "url"], message: `is release ${release} but spacetimedb.version is ${s.spacetimedb.version}; change both together` });
    }
    return out;
}

export function familyOf(instanceType: string): string {
    return instanceType.split(".")[0] ?? "";
}

function arnRegion(arn: string): string {
    return arn.split(":")[3] ?? "";
}

export function isCanonicalCidr(c: string): boolean {
    const [ip, bits] = c.split("/");
    const n = (ip ?? "").split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
    const prefix = Number(bits);
    const hostBits = 32 - prefix;
    return hostBits === 32 ? n === 0 : n % 2 ** hostBits === 0;
}
