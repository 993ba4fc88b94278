import { beforeAll, describe, expect, it } from "vitest";
import { dataKeyPolicy } from "../../../infra/aws/dataKey";
import { keyPolicy, type PolicyStatement } from "../../../infra/aws/kms";
import { runPoliciesOver } from "../../../policy/policies";
import { ACCOUNT, type AwsCaptured, all } from "../../support/awsMocks";
import { buildAwsServer, prodConfig } from "../../support/awsStack";

/**
 * Just enough of IAM's evaluation for a key policy: an explicit Allow whose principal, action
 * (with `*` wildcards) and conditions (StringEquals, ArnLike) all match. No Deny statements exist
 * in our key policy, so allow = some statement matches.
 */
function allows(statements: PolicyStatement[], req: { principal: { Service: string } | { AWS: string }; action: string; context: Record<string, string> }): boolean {
    const glob = (pattern: string, value: string) =>
        new RegExp(
            `^${pattern
                .split("*")
                .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
                .join(".*")}$`,
        ).test(value);
    return statements.some((st) => {
        const principalOk =
            "Service" in req.principal
                ? "Service" in st.Principal && st.Principal.Service === req.principal.Service
                : "AWS" in st.Principal && st.Principal.AWS === req.principal.AWS;
        if (!principalOk || !st.Action.some((a) => glob(a, req.action))) return false;
        return Object.entries(st.Condition ?? {}).every(([op, kv]) =>
            Object.entries(kv).every(([key, want]) => {
                const got = req.context[key];
                if (got === undefined) return false;
                if (op === "StringEquals") return got === want;
                if (op === "ArnLike") return glob(want, got);
                throw new Error(`operator ${op} not modelled`);
            }),
        );
    });
}

describe("the customer key's policy (pure)", () => {
    const policy = keyPolicy({ partition: "aws", accountId: ACCOUNT, region: "eu-west-1", stack: "prod" }).Statement;
    const cw = { Service: "cloudwatch.amazonaws.com" };
    const sns = { Service: "sns.amazonaws.com" };
    const logs = { Service: "logs.eu-west-1.amazonaws.com" };
    const ours = { "aws:SourceAccount": ACCOUNT };

    it("lets CloudWatch alarms publish to an encrypted topic of this account", () => {
        expect(allows(policy, { principal: cw, action: "kms:GenerateDataKey", context: ours })).toBe(true);
        expect(allows(policy, { principal: cw, action: "kms:Decrypt", context: ours })).toBe(true);
    });

    it("lets SNS use it for this account's topics", () => {
        expect(allows(policy, { principal: sns, action: "kms:GenerateDataKey*", context: ours })).toBe(true);
        expect(allows(policy, { principal: sns, action: "kms:Decrypt", context: ours })).toBe(true);
    });

    it("lets CloudWatch Logs encrypt this stack's log groups, and only those", () => {
        const group = (name: string) => ({ "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:${name}` });
        expect(allows(policy, { principal: logs, action: "kms:GenerateDataKey", context: group("/inner-universe/prod/host") })).toBe(true);
        expect(allows(policy, { principal: logs, action: "kms:Decrypt", context: group("/inner-universe/prod/prometheus") })).toBe(true);
        expect(allows(policy, { principal: logs, action: "kms:Decrypt", context: group("/inner-universe/staging/host") })).toBe(false);
        expect(allows(policy, { principal: { Service: "logs.us-east-1.amazonaws.com" }, action: "kms:Decrypt", context: group("/inner-universe/prod/host") })).toBe(false);
    });

    it("serves no other account (confused deputy) and gives the services nothing beyond data-key use", () => {
        expect(allows(policy, { principal: cw, action: "kms:GenerateDataKey", context: { "aws:SourceAccount": "999999999999" } })).toBe(false);
        expect(allows(policy, { principal: cw, action: "kms:GenerateDataKey", context: {} })).toBe(false);
        for (const action of ["kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:CreateGrant"]) {
            for (const principal of [cw, sns, logs]) expect(allows(policy, { principal, action, context: ours }), `${principal.Service} ${action}`).toBe(false);
        }
    });

    it("keeps the account in control through IAM (without it nobody could manage the key)", () => {
        expect(allows(policy, { principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, action: "kms:PutKeyPolicy", context: {} })).toBe(true);
    });
});

describe("the data key's policy (pure)", () => {
    const policy = dataKeyPolicy({ partition: "aws", accountId: ACCOUNT }).Statement;
    it.each([
        ["the account, through IAM: creating the volume's grants", { AWS: `arn:aws:iam::${ACCOUNT}:root` }, "kms:CreateGrant", true],
        ["the account, through IAM: managing the key", { AWS: `arn:aws:iam::${ACCOUNT}:root` }, "kms:PutKeyPolicy", true],
        ["another account (no snapshot sharing unless the policy says so)", { AWS: "arn:aws:iam::999999999999:root" }, "kms:Decrypt", false],
        ["a service on its own (EBS works through the caller's grants)", { Service: "ec2.amazonaws.com" }, "kms:Decrypt", false],
        ["DLM on its own (its role is allowed by IAM instead)", { Service: "dlm.amazonaws.com" }, "kms:ReEncryptFrom", false],
    ] as const)("%s", (_, principal, action, allowed) => {
        expect(allows(policy, { principal, action, context: {} })).toBe(allowed);
    });
});

describe("aws.customer_key: true", () => {
    let resources: AwsCaptured[];
    beforeAll(async () => {
        resources = (await buildAwsServer(prodConfig({ aws: { customer_key: true } }), {}, "cmk")).resources;
    });

    it("creates one rotating key per region that has a topic or log group, with the stack's key policy", () => {
        // The data keys (data volume, backup copies) are the DataKey component's, not these.
        const keys = all(resources, "aws:kms/key:Key").filter((k) => k.name.startsWith("cmk-mon-"));
        expect(keys.map((k) => [k.name, k.inputs.region, k.inputs.enableKeyRotation])).toEqual([
            ["cmk-mon-cmk-key", undefined, true],
            ["cmk-mon-cmk-us-east-1-key", "us-east-1", true],
        ]);
        expect(JSON.parse(keys[0]!.inputs.policy)).toEqual(keyPolicy({ partition: "aws", accountId: ACCOUNT, region: "eu-west-1", stack: "prod" }));
        expect(JSON.parse(keys[1]!.inputs.policy)).toEqual(keyPolicy({ partition: "aws", accountId: ACCOUNT, region: "us-east-1", stack: "prod" }));
        expect(
            all(resources, "aws:kms/alias:Alias")
                .filter((a) => a.name.startsWith("cmk-mon-"))
                .map((a) => a.inputs.name),
        ).toEqual(["alias/inner-universe-prod-eu-west-1", "alias/inner-universe-prod-us-east-1"]);
    });

    it("encrypts every topic and log group with the key of its own region", () => {
        const topics = all(resources, "aws:sns/topic:Topic");
        expect(topics).toHaveLength(2);
        for (const t of topics) expect(String(t.inputs.kmsMasterKeyId), t.name).toMatch(new RegExp(`^arn:aws:kms:${t.inputs.region ?? "eu-west-1"}:${ACCOUNT}:key/`));
        const groups = all(resources, "aws:cloudwatch/logGroup:LogGroup");
        expect(groups).toHaveLength(2);
        for (const g of groups) expect(String(g.inputs.kmsKeyId), g.name).toMatch(new RegExp(`^arn:aws:kms:eu-west-1:${ACCOUNT}:key/`));
    });

    it("passes the policy pack", () => {
        expect(runPoliciesOver(resources, { protectData: true })).toEqual([]);
    });
});
