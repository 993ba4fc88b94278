import * as pulumi from "@pulumi/pulumi";
import type { Route } from "../render/routes";
import { type AlbRule, albRules } from "./render/albRules";
import { ALB_TARGET_PORT } from "./render/constants";
import * as aws from "./sdk";

export interface AlbTlsArgs {
    environment: string;
    vpcId: pulumi.Input<string>;
    subnetIds: string[];
    securityGroupId: pulumi.Input<string>;
    instanceId: pulumi.Input<string>;
    domain: string;
    /** An issued certificate; otherwise one is requested and validated in zoneId. */
    certificateArn?: string;
    zoneId?: string;
    idleTimeoutSeconds: number;
    deletionProtection: boolean;
    routes: Route[];
    deployCidrs: string[];
    authRequired: boolean;
    /** aws.alb.access_logs: an existing bucket the region's ELB log delivery may write to. */
    accessLogs?: { bucket: string; prefix: string };
    /** aws.alb.waf_acl_arn: an existing regional WAFv2 web ACL. */
    wafAclArn?: string;
}

/** TLS 1.3 with 1.2 fallback, forward-secret ciphers only. */
export const ALB_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/**
 * TLS at an Application Load Balancer with an ACM certificate (tls.mode alb). Its listener rules
 * are the same route matrix Caddy enforces in acme mode; whatever they do not match gets a 404.
 */
export class AlbTls extends pulumi.ComponentResource {
    readonly dnsName: pulumi.Output<string>;
    readonly zoneId: pulumi.Output<string>;
    readonly loadBalancerArnSuffix: pulumi.Output<string>;
    readonly targetGroupArnSuffix: pulumi.Output<string>;
    /** Resolves once listeners, rules and the target are in place. */
    readonly ready: pulumi.Output<string>;
    readonly rules: AlbRule[];

    constructor(name: string, args: AlbTlsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("inner-universe:aws:AlbTls", name, {}, opts);
        const certificateArn = args.certificateArn ? pulumi.output(args.certificateArn) : this.certificate(name, args);
        const lb = this.createLoadBalancer(name, args);
        const { targetGroup, target } = this.createTarget(name, args);
        const https = this.listener(`${name}-https`, lb, { port: 443, protocol: "HTTPS", sslPolicy: ALB_SSL_POLICY, certificateArn }, NOT_FOUND);
        const http = this.listener(`${name}-http`, lb, { port: 80, protocol: "HTTP" }, TO_HTTPS);
        this.rules = albRules(args.routes, { deployCidrs: args.deployCidrs, authRequired: args.authRequired });
        const rules = this.rules.map((rule) => this.createRule(name, rule, https, targetGroup));

        this.dnsName = lb.dnsName;
        this.zoneId = lb.zoneId;
        this.loadBalancerArnSuffix = lb.arnSuffix;
        this.targetGroupArnSuffix = targetGroup.arnSuffix;
        this.ready = pulumi.all([target.id, http.arn, ...rules.map((r) => r.arn)]).apply(() => "ready");
        this.registerOutputs({ dnsName: this.dnsName });
    }

    private certificate(name: string, args: AlbTlsArgs): pulumi.Output<string> {
        if (!args.zoneId) throw new pulumi.ResourceError("inner-universe:aws.alb.certificate_arn: required unless aws.dns.zone_id is set", this);
        const cert = new aws.acm.Certificate(`${name}-cert`, { domainName: args.domain, validationMethod: "DNS", tags: { Name: args.domain } }, { parent: this });
        const option = cert.domainValidationOptions[0]!;
        const record = new aws.route53.Record(
            `${name}-cert-validation`,
            { zoneId: args.zoneId, name: option.resourceRecordName, type: option.resourceRecordType, records: [option.resourceRecordValue], ttl: 300, allowOverwrite: true },
            { parent: this },
        );
        const validation = new aws.acm.CertificateValidation(`${name}-cert-validated`, { certificateArn: cert.arn, validationRecordFqdns: [record.fqdn] }, { parent: this });
        return validation.certificateArn;
    }

    private createLoadBalancer(name: string, args: AlbTlsArgs): aws.lb.LoadBalancer {
        const lb = new aws.lb.LoadBalancer(
            `${name}-lb`,
            {
                loadBalancerType: "application",
                internal: false,
                securityGroups: [args.securityGroupId],
                subnets: args.subnetIds,
                // Subscriptions are long-lived WebSockets that can sit idle between updates.
                idleTimeout: args.idleTimeoutSeconds,
                dropInvalidHeaderFields: true,
                desyncMitigationMode: "defensive",
                enableDeletionProtection: args.deletionProtection,
                ...(args.accessLogs ? { accessLogs: { bucket: args.accessLogs.bucket, prefix: args.accessLogs.prefix, enabled: true } } : {}),
                tags: { Name: `inner-universe-${args.environment}` },
            },
            { parent: this },
        );
        if (args.wafAclArn) {
            new aws.wafv2.WebAclAssociation(`${name}-waf`, { resourceArn: lb.arn, webAclArn: args.wafAclArn }, { parent: this });
        }
        return lb;
    }

    /** The host as the one target, health-checked on the server's own ping. */
    private createTarget(name: string, args: AlbTlsArgs) {
        const targetGroup = new aws.lb.TargetGroup(
            `${name}-tg`,
            {
                port: ALB_TARGET_PORT,
                protocol: "HTTP",
                targetType: "instance",
                vpcId: args.vpcId,
                deregistrationDelay: 30,
                healthCheck: { path: "/v1/ping", protocol: "HTTP", matcher: "200", interval: 15, healthyThreshold: 2, unhealthyThreshold: 3, timeout: 5 },
            },
            { parent: this },
        );
        const target = new aws.lb.TargetGroupAttachment(`${name}-target`, { targetGroupArn: targetGroup.arn, targetId: args.instanceId, port: ALB_TARGET_PORT }, { parent: this });
        return { targetGroup, target };
    }

    private listener(key: string, lb: aws.lb.LoadBalancer, how: Omit<aws.lb.ListenerArgs, "loadBalancerArn" | "defaultActions">, otherwise: ListenerAction): aws.lb.Listener {
        return new aws.lb.Listener(key, { loadBalancerArn: lb.arn, ...how, defaultActions: [otherwise] }, { parent: this });
    }

    private createRule(name: string, rule: AlbRule, https: aws.lb.Listener, targetGroup: aws.lb.TargetGroup): aws.lb.ListenerRule {
        const action: aws.types.input.lb.ListenerRuleAction =
            rule.action === "forward"
                ? { type: "forward", targetGroupArn: targetGroup.arn }
                : { type: "fixed-response", fixedResponse: { statusCode: "401", contentType: "text/plain", messageBody: "authorization required" } };
        return new aws.lb.ListenerRule(
            `${name}-rule-${rule.key}`,
            { listenerArn: https.arn, priority: rule.priority, conditions: conditionsOf(rule), actions: [action], tags: { Name: `${rule.route}` } },
            { parent: this },
        );
    }
}

type ListenerAction = aws.types.input.lb.ListenerDefaultAction;

const NOT_FOUND: ListenerAction = { type: "fixed-response", fixedResponse: { statusCode: "404", contentType: "text/plain", messageBody: "not found" } };
const TO_HTTPS: ListenerAction = { type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } };

function conditionsOf(rule: AlbRule): aws.types.input.lb.ListenerRuleCondition[] {
    const out: aws.types.input.lb.ListenerRuleCondition[] = [{ pathPattern: { values: rule.pathPatterns } }, { httpRequestMethod: { values: rule.methods } }];
    if (rule.sourceIps) out.push({ sourceIp: { values: rule.sourceIps } });
    if (rule.auth && "header" in rule.auth) out.push({ httpHeader: { httpHeaderName: rule.auth.header, values: [rule.auth.value] } });
    if (rule.auth && "queryKey" in rule.auth) out.push({ queryStrings: [{ key: rule.auth.queryKey, value: rule.auth.value }] });
    return out;
}
