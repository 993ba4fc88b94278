import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig } from "../../infra/config";
import { atlasOutputSchema } from "../../infra/contract/atlas";
import { runPoliciesOver } from "../../policy/policies";
import type { StackOutputs } from "../../infra/program";
import { byName, installHarness, output, SHELL_TYPE, type CapturedResource } from "../support/harness";
import { DB_IDENTITY, DEPLOYER, FAKE_TOKEN, localSteps, WASM_SHA } from "../support/fakeSteps";
import { PROJECT_ROOT_FOR_TESTS as ROOT } from "../support/paths";
import { stackFileConfig } from "../support/stackFiles";

let resources: CapturedResource[];
let outputs: StackOutputs;

beforeAll(async () => {
    const harness = await installHarness("dev", localSteps);
    resources = harness.resources;
    const { buildStack } = await import("../../infra/program");
    const cfg = parseStackConfig(stackFileConfig("dev"), { stack: "dev", projectRoot: ROOT });
    outputs = await harness.run(() => buildStack({ cfg }));
    await output(outputs.atlas);
});

const shell = (name: string) => {
    const r = byName(resources, name);
    expect(r.type).toBe(SHELL_TYPE);
    return r;
};

describe("dev stack resource graph", () => {
    it("passes our policy pack (zero violations)", () => {
        expect(resources.length).toBeGreaterThan(5);
        expect(runPoliciesOver(resources, { protectData: false })).toEqual([]);
    });

    it("is exactly build → server → TLS proxy → identity → publish (+settings) → readiness", () => {
        const names = resources.filter((r) => r.type === SHELL_TYPE).map((r) => r.name).sort();
        expect(names).toEqual([
            "inner-universe-deployer-mint",
            "inner-universe-module-wasm",
            "inner-universe-publish-settings",
            "inner-universe-publish-wasm",
            "inner-universe-ready-probe",
            "inner-universe-server-process",
            "inner-universe-server-state",
            "inner-universe-tls-process",
            "inner-universe-tls-state",
        ]);
        expect(resources.some((r) => r.type.startsWith("docker:") || r.type.startsWith("aws:"))).toBe(false);
    });

    it("parents every step to its component", () => {
        expect(shell("inner-universe-module-wasm").options.parent).toBe("inner-universe-module");
        expect(shell("inner-universe-server-process").options.parent).toBe("inner-universe-server");
        expect(shell("inner-universe-tls-process").options.parent).toBe("inner-universe-tls");
        expect(shell("inner-universe-deployer-mint").options.parent).toBe("inner-universe-deployer");
        expect(shell("inner-universe-publish-wasm").options.parent).toBe("inner-universe-publish");
        expect(shell("inner-universe-ready-probe").options.parent).toBe("inner-universe-ready");
        expect(byName(resources, "inner-universe-module").type).toBe("inner-universe:module:Build");
    });

    it("rebuilds the module only on a source change: content-hash trigger, content-addressed artifact", () => {
        const build = shell("inner-universe-module-wasm");
        expect(build.inputs.triggers).toHaveLength(1);
        expect(build.inputs.triggers[0]).toMatch(/^[0-9a-f]{64}$/);
        expect(build.inputs.environment.IU_ARTIFACT).toBe(path.join(".iu", "artifacts", `${build.inputs.triggers[0]}.wasm`));
        expect(build.inputs.check).toContain(build.inputs.environment.IU_ARTIFACT);
    });

    it("keeps the server root (data and keys) in its own resource that only a destroy may delete", () => {
        const state = shell("inner-universe-server-state");
        expect(state.inputs.environment).toEqual({
            IU_DIR: path.join(".iu", "dev", "stdb"),
            IU_PRIVATE_SUBDIRS: "config data",
            IU_DELETE_ON_DESTROY: "0",
        });
        expect(state.inputs.triggers).toEqual([path.join(".iu", "dev", "stdb")]);
        expect(state.inputs.check).toBeUndefined();
        expect(shell("inner-universe-server-process").options.dependencies).toEqual(["inner-universe-server-state"]);
        expect(shell("inner-universe-server-process").inputs.environment.IU_DELETE_ON_DESTROY).toBeUndefined();
    });

    it("runs the server on loopback with its whole root (data and keys) in the per-stack directory", () => {
        const server = shell("inner-universe-server-process");
        expect(server.inputs.environment).toMatchObject({
            IU_LISTEN: "127.0.0.1:3000",
            IU_ROOT_DIR: path.join(".iu", "dev", "stdb"),
            IU_SERVER_VERSION: "1.2.0",
            IU_IN_MEMORY: "0",
        });
        expect(server.inputs.create).toMatch(/server-ctl\.sh" "start"$/);
        expect(server.inputs.delete).toMatch(/server-ctl\.sh" "stop"$/);
        expect(server.inputs.check).toMatch(/server-ctl\.sh" "status"$/);
        // Never replaced (a replacement would cascade to the identity): changes and drift are updates.
        expect(server.inputs.triggers).toBeUndefined();
        expect(server.inputs.checkFailure).toBe("update");
        expect(server.inputs.update).toBe(server.inputs.create);
        expect(server.options.deleteBeforeReplace).toBe(false);
    });

    it("puts Caddy with the internal CA on loopback in front, forwarding only the public routes", () => {
        const caddy = shell("inner-universe-tls-process");
        const caddyfile = Buffer.from(caddy.inputs.environment.IU_CADDYFILE_B64, "base64").toString();
        expect(caddyfile).toContain("tls internal");
        expect(caddyfile).toContain("bind 127.0.0.1");
        expect(caddyfile).toContain("reverse_proxy 127.0.0.1:3000");
        expect(caddyfile).not.toMatch(/metrics|internal\/|remote_ip/);
        expect(caddy.inputs.environment.IU_HTTPS_URL).toBe("https://127.0.0.1:8443");
        expect(caddy.inputs.environment.IU_UPSTREAM_URL).toBe("http://127.0.0.1:3000");
        // Waits for its state dir and for the server (through the upstream URL input).
        expect(caddy.options.dependencies.sort()).toEqual(["inner-universe-server-process", "inner-universe-tls-state"]);
    });

    it("mints the deployer identity once and keeps the token secret", () => {
        const mint = shell("inner-universe-deployer-mint");
        expect(mint.options.additionalSecretOutputs).toEqual(["stdout"]);
        // Bound to the server's signing keys (its root dir), not to its address.
        expect(mint.inputs.triggers).toEqual([`local:${path.join(".iu", "dev", "stdb")}`]);
        expect(mint.options.ignoreChanges).toEqual(["environment"]);
    });

    it("publishes with the token as a secret, triggered by the wasm hash and the server address only", () => {
        const publish = shell("inner-universe-publish-wasm");
        expect(publish.secretInputs).toContain("secretEnvironment");
        expect(publish.inputs.secretEnvironment.IU_TOKEN).toBe(FAKE_TOKEN);
        expect(JSON.stringify(publish.inputs.environment)).not.toContain(FAKE_TOKEN);
        expect(publish.inputs.triggers).toEqual([WASM_SHA, "http://127.0.0.1:3000", "inner-universe"]);
        expect(publish.options.ignoreChanges).toEqual(["environment", "secretEnvironment"]);
        expect(publish.inputs.environment.IU_DELETE_DATA).toBe("never");
    });

    it("syncs server_config and feature_flags into the module after each publish", () => {
        const settings = shell("inner-universe-publish-settings");
        const synced = JSON.parse(settings.inputs.environment.IU_SETTINGS_JSON);
        expect(Object.keys(synced).sort()).toEqual(["feature_flags", "server_config"]);
        expect(synced.server_config.max_connections).toBe(100);
        expect(settings.inputs.triggers[0]).toContain(DB_IDENTITY);
        expect(settings.secretInputs).toContain("secretEnvironment");
    });

    it("checks readiness through the server and through TLS, re-probing on every preview", () => {
        const ready = shell("inner-universe-ready-probe");
        expect(ready.inputs.environment).toMatchObject({ IU_SERVER_URL: "http://127.0.0.1:3000", IU_PUBLIC_URL: "https://127.0.0.1:8443", IU_DATABASE: "inner-universe" });
        expect(ready.inputs.environment.IU_PUBLIC_CA_CERT).toMatch(/caddy\/pki\/authorities\/local\/root\.crt$/);
        expect(ready.inputs.check).toMatch(/^IU_READY_TIMEOUT=5 /);
    });

    it("exports an atlas output that satisfies the contract and carries no secret", async () => {
        const atlas = await output(outputs.atlas);
        expect(atlasOutputSchema.parse(atlas)).toEqual(atlas);
        expect(atlas).toMatchObject({
            environment: "dev",
            runtime: "local",
            http: { url: "https://127.0.0.1:8443" },
            ws: { url: "wss://127.0.0.1:8443" },
            database: { name: "inner-universe", identity: DB_IDENTITY },
            module: { sha256: WASM_SHA },
            tls: { enabled: true },
            deployer: { identity: DEPLOYER },
        });
        expect(JSON.stringify(atlas)).not.toContain(FAKE_TOKEN.split(".")[1]);
        expect(await (outputs.atlas as any).isSecret).toBe(false);
    });
});
