import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { ConfigError, parseStackConfig } from "../../../infra/config";
import { atlasOutputSchema } from "../../../infra/contract/atlas";
import type { StackOutputs } from "../../../infra/program";
import { remotePlan } from "../../../infra/spacetimedb/remoteVersion-impl";
import { runPoliciesOver } from "../../../policy/policies";
import { DEPLOYER, FAKE_TOKEN, fakeModuleBuilder, localSteps, WASM_SHA } from "../../support/fakeSteps";
import { byName, DATABASE_TYPE, installHarness, output, READINESS_TYPE, SETTINGS_TYPE } from "../../support/harness";
import { PROJECT_ROOT_FOR_TESTS as ROOT } from "../../support/paths";

const problemsOf = (raw: Record<string, unknown>): string[] => {
    try {
        parseStackConfig(raw, { stack: "remote", projectRoot: ROOT });
    } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).problems;
    }
    return [];
};

describe("runtime: remote (a server the stack does not run)", () => {
    it("is the deploy steps only: no server, proxy or mint; the given token publishes; atlas from the URL", async () => {
        const harness = await installHarness("remote", localSteps);
        const { buildStack } = await import("../../../infra/program");
        const cfg = parseStackConfig({ runtime: "remote", remote: { url: "https://db.example.com/", ca_cert: "certs/ca.pem" } }, { stack: "remote", projectRoot: ROOT });
        const outputs: StackOutputs = await harness.run(() => buildStack({ cfg, deployerToken: pulumi.secret(FAKE_TOKEN) }, { buildModule: fakeModuleBuilder }));
        const atlas = atlasOutputSchema.parse(await output(outputs.atlas));
        const custom = harness.resources.filter((r) => r.type !== "pulumi:pulumi:Stack" && !r.type.startsWith("inner-universe:"));
        expect(custom.map((r) => r.type).sort()).toEqual([DATABASE_TYPE, READINESS_TYPE, "pulumi-nodejs:dynamic/spacetimedb:RemoteServerVersion", SETTINGS_TYPE].sort());
        // No gate: only a statement of the version the server reports, in every preview.
        expect(byName(harness.resources, "inner-universe-remote-version").inputs).toMatchObject({
            serverUrl: "https://db.example.com",
            version: cfg.spacetimedb.version,
            caCert: "certs/ca.pem",
        });
        const publish = byName(harness.resources, "inner-universe-publish-wasm");
        expect(publish.inputs).toMatchObject({ serverUrl: "https://db.example.com", wasmSha256: WASM_SHA, token: FAKE_TOKEN, caCert: "certs/ca.pem" });
        expect(publish.secretInputs).toContain("token");
        expect(byName(harness.resources, "inner-universe-ready-probe").inputs).toMatchObject({ serverUrl: "https://db.example.com", caCert: "certs/ca.pem" });
        expect(atlas).toMatchObject({
            runtime: "remote",
            http: { url: "https://db.example.com" },
            ws: { url: "wss://db.example.com" },
            tls: { enabled: true, caCertPath: "certs/ca.pem" },
            deployer: { identity: DEPLOYER },
        });
        expect(runPoliciesOver(harness.resources, { protectData: false })).toEqual([]);
    });

    it.each([
        ["1.2.0", "1.2.0", "server 1.2.0 (runtime remote: its operator upgrades it, no upgrade gate here)"],
        ["1.3.0", "1.2.0", "server 1.3.0, but spacetimedb.version says 1.2.0 (runtime remote: its operator upgrades it, no upgrade gate here)"],
        [undefined, "1.2.0", "server version not reported by /v1/health (spacetimedb.version says 1.2.0; runtime remote: its operator upgrades it, no upgrade gate here)"],
    ])("the preview states the version the server reports (%s; config %s)", (reported, configured, plan) => {
        expect(remotePlan(reported, configured)).toBe(plan);
    });

    it("bad remote config names the key and the fix", () => {
        expect(problemsOf({ runtime: "remote" })).toEqual([expect.stringMatching(/^inner-universe:remote: required when runtime is remote/)]);
        expect(problemsOf({ runtime: "remote", remote: { url: "http://db.example.com" } })).toEqual([
            expect.stringMatching(/^inner-universe:remote\.url: must be https:\/\/ unless the server is on loopback/),
        ]);
        expect(problemsOf({ runtime: "remote", remote: { url: "https://db.example.com/v1" } })).toEqual([
            expect.stringMatching(/^inner-universe:remote\.url: .*scheme and host, no path/),
        ]);
        expect(problemsOf({ runtime: "local", remote: { url: "https://db.example.com" } })).toEqual([
            expect.stringMatching(/^inner-universe:remote: only allowed when runtime is remote/),
        ]);
        expect(problemsOf({ runtime: "remote", remote: { url: "http://127.0.0.1:3000" } })).toEqual([]);
    });
});
