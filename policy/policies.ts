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
    localShell: "pulumi-nodejs:dynamic/inner-universe:LocalShell",
    container: "docker:index/container:Container",
} as const;

const WEB_PORTS = new Set([80, 443]);
const WORLD = new Set(["0.0.0.0/0", "::/0"]);

function policy(name: string, description: string, validate: (args: ResourceValidationArgs, report: ReportViolation) => void, extra: Partial<ResourceValidationPolicy> = {}): ResourceValidationPolicy {
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

export const noSecretsInUserData = policy("no-secrets-in-user-data", "User data holds no secrets: EC2 stores it in plain text, readable with ec2:DescribeInstanceAttribute.", (args, report) => {
    if (args.type !== T.instance && args.type !== T.launchTemplate) return;
    const texts: string[] = [];
    if (typeof args.props.userData === "string") texts.push(args.type === T.launchTemplate ? decode(args.props.userData) : args.props.userData);
    if (typeof args.props.userDataBase64 === "string") texts.push(decode(args.props.userDataBase64));
    for (const text of texts) for (const [what, re] of SECRET_PATTERNS) if (re.test(text)) report(`user data contains ${what}`);
});

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
            if (!LOOPBACK.test(host)) report(`the local server listens on ${host}; set inner-universe:spacetimedb.address to 127.0.0.1 and reach it through the TLS front (tls.enabled)`);
        }
        if (args.type === T.container) {
            for (const p of (args.props.ports ?? []) as { ip?: string; external?: number }[]) {
                if (!LOOPBACK.test(p.ip ?? "0.0.0.0")) report(`the container publishes port ${p.external ?? "?"} on ${p.ip ?? "every interface"}; publish it on 127.0.0.1`);
            }
        }
    },
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
    loopbackServers,
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
        (p.ebsBlockDevices ?? []).forEach((d: Record<string, any>, i: number) => out.push([`ebsBlockDevices[${i}]`, d]));
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
        return [{ direction: p.type === "egress" ? "egress" : "ingress", protocol, ...ports(p.fromPort, p.toPort, protocol), cidrs: [...(p.cidrBlocks ?? []), ...(p.ipv6CidrBlocks ?? [])] }];
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

function decode(b64: string): string {
    return Buffer.from(b64, "base64").toString("utf8");
}
