import { beforeAll, describe, expect, it } from "vitest";
import { atlasOutputSchema } from "../../../infra/contract/atlas";
import type { StackOutputs } from "../../../infra/program";
import { runPoliciesOver } from "../../../policy/policies";
import { type AwsCaptured, installAwsMocks, output } from "../../support/awsMocks";
import { prodConfig } from "../../support/awsStack";
import { DB_IDENTITY, FAKE_TOKEN, fakeModuleBuilder, WASM_SHA } from "../../support/fakeSteps";

/** The whole prod program (not just AwsServer): the same build → identity → publish → readiness chain over AWS. */
let resources: AwsCaptured[];
let outputs: StackOutputs;

beforeAll(async () => {
    const cfg = prodConfig();
    const mocks = await installAwsMocks("prod", { region: cfg.aws!.region });
    const { buildStack } = await import("../../../infra/program");
    outputs = buildStack({ cfg }, { buildModule: fakeModuleBuilder });
    await output(outputs.atlas);
    await mocks.settle();
    resources = mocks.resources;
});

const byName = (name: string) => {
    const r = resources.find((x) => x.name === name);
    if (!r) throw new Error(`no ${name}`);
    return r;
};

describe("prod stack program", () => {
    it("publishes and checks readiness through the TLS endpoint, never a loopback URL", () => {
        const publish = byName("inner-universe-publish-wasm");
        expect(publish.type).toBe("pulumi-nodejs:dynamic/spacetimedb:Database");
        expect(publish.inputs.serverUrl).toBe("https://db.inner-universe.example");
        expect(publish.inputs.deleteData).toBe("never");
        expect(byName("inner-universe-ready-probe").inputs.serverUrl).toBe("https://db.inner-universe.example");
        expect(resources.some((r) => r.name.endsWith("server-process") || r.type.startsWith("docker:"))).toBe(false);
    });

    it("binds the deployer identity to the data volume (where the signing keys live)", () => {
        const mint = byName("inner-universe-deployer-mint");
        const volume = resources.find((r) => r.type === "aws:ebs/volume:Volume")!;
        expect(mint.type).toBe("pulumi-nodejs:dynamic/spacetimedb:Identity");
        expect(String(mint.inputs.scope)).toMatch(/^vol-/);
        expect(volume).toBeDefined();
    });

    it("exports https/wss atlas outputs without secrets", async () => {
        const atlas = atlasOutputSchema.parse(await output(outputs.atlas));
        expect(atlas).toMatchObject({
            runtime: "aws",
            environment: "prod",
            http: { url: "https://db.inner-universe.example" },
            ws: { url: "wss://db.inner-universe.example" },
            tls: { enabled: true },
            database: { identity: DB_IDENTITY },
            module: { sha256: WASM_SHA },
        });
        expect(atlas.tls.caCertPath).toBeUndefined();
        expect(JSON.stringify(atlas)).not.toContain(FAKE_TOKEN.split(".")[1]);
    });

    it("exports the operational ids the restore runbook needs", async () => {
        const ops = await output(outputs.aws!);
        expect(ops.dataVolumeId).toMatch(/^vol-/);
        expect(ops.instanceId).toMatch(/^i-/);
        expect(ops.alarmTopicArn).toMatch(/^arn:aws:sns:/);
        expect(ops.dnsTarget.length).toBeGreaterThan(0);
    });

    it("passes the policy pack as a whole program, local steps included", () => {
        expect(runPoliciesOver(resources, { protectData: true })).toEqual([]);
    });
});
