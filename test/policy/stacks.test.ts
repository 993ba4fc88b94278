import { describe, expect, it } from "vitest";
import { runPoliciesOver } from "../../policy/policies";
import { ALB_SECTION } from "../support/awsSpecs";
import { buildAwsServer, prodConfig } from "../support/awsStack";

/** The pack over everything the mocks capture for each AWS stack shape: no violations. */
describe("policy pack over captured AWS stacks", () => {
    it("prod (Pulumi.prod.yaml, acme): zero violations, and the capture really holds what the policies look at", async () => {
        const cfg = prodConfig();
        const { resources } = await buildAwsServer(cfg, {}, "prod");
        expect(runPoliciesOver(resources, { protectData: cfg.protect.data })).toEqual([]);
        expect(resources.filter((r) => r.type === "aws:ebs/volume:Volume")).toHaveLength(1);
        expect(resources.filter((r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm").length).toBeGreaterThanOrEqual(6);
        expect(resources.filter((r) => r.type.startsWith("aws:vpc/securityGroup")).length).toBeGreaterThanOrEqual(3);
        expect(resources.some((r) => r.type === "aws:ec2/instance:Instance" && typeof r.inputs.userData === "string" && r.inputs.userData.length > 1000)).toBe(true);
    });

    it("prod in alb mode: zero violations", async () => {
        const cfg = prodConfig({ tls: { mode: "alb" }, aws: { alb: ALB_SECTION, caddy_binary: undefined } });
        const { resources } = await buildAwsServer(cfg, {}, "prod-alb");
        expect(runPoliciesOver(resources, { protectData: true })).toEqual([]);
    });

    it("an unprotected stack passes with protectData false, and the same capture fails prod's rule", async () => {
        const cfg = prodConfig({ stack: "staging", protect: { data: false } });
        const { resources } = await buildAwsServer(cfg, {}, "staging");
        expect(runPoliciesOver(resources, { protectData: false })).toEqual([]);
        expect(runPoliciesOver(resources, { protectData: true }).map((v) => v.policy)).toEqual(["data-volumes-protected", "data-volumes-protected"]);
    });
});
