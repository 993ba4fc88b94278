import { describe, expect, it } from "vitest";
import { runPoliciesOver } from "../../../policy/policies";
import { all, one } from "../../support/awsMocks";
import { ALB_SECTION } from "../../support/awsSpecs";
import { buildAwsServer, prodConfig } from "../../support/awsStack";

const WAF = "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/inner-universe/11111111-2222-3333-4444-555555555555";

describe("alb mode: access logs and WAF (FSBP ELB.5, ELB.16)", () => {
    it("writes access logs to the configured bucket and associates the web ACL with the load balancer", async () => {
        const cfg = prodConfig({
            tls: { mode: "alb" },
            aws: { alb: { ...ALB_SECTION, access_logs: { bucket: "iu-alb-logs", prefix: "prod" }, waf_acl_arn: WAF }, caddy_binary: undefined },
        });
        const { resources } = await buildAwsServer(cfg, {}, "albx");
        const lb = one(resources, "aws:lb/loadBalancer:LoadBalancer");
        expect(lb.inputs).toMatchObject({ accessLogs: { bucket: "iu-alb-logs", prefix: "prod", enabled: true }, dropInvalidHeaderFields: true, desyncMitigationMode: "defensive" });
        const assoc = one(resources, "aws:wafv2/webAclAssociation:WebAclAssociation");
        expect(assoc.inputs).toEqual({ resourceArn: `arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/albx-alb-lb/50dc6c495c0c9188`, webAclArn: WAF });
        expect(runPoliciesOver(resources, { protectData: true })).toEqual([]);
    });

    it("without them: no access logs and no association (the default, justified in docs/aws.md)", async () => {
        const cfg = prodConfig({ tls: { mode: "alb" }, aws: { alb: ALB_SECTION, caddy_binary: undefined } });
        const { resources } = await buildAwsServer(cfg, {}, "albplain");
        expect(one(resources, "aws:lb/loadBalancer:LoadBalancer").inputs.accessLogs).toBeUndefined();
        expect(all(resources, "aws:wafv2/webAclAssociation:WebAclAssociation")).toEqual([]);
    });

    it("refuses a web ACL of another region, naming the key, before anything is created", () => {
        expect(() => prodConfig({ tls: { mode: "alb" }, aws: { alb: { ...ALB_SECTION, waf_acl_arn: WAF.replace("eu-west-1", "us-east-2") }, caddy_binary: undefined } })).toThrow(
            /aws\.alb\.waf_acl_arn: web ACL is in us-east-2; the ALB is in eu-west-1/,
        );
    });
});
