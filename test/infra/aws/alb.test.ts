import { beforeAll, describe, expect, it } from "vitest";
import { ALB_SSL_POLICY } from "../../../infra/aws/albTls";
import { ALB_MAX_CONDITION_VALUES, type AlbRequest, type AlbRule, albDecide, albPathPattern, albRules, conditionValueCount } from "../../../infra/aws/render/albRules";
import { ipInCidr } from "../../../infra/aws/render/cidr";
import type { StackConfig } from "../../../infra/config/load";
import { decide, type Route, routeMatrix } from "../../../infra/render/routes";
import { type AwsCaptured, all, one } from "../../support/awsMocks";
import { ALB_SECTION } from "../../support/awsSpecs";
import { buildAwsServer, prodConfig } from "../../support/awsStack";
import { expandUserData } from "../../support/userData";

/** alb mode with a Route 53 zone: the certificate is requested and DNS-validated, the name aliased to the ALB. */
const DEPLOY = ["203.0.113.0/28", "198.51.100.0/24", "192.0.2.64/26"];
let cfg: StackConfig;
let resources: AwsCaptured[];
let outputs: Awaited<ReturnType<typeof buildAwsServer>>["outputs"];

beforeAll(async () => {
    cfg = prodConfig({
        tls: { mode: "alb", email: undefined, expose_call: true },
        aws: { alb: { subnets: ALB_SECTION.subnets }, dns: { zone_id: "Z0123456789ABCDEFGHIJ" }, deploy_cidrs: DEPLOY, client_cidrs: ["0.0.0.0/0"], caddy_binary: undefined },
    });
    const built = await buildAwsServer(cfg);
    resources = built.resources;
    outputs = built.outputs;
});

const N = "inner-universe-aws";
const byName = (name: string) =>
    resources.find((r) => r.name === name) ??
    (() => {
        throw new Error(`no ${name}`);
    })();
const lb = () => one(resources, "aws:lb/loadBalancer:LoadBalancer");
const listener = (port: number) => all(resources, "aws:lb/listener:Listener").find((l) => l.inputs.port === port)!;
const sgId = (suffix: "host" | "alb") => (suffix === "host" ? "sg-00000000000000001" : "sg-00000000000000002");
const matrix = (): Route[] => routeMatrix({ database: "inner-universe", exposeCall: true, exposeSql: false });

describe("ALB + ACM (tls.mode alb)", () => {
    it("is a public application load balancer with a WebSocket-friendly idle timeout and deletion protection in prod", () => {
        expect(lb().inputs).toMatchObject({
            loadBalancerType: "application",
            internal: false,
            idleTimeout: 3600,
            dropInvalidHeaderFields: true,
            enableDeletionProtection: true,
            securityGroups: [sgId("alb")],
            subnets: ["subnet-0a1b2c3d4e5f60718", "subnet-0fed9876cba543210"],
        });
    });

    it("requests a DNS-validated ACM certificate for the domain and serves it with TLS 1.2+", () => {
        const cert = one(resources, "aws:acm/certificate:Certificate");
        expect(cert.inputs).toMatchObject({ domainName: "db.inner-universe.example", validationMethod: "DNS" });
        const validationRecord = byName(`${N}-alb-cert-validation`);
        expect(validationRecord.inputs).toMatchObject({ zoneId: "Z0123456789ABCDEFGHIJ", type: "CNAME", records: ["_x2.acm-validations.aws."] });
        const validation = one(resources, "aws:acm/certificateValidation:CertificateValidation");
        expect(validation.inputs.validationRecordFqdns).toEqual(["_x1.db.inner-universe.example"]);
        expect(listener(443).inputs).toMatchObject({ protocol: "HTTPS", sslPolicy: ALB_SSL_POLICY, certificateArn: cert.inputs.arn ?? validation.inputs.certificateArn });
    });

    it("answers everything the rules do not match with a fixed 404", () => {
        expect(listener(443).inputs.defaultActions).toEqual([
            { type: "fixed-response", fixedResponse: { statusCode: "404", contentType: "text/plain", messageBody: "not found" } },
        ]);
    });

    it("redirects HTTP to HTTPS", () => {
        expect(listener(80).inputs).toMatchObject({
            protocol: "HTTP",
            defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
        });
    });

    it("forwards to the host's relay port, health-checked on /v1/ping", () => {
        const tg = one(resources, "aws:lb/targetGroup:TargetGroup");
        expect(tg.inputs).toMatchObject({ port: 3080, protocol: "HTTP", targetType: "instance", healthCheck: { path: "/v1/ping", matcher: "200" } });
        expect(one(resources, "aws:lb/targetGroupAttachment:TargetGroupAttachment").inputs).toMatchObject({ targetId: outputs.instanceId, port: 3080 });
    });

    it("has listener rules that are exactly the rendered route matrix", () => {
        const rules = all(resources, "aws:lb/listenerRule:ListenerRule").sort((a, b) => a.inputs.priority - b.inputs.priority);
        const expected = albRules(matrix(), { deployCidrs: DEPLOY, authRequired: true });
        expect(rules.map((r) => r.inputs.priority)).toEqual(expected.map((r) => r.priority));
        rules.forEach((r, i) => {
            const e = expected[i]!;
            const cond = r.inputs.conditions as Record<string, any>[];
            expect(cond.find((c) => c.pathPattern)?.pathPattern.values).toEqual(e.pathPatterns);
            expect(cond.find((c) => c.httpRequestMethod)?.httpRequestMethod.values).toEqual(e.methods);
            expect(cond.find((c) => c.sourceIp)?.sourceIp.values).toEqual(e.sourceIps);
            expect(r.inputs.actions[0].type).toBe(e.action === "forward" ? "forward" : "fixed-response");
        });
    });

    it("admits publish routes only with a source-ip condition naming deploy CIDRs, never the world", () => {
        const rules = all(resources, "aws:lb/listenerRule:ListenerRule");
        const publishPaths = new Set(["/v1/database/inner-universe", "/v1/database/inner-universe/call/set_config", "/v1/database/inner-universe/sql"]);
        const publish = rules.filter((r) => (r.inputs.conditions as any[]).some((c) => c.pathPattern && publishPaths.has(c.pathPattern.values[0])));
        expect(publish.length).toBeGreaterThan(0);
        const sources = new Set<string>();
        for (const r of publish) {
            const ip = (r.inputs.conditions as any[]).find((c) => c.sourceIp);
            expect(ip, `rule ${r.inputs.priority} has no source-ip condition`).toBeDefined();
            for (const v of ip.sourceIp.values as string[]) sources.add(v);
        }
        expect([...sources].sort()).toEqual([...DEPLOY].sort());
        for (const r of rules.filter((x) => !publish.includes(x))) expect((r.inputs.conditions as any[]).some((c) => c.sourceIp)).toBe(false);
    });

    it("never exposes metrics, internal or prometheus routes", () => {
        const patterns = all(resources, "aws:lb/listenerRule:ListenerRule").flatMap((r) => (r.inputs.conditions as any[]).flatMap((c) => c.pathPattern?.values ?? []));
        for (const p of patterns) expect(p).not.toMatch(/metrics|internal|prometheus/);
    });

    it("gives each route a fixed priority block: exposing call or changing deploy CIDRs leaves other rules untouched", () => {
        const base = albRules(routeMatrix({ database: "inner-universe", exposeCall: false, exposeSql: false }), { deployCidrs: DEPLOY, authRequired: true });
        const withCall = albRules(matrix(), { deployCidrs: DEPLOY, authRequired: true });
        const otherCidrs = albRules(matrix(), { deployCidrs: ["203.0.113.0/28"], authRequired: true });
        const ids = (rules: AlbRule[], keep: (r: AlbRule) => boolean) => rules.filter(keep).map((r) => `${r.key}@${r.priority}`);
        expect(ids(withCall, (r) => r.route !== "call")).toEqual(ids(base, () => true));
        expect(ids(otherCidrs, (r) => !r.sourceIps)).toEqual(ids(withCall, (r) => !r.sourceIps));
        expect(new Set(withCall.map((r) => r.priority)).size).toBe(withCall.length);
        expect(
            all(resources, "aws:lb/listenerRule:ListenerRule")
                .map((r) => r.name)
                .sort(),
        ).toEqual(withCall.map((r) => `${N}-alb-rule-${r.key}`).sort());
    });

    it("keeps every rule within the ALB's five condition values", () => {
        for (const rule of albRules(matrix(), { deployCidrs: DEPLOY, authRequired: true })) expect(conditionValueCount(rule)).toBeLessThanOrEqual(ALB_MAX_CONDITION_VALUES);
    });

    it("aliases the domain to the load balancer", () => {
        expect(byName(`${N}-dns`).inputs).toMatchObject({
            zoneId: "Z0123456789ABCDEFGHIJ",
            name: "db.inner-universe.example",
            type: "A",
            aliases: [{ name: lb().name + "-1234567890.eu-west-1.elb.amazonaws.com", zoneId: "Z32O12XQLNTSW2", evaluateTargetHealth: true }],
        });
        expect(outputs.dnsTarget).toBe(`${lb().name}-1234567890.eu-west-1.elb.amazonaws.com`);
    });
});

describe("host in alb mode", () => {
    it("does not install Caddy; a relay exposes the loopback server on the target port", () => {
        const ud: string = expandUserData(one(resources, "aws:ec2/instance:Instance").inputs.userData);
        expect(ud).toContain("readonly FRONT='alb'");
        expect(ud).not.toContain("/etc/caddy/Caddyfile");
        expect(ud).not.toContain("caddy.service");
        expect(ud).toContain("ListenStream=3080");
        expect(ud).toContain("--listen-addr 127.0.0.1:3000");
    });

    it("admits only the ALB on the target port; clients reach the ALB on 443 and 80", () => {
        const ingress = all(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map((r) => ({
            group: r.inputs.securityGroupId,
            port: r.inputs.fromPort,
            cidr: r.inputs.cidrIpv4,
            from: r.inputs.referencedSecurityGroupId,
        }));
        expect(ingress.filter((r) => r.group === sgId("host"))).toEqual([{ group: sgId("host"), port: 3080, cidr: undefined, from: sgId("alb") }]);
        expect(
            ingress
                .filter((r) => r.group === sgId("alb"))
                .map((r) => [r.port, r.cidr])
                .sort(),
        ).toEqual(
            [
                [443, "0.0.0.0/0"],
                [80, "0.0.0.0/0"],
            ].sort(),
        );
        const egress = all(resources, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").map((r) => [
            r.inputs.securityGroupId,
            r.inputs.fromPort,
            r.inputs.cidrIpv4 ?? r.inputs.referencedSecurityGroupId,
        ]);
        expect(egress.sort()).toEqual(
            [
                [sgId("host"), 443, "0.0.0.0/0"],
                [sgId("alb"), 3080, sgId("host")],
            ].sort(),
        );
    });

    it("has no public address of its own", () => {
        expect(all(resources, "aws:ec2/eip:Eip")).toEqual([]);
        expect(one(resources, "aws:ec2/instance:Instance").inputs.associatePublicIpAddress).toBe(false);
    });

    it("alarms when the load balancer has no healthy target", () => {
        expect(byName(`${N}-mon-alb-healthy-hosts`).inputs).toMatchObject({
            namespace: "AWS/ApplicationELB",
            metricName: "HealthyHostCount",
            dimensions: { LoadBalancer: `app/${lb().name}/50dc6c495c0c9188`, TargetGroup: expect.stringMatching(/^targetgroup\//) },
            comparisonOperator: "LessThanThreshold",
        });
    });
});

/** Caddy's decision for the same request: the route matrix (routes.ts decide) plus its 401 for anonymous callers. */
function caddyDecide(routes: Route[], req: AlbRequest, deployCidrs: string[]): "forward" | 401 | 404 {
    const fromDeploy = deployCidrs.some((c) => ipInCidr(req.sourceIp, c));
    const access = decide(routes, req.method, req.path, fromDeploy);
    if (access === "deny") return 404;
    const route = routes.find((r) => r.methods.includes(req.method) && new RegExp(r.pathRegex).test(req.path) && (r.access === "public" || fromDeploy))!;
    const authed = (req.authorization !== undefined && /^bearer /i.test(req.authorization)) || req.token !== undefined;
    return route.needsAuth && !authed ? 401 : "forward";
}

describe("ALB rules and Caddy decide every request alike", () => {
    const client = "192.0.2.10";
    const deployer = "198.51.100.77";
    const bearer = "Bearer eyJhbGciOi.abc.def";
    const requests: [string, AlbRequest][] = [
        ["ping", { method: "GET", path: "/v1/ping", sourceIp: client }],
        ["ping HEAD", { method: "HEAD", path: "/v1/ping", sourceIp: client }],
        ["ping POST", { method: "POST", path: "/v1/ping", sourceIp: client }],
        ["identity", { method: "POST", path: "/v1/identity", sourceIp: client }],
        ["ws token anonymous", { method: "POST", path: "/v1/identity/websocket-token", sourceIp: client }],
        ["ws token", { method: "POST", path: "/v1/identity/websocket-token", sourceIp: client, authorization: bearer }],
        ["subscribe with token query", { method: "GET", path: "/v1/database/inner-universe/subscribe", sourceIp: client, token: "t" }],
        ["subscribe with bearer", { method: "GET", path: "/v1/database/inner-universe/subscribe", sourceIp: client, authorization: bearer }],
        ["subscribe anonymous", { method: "GET", path: "/v1/database/inner-universe/subscribe", sourceIp: client }],
        ["call (expose_call)", { method: "POST", path: "/v1/database/inner-universe/call/add_entity", sourceIp: client, authorization: bearer }],
        ["sql from a client (not exposed)", { method: "POST", path: "/v1/database/inner-universe/sql", sourceIp: client, authorization: bearer }],
        ["sql from the deployer", { method: "POST", path: "/v1/database/inner-universe/sql", sourceIp: deployer, authorization: bearer }],
        ["publish from a client", { method: "PUT", path: "/v1/database/inner-universe", sourceIp: client, authorization: bearer }],
        ["publish from the deployer", { method: "PUT", path: "/v1/database/inner-universe", sourceIp: deployer, authorization: bearer }],
        ["publish POST from the deployer", { method: "POST", path: "/v1/database/inner-universe", sourceIp: deployer, authorization: bearer }],
        ["publish anonymous from the deployer", { method: "PUT", path: "/v1/database/inner-universe", sourceIp: deployer }],
        ["create another database from the deployer", { method: "POST", path: "/v1/database/other-db", sourceIp: deployer, authorization: bearer }],
        ["settings from the deployer", { method: "POST", path: "/v1/database/inner-universe/call/set_config", sourceIp: deployer, authorization: bearer }],
        ["delete database", { method: "DELETE", path: "/v1/database/inner-universe", sourceIp: deployer, authorization: bearer }],
        ["metrics", { method: "GET", path: "/v1/metrics", sourceIp: deployer }],
        ["prometheus", { method: "GET", path: "/v1/prometheus", sourceIp: deployer }],
        ["internal", { method: "GET", path: "/internal/tracelog", sourceIp: deployer }],
        ["database list", { method: "GET", path: "/v1/database", sourceIp: client }],
        ["logs", { method: "GET", path: "/v1/database/inner-universe/logs", sourceIp: client, authorization: bearer }],
    ];
    it.each(requests)("%s", (_label, req) => {
        const routes = matrix();
        const rules: AlbRule[] = albRules(routes, { deployCidrs: DEPLOY, authRequired: true });
        expect(albDecide(rules, req)).toBe(caddyDecide(routes, req, DEPLOY));
    });

    it("differs only where ALB wildcards cannot say [^/]+: extra path segments (which SpacetimeDB answers with 404)", () => {
        const routes = matrix();
        const rules = albRules(routes, { deployCidrs: DEPLOY, authRequired: true });
        const nested: AlbRequest = { method: "GET", path: "/v1/database/a/b/subscribe", sourceIp: client, token: "t" };
        expect(caddyDecide(routes, nested, DEPLOY)).toBe(404);
        expect(albDecide(rules, nested)).toBe("forward");
    });

    it("translates the matrix's regexes into ALB path patterns", () => {
        expect(routes().map((r) => albPathPattern(r.pathRegex))).toEqual([
            "/v1/ping",
            "/v1/identity",
            "/v1/identity/websocket-token",
            "/v1/database/*/subscribe",
            "/v1/database/*/call/*",
            "/v1/database/inner-universe",
            "/v1/database/inner-universe/call/set_config",
            "/v1/database/inner-universe/sql",
        ]);
        expect(() => albPathPattern("^/v1/(a|b)$")).toThrow(/cannot express/);
    });

    const routes = matrix;
});
