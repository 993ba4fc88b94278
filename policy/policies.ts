import type { PolicyResourceOptions, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { SNAPSHOT_TAG_KEY } from "../infra/aws/render/constants";

/**
 * Our own policy pack (no awsguard: its EBS rule ignores standalone volumes). Pure: importing
 * this module starts nothing; policy/index.ts wraps these in a PolicyPack for the engine, and
 * `runPoliciesOver` applies them to resources captured by Pulumi mocks.
 */

/** A resource as the program asked for it; protection lives in options, not inputs. */
export interface CapturedResource {
    type: string;
    name: string;
    inputs: Record<string, any>;
    options?: { protect?: boolean; retainOnDelete?: boolean };
}

export interface Violation {
    policy: string;
    type: string;
    name: string;
    message: string;
}

export interface StackPolicyConfig {
    /** protect.data of the stack: data volumes must be protected and retained on delete. */
    protectData: boolean;
}

/** The engine hands analyzers `protect` but not `retainOnDelete`; mocks know both. */
type Options = PolicyResourceOptions & { retainOnDelete?: boolean };

const T = {
    volume: "aws:ebs/volume:Volume",
    instance: "aws:ec2/instance:Instance",
    launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
    sg: "aws:ec2/securityGroup:SecurityGroup",
    sgRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
    ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
    role: "aws:iam/role:Role",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    iamPolicy: "aws:iam/policy:Policy",
    user: "aws:iam/user:User",
    accessKey: "aws:iam/accessKey:AccessKey",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    kmsKey: "aws:kms/key:Key",
    ssmParameter: "aws:ssm/parameter:Parameter",
    lb: "aws:lb/loadBalancer:LoadBalancer",
    listener: "aws:lb/listener:Listener",
    localShell: "pulumi-nodejs:dynamic/inner-universe:LocalShell",
    container: "docker:index/container:Container",
} as const;

const WEB_PORTS = new Set([80, 443]);
const WORLD = new Set(["0.0.0.0/0", "::/0"]);

function policy(
    name: string,
    description: string,
    validate: (args: ResourceValidationArgs, report: ReportViolation) => void,
    extra: Partial<ResourceValidationPolicy> = {},
): ResourceValidationPolicy {
    return { name, description, enforcementLevel: "mandatory", validateResource: validate, ...extra };
}

export const encryptedVolumes = policy("ebs-volumes-encrypted", "Every EBS volume (standalone, root and block devices) is encrypted.", (args, report) => {
    for (const [where, dev] of blockDevices(args)) if (dev.encrypted !== true) report(`${where} is not encrypted`);
});

export const gp3Volumes = policy("ebs-volumes-gp3", "Every EBS volume is gp3 (aws v7 still defaults standalone volumes to gp2).", (args, report) => {
    for (const [where, dev] of blockDevices(args)) {
        const type = dev.type ?? dev.volumeType;
        if (type !== "gp3") report(`${where} is ${type ?? "unset (gp2)"}, expected gp3`);
    }
});

export const imdsV2 = policy("ec2-imdsv2-required", "Instances require IMDSv2 session tokens.", (args, report) => {
    if (args.type !== T.instance && args.type !== T.launchTemplate) return;
    const m = args.props.metadataOptions;
    if (m?.httpEndpoint === "disabled") return;
    if (m?.httpTokens !== "required") report(`metadataOptions.httpTokens is ${m?.httpTokens ?? "unset"}, expected "required"`);
});

export const worldOnlyWeb = policy("no-world-open-ports-except-web", "0.0.0.0/0 (or ::/0) only on TCP 80 or 443, in either direction.", (args, report) => {
    for (const r of sgRules(args)) {
        if (!r.cidrs.some((c) => WORLD.has(c))) continue;
        const tcp = r.protocol === "tcp" || r.protocol === "6";
        if (!tcp || r.from !== r.to || !WEB_PORTS.has(r.from)) {
            report(`${r.direction} ${r.protocol} ${r.from}-${r.to} is open to the world; only TCP 80/443 may be`);
        }
    }
});

export const noSsh = policy("no-ssh-ingress", "No ingress rule reaches port 22 (administration goes through SSM Session Manager).", (args, report) => {
    for (const r of sgRules(args)) {
        if (r.direction !== "ingress") continue;
        const all = r.protocol === "-1" || r.protocol === "all";
        if (all || (r.from <= 22 && 22 <= r.to && (r.protocol === "tcp" || r.protocol === "6"))) report(`ingress ${r.protocol} ${r.from}-${r.to} admits SSH`);
    }
});

export const alarmsHaveActions = policy("alarms-have-actions", "Every CloudWatch alarm notifies or acts when it fires.", (args, report) => {
    if (args.type !== T.alarm) return;
    const actions: unknown[] = args.props.alarmActions ?? [];
    if (actions.length === 0) report("alarm has no alarmActions");
    if (args.props.actionsEnabled === false) report("alarm has actionsEnabled: false");
});

export const snapshotTagged = policy("data-volumes-snapshot-tagged", `Every EBS volume carries the ${SNAPSHOT_TAG_KEY} tag the DLM policy selects.`, (args, report) => {
    if (args.type !== T.volume) return;
    const value = args.props.tags?.[SNAPSHOT_TAG_KEY];
    if (typeof value !== "string" || value === "") report(`volume has no ${SNAPSHOT_TAG_KEY} tag, so no snapshots`);
});

export const protectedData = policy(
    "data-volumes-protected",
    "With protect.data, every EBS volume is Pulumi-protected and retained on delete.",
    (args, report) => {
        if (args.type !== T.volume || !args.getConfig<StackPolicyConfig>().protectData) return;
        const opts = args.opts as Options;
        if (opts.protect !== true) report("data volume is not protected (protect: true)");
        // Analyzers never see retainOnDelete (undefined there); mock captures always say.
        if (opts.retainOnDelete === false) report("data volume is not retained on delete (retainOnDelete: true)");
    },
    { configSchema: { properties: { protectData: { type: "boolean", default: true } } } },
);

const SECRET_PATTERNS: [string, RegExp][] = [
    ["an AWS access key id", /\b(AKIA|ASIA)[0-9A-Z]{16}\b/],
    ["a private key", /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
    ["a JWT (SpacetimeDB tokens are JWTs)", /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/],
    ["a literal bearer token", /Bearer\s+[A-Za-z0-9._~+/-]{16,}/],
    ["a GitHub token", /\bgh[pousr]_[A-Za-z0-9]{30,}\b/],
    ["a password/secret/token assignment", /\b[A-Za-z_]*(PASSWORD|PASSWD|SECRET|TOKEN|API_KEY)[A-Za-z_]*\s*[:=]\s*["']?[^\s"'$*{}]{8,}/i],
];

export const noSecretsInUserData = policy(
    "no-secrets-in-user-data",
    "User data holds no secrets: EC2 stores it in plain text, readable with ec2:DescribeInstanceAttribute.",
    (args, report) => {
        if (args.type !== T.instance && args.type !== T.launchTemplate) return;
        const texts: string[] = [];
        if (typeof args.props.userData === "string") texts.push(args.type === T.launchTemplate ? decode(args.props.userData) : args.props.userData);
        if (typeof args.props.userDataBase64 === "string") texts.push(decode(args.props.userDataBase64));
        for (const text of texts) for (const [what, re] of SECRET_PATTERNS) if (re.test(text)) report(`user data contains ${what}`);
    },
);

export const noSecretsInPlainParameters = policy(
    "ssm-plain-parameters-no-secrets",
    "String and StringList SSM parameters hold no secrets: anyone allowed ssm:GetParameter reads them without a key, and Pulumi shows their values in every diff. A secret goes into a SecureString.",
    (args, report) => {
        if (args.type !== T.ssmParameter || args.props.type === "SecureString") return;
        // insecureValue: the same value, which Pulumi then shows in previews.
        const values = [args.props.value, args.props.insecureValue].filter((v): v is string => typeof v === "string");
        for (const value of values) {
            for (const [what, re] of SECRET_PATTERNS)
                if (re.test(value)) report(`${args.props.type ?? "String"} parameter ${args.props.name ?? args.name} contains ${what}; make it a SecureString`);
        }
    },
);

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[?::1\]?)$/;

/** host of "host:port" (IPv6 in brackets or bare). */
function hostOf(listen: string): string {
    const i = listen.lastIndexOf(":");
    return i > 0 ? listen.slice(0, i) : listen;
}

export const loopbackServers = policy(
    "spacetimedb-loopback-only",
    "A SpacetimeDB server the stack runs on this machine listens on loopback only: /v1/metrics, /internal/* and publishing are open to anyone who reaches it, so clients come in through the TLS front.",
    (args, report) => {
        if (args.type === T.localShell && typeof args.props.environment?.IU_LISTEN === "string") {
            const host = hostOf(args.props.environment.IU_LISTEN);
            if (!LOOPBACK.test(host))
                report(`the local server listens on ${host}; set inner-universe:spacetimedb.address to 127.0.0.1 and reach it through the TLS front (tls.enabled)`);
        }
        if (args.type === T.container) {
            for (const p of (args.props.ports ?? []) as { ip?: string; external?: number }[]) {
                if (!LOOPBACK.test(p.ip ?? "0.0.0.0")) report(`the container publishes port ${p.external ?? "?"} on ${p.ip ?? "every interface"}; publish it on 127.0.0.1`);
            }
        }
    },
);

/** Services that assume a role without sending aws:SourceAccount (EC2 instance profiles stay in the instance's account). */
const NO_SOURCE_CONTEXT = new Set(["ec2.amazonaws.com"]);

export const serviceRolesScoped = policy(
    "iam-service-roles-source-account",
    "A role a service assumes carries aws:SourceAccount or aws:SourceArn (confused-deputy protection), except EC2 instance roles.",
    (args, report) => {
        if (args.type !== T.role) return;
        for (const st of statements(args.props.assumeRolePolicy)) {
            const services = ([] as string[]).concat(st.Principal?.Service ?? []);
            const scoped = Object.values(st.Condition ?? {}).some((c: any) => c && ("aws:SourceAccount" in c || "aws:SourceArn" in c));
            for (const svc of services) if (!NO_SOURCE_CONTEXT.has(svc) && !scoped) report(`${svc} may assume the role without an aws:SourceAccount/aws:SourceArn condition`);
        }
    },
);

export const noWildcardIam = policy(
    "iam-no-wildcard-actions",
    'Inline and customer-managed IAM policies name their actions: no "*", no "service:*", no NotAction (FSBP IAM.1, IAM.21).',
    (args, report) => {
        const docs: unknown[] = [];
        if (args.type === T.rolePolicy || args.type === T.iamPolicy) docs.push(args.props.policy);
        if (args.type === T.role) for (const p of args.props.inlinePolicies ?? []) docs.push(p.policy);
        for (const st of docs.flatMap(statements)) {
            if (st.Effect !== "Allow") continue;
            if (st.NotAction) report("an Allow statement uses NotAction");
            for (const a of ([] as string[]).concat(st.Action ?? [])) if (a === "*" || /^[a-z0-9-]+:\*$/i.test(a)) report(`allows ${a}`);
        }
    },
);

export const noIamUsers = policy("no-iam-users", "The stack creates no IAM users or access keys: hosts use instance roles, people use SSO (FSBP IAM.2).", (args, report) => {
    if (args.type === T.user || args.type === T.accessKey) report(`${args.type} creates long-lived credentials`);
});

export const logGroupsRetained = policy("log-groups-have-retention", "Every log group has a retention period (never kept, or billed, forever by accident).", (args, report) => {
    if (args.type === T.logGroup && !(Number(args.props.retentionInDays) > 0)) report("log group has no retentionInDays");
});

export const kmsKeysRotate = policy("kms-keys-rotate", "Customer-managed symmetric keys rotate yearly (FSBP KMS.4).", (args, report) => {
    if (args.type !== T.kmsKey) return;
    const spec = args.props.customerMasterKeySpec ?? args.props.keySpec ?? "SYMMETRIC_DEFAULT";
    if (spec === "SYMMETRIC_DEFAULT" && args.props.enableKeyRotation !== true) report("enableKeyRotation is not true");
});

/** TLS 1.2+ policies with forward secrecy only (FSBP ELB.8 asks for a strong predefined policy). */
export const ALB_TLS_POLICIES = new Set([
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-FS-1-2-Res-2020-10",
]);

export const albHardened = policy(
    "alb-https-hardened",
    "Load balancers drop invalid headers (ELB.4), are deletion-protected with protect.data (ELB.6); HTTP listeners only redirect to HTTPS (ELB.1); HTTPS listeners use a TLS 1.2+ forward-secret policy (ELB.8).",
    (args, report) => {
        if (args.type === T.lb && (args.props.loadBalancerType ?? "application") === "application") {
            if (args.props.dropInvalidHeaderFields !== true) report("dropInvalidHeaderFields is not true");
            if (args.getConfig<StackPolicyConfig>().protectData && args.props.enableDeletionProtection !== true) report("enableDeletionProtection is not true (protect.data)");
            if (args.props.desyncMitigationMode !== undefined && !["defensive", "strictest"].includes(args.props.desyncMitigationMode))
                report(`desyncMitigationMode is ${args.props.desyncMitigationMode}`);
        }
        if (args.type === T.listener) {
            const protocol = String(args.props.protocol ?? "").toUpperCase();
            const actions: any[] = args.props.defaultActions ?? [];
            if (protocol === "HTTP" && !actions.every((a) => a.type === "redirect" && a.redirect?.protocol === "HTTPS"))
                report("an HTTP listener does something other than redirect to HTTPS");
            if (protocol === "HTTPS" && !ALB_TLS_POLICIES.has(args.props.sslPolicy)) report(`sslPolicy ${args.props.sslPolicy ?? "unset"} is not a TLS 1.2+ forward-secret policy`);
        }
    },
    { configSchema: { properties: { protectData: { type: "boolean", default: true } } } },
);

export const allPolicies: ResourceValidationPolicy[] = [
    encryptedVolumes,
    gp3Volumes,
    imdsV2,
    worldOnlyWeb,
    noSsh,
    alarmsHaveActions,
    snapshotTagged,
    protectedData,
    noSecretsInUserData,
    noSecretsInPlainParameters,
    loopbackServers,
    serviceRolesScoped,
    noWildcardIam,
    noIamUsers,
    logGroupsRetained,
    kmsKeysRotate,
    albHardened,
];

/** Runs every policy over captured resources (mock tests of every stack call this). */
export function runPoliciesOver(resources: CapturedResource[], stack: StackPolicyConfig, policies: ResourceValidationPolicy[] = allPolicies): Violation[] {
    const out: Violation[] = [];
    for (const r of resources) {
        const args = validationArgs(r, stack);
        for (const p of policies) {
            const validations = p.validateResource === undefined ? [] : Array.isArray(p.validateResource) ? p.validateResource : [p.validateResource];
            for (const validate of validations) {
                const result = validate(args, (message) => out.push({ policy: p.name, type: r.type, name: r.name, message }));
                if (result instanceof Promise) throw new Error(`policy ${p.name} is asynchronous; runPoliciesOver expects synchronous policies`);
            }
        }
    }
    return out;
}

function validationArgs(r: CapturedResource, stack: StackPolicyConfig): ResourceValidationArgs {
    const opts: Options = {
        protect: r.options?.protect === true,
        retainOnDelete: r.options?.retainOnDelete === true,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
    };
    return {
        type: r.type,
        props: r.inputs,
        urn: `urn:pulumi:captured::inner-universe::${r.type}::${r.name}`,
        name: r.name,
        opts,
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <C extends object>() => stack as unknown as C,
        notApplicable: (reason?: string): never => {
            throw new Error(`not applicable: ${reason ?? ""}`);
        },
    };
}

function blockDevices(args: ResourceValidationArgs): [string, Record<string, any>][] {
    const p = args.props;
    if (args.type === T.volume) return [["volume", p]];
    if (args.type === T.instance) {
        const out: [string, Record<string, any>][] = [["rootBlockDevice", p.rootBlockDevice ?? {}]];
        for (const [i, d] of ((p.ebsBlockDevices ?? []) as Record<string, any>[]).entries()) out.push([`ebsBlockDevices[${i}]`, d]);
        return out;
    }
    if (args.type === T.launchTemplate) {
        return (p.blockDeviceMappings ?? []).filter((m: any) => m.ebs).map((m: any, i: number) => [`blockDeviceMappings[${i}].ebs`, m.ebs]);
    }
    return [];
}

interface SgRule {
    direction: "ingress" | "egress";
    protocol: string;
    from: number;
    to: number;
    cidrs: string[];
}

function sgRules(args: ResourceValidationArgs): SgRule[] {
    const p = args.props;
    const proto = (v: unknown) => String(v ?? "").toLowerCase();
    const ports = (from: unknown, to: unknown, protocol: string) =>
        protocol === "-1" || protocol === "all" ? { from: 0, to: 65535 } : { from: Number(from ?? 0), to: Number(to ?? from ?? 65535) };
    if (args.type === T.ingress || args.type === T.egress) {
        const protocol = proto(p.ipProtocol);
        return [{ direction: args.type === T.ingress ? "ingress" : "egress", protocol, ...ports(p.fromPort, p.toPort, protocol), cidrs: [p.cidrIpv4, p.cidrIpv6].filter(Boolean) }];
    }
    if (args.type === T.sgRule) {
        const protocol = proto(p.protocol);
        return [
            {
                direction: p.type === "egress" ? "egress" : "ingress",
                protocol,
                ...ports(p.fromPort, p.toPort, protocol),
                cidrs: [...(p.cidrBlocks ?? []), ...(p.ipv6CidrBlocks ?? [])],
            },
        ];
    }
    if (args.type === T.sg) {
        const inline = (list: any[] | undefined, direction: "ingress" | "egress"): SgRule[] =>
            (list ?? []).map((r) => {
                const protocol = proto(r.protocol);
                return { direction, protocol, ...ports(r.fromPort, r.toPort, protocol), cidrs: [...(r.cidrBlocks ?? []), ...(r.ipv6CidrBlocks ?? [])] };
            });
        return [...inline(p.ingress, "ingress"), ...inline(p.egress, "egress")];
    }
    return [];
}

/** Statements of a policy document given as JSON text (engine, mocks) or an object. */
function statements(doc: unknown): Record<string, any>[] {
    let d: any = doc;
    if (typeof d === "string") {
        try {
            d = JSON.parse(d);
        } catch {
            return [];
        }
    }
    return d && typeof d === "object" ? ([] as Record<string, any>[]).concat(d.Statement ?? []) : [];
}

function decode(b64: string): string {
    return Buffer.from(b64, "base64").toString("utf8");
}
