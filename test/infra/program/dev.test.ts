import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig } from "../../../infra/config";
import { atlasOutputSchema } from "../../../infra/contract/atlas";
import type { StackOutputs } from "../../../infra/program";
import { runPoliciesOver } from "../../../policy/policies";
import { buildRequests, DB_IDENTITY, DEPLOYER, FAKE_TOKEN, fakeModuleBuilder, localSteps, PUBLISH_REVISION, WASM_SHA } from "../../support/fakeSteps";
import { byName, type CapturedResource, DATABASE_TYPE, IDENTITY_TYPE, installHarness, output, READINESS_TYPE, SETTINGS_TYPE, SHELL_TYPE } from "../../support/harness";
import { PROJECT_ROOT_FOR_TESTS as ROOT } from "../../support/paths";
import { stackFileConfig } from "../../support/stackFiles";

let resources: CapturedResource[];
let outputs: StackOutputs;

beforeAll(async () => {
    const harness = await installHarness("dev", localSteps);
    resources = harness.resources;
    const { buildStack } = await import("../../../infra/program");
    const cfg = parseStackConfig(stackFileConfig("dev"), { stack: "dev", projectRoot: ROOT });
    outputs = await harness.run(() => buildStack({ cfg }, { buildModule: fakeModuleBuilder }));
    await output(outputs.atlas);
});

const ofType = (type: string) => (name: string) => {
    const r = byName(resources, name);
    expect(r.type).toBe(type);
    return r;
};
const shell = ofType(SHELL_TYPE);
const STEPS = {
    mint: ["inner-universe-deployer-mint", IDENTITY_TYPE],
    publish: ["inner-universe-publish-wasm", DATABASE_TYPE],
    settings: ["inner-universe-publish-settings", SETTINGS_TYPE],
    ready: ["inner-universe-ready-probe", READINESS_TYPE],
    upgrade: ["inner-universe-server-upgrade", "pulumi-nodejs:dynamic/spacetimedb:ServerUpgrade"],
} as const;
const step = (which: keyof typeof STEPS) => ofType(STEPS[which][1])(STEPS[which][0]);

describe("dev stack resource graph", () => {
    it("passes our policy pack (zero violations)", () => {
        expect(resources.length).toBeGreaterThan(5);
        expect(runPoliciesOver(resources, { protectData: false })).toEqual([]);
    });

    it("is exactly build → server → TLS proxy → identity → publish (+settings) → readiness", () => {
        const names = resources
            .filter((r) => r.type === SHELL_TYPE)
            .map((r) => r.name)
            .sort();
        expect(names).toEqual(["inner-universe-server-process", "inner-universe-server-state", "inner-universe-tls-process", "inner-universe-tls-state"]);
        const spacetime = resources.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/spacetimedb:")).map((r) => [r.name, r.type]);
        expect(spacetime.sort()).toEqual(
            Object.values(STEPS)
                .map((s) => [...s])
                .sort(),
        );
        expect(resources.some((r) => r.type.startsWith("docker:") || r.type.startsWith("aws:"))).toBe(false);
    });

    it("parents every step to its component", () => {
        expect(shell("inner-universe-server-process").options.parent).toBe("inner-universe-server");
        expect(shell("inner-universe-tls-process").options.parent).toBe("inner-universe-tls");
        expect(step("mint").options.parent).toBe("inner-universe-deployer");
        expect(step("publish").options.parent).toBe("inner-universe-publish");
        expect(step("settings").options.parent).toBe("inner-universe-publish");
        expect(step("ready").options.parent).toBe("inner-universe-ready");
        expect(byName(resources, "inner-universe-module").type).toBe("inner-universe:module:Build");
    });

    it("builds the module while the program runs (preview too), asking for a content-addressed artifact", () => {
        expect(buildRequests).toHaveLength(1);
        const req = buildRequests[0]!;
        expect(req.sourceHash).toMatch(/^[0-9a-f]{64}$/);
        expect(req.artifact).toBe(path.join(".iu", "artifacts", `${req.sourceHash}.wasm`));
        expect(req.moduleDir).toBe("module");
        // The wasm the Database step publishes is that artifact, with its hash known before any step runs.
        const publish = step("publish");
        expect(publish.inputs.wasmPath).toBe(req.artifact);
        expect(publish.inputs.wasmSha256).toBe(WASM_SHA);
    });

    it("keeps the server root (data and keys) in its own resource that only a destroy may delete", () => {
        const state = shell("inner-universe-server-state");
        expect(state.inputs.environment).toEqual({
            IU_DIR: path.join(".iu", "dev", "stdb"),
            IU_PRIVATE_SUBDIRS: "config data",
            IU_DELETE_ON_DESTROY: "0",
            // Removed with the directory on destroy; the server's own step is handed the same paths.
            IU_PID_FILE: path.join(".iu", "dev", "stdb.pid"),
            IU_LOG_FILE: path.join(".iu", "dev", "stdb.log"),
            IU_FINGERPRINT_FILE: path.join(".iu", "dev", "stdb.fingerprint"),
        });
        expect(state.inputs.triggers).toEqual([path.join(".iu", "dev", "stdb")]);
        expect(state.inputs.check).toBeUndefined();
        expect(shell("inner-universe-server-process").options.dependencies).toEqual(["inner-universe-server-state", "inner-universe-server-upgrade"]);
        expect(shell("inner-universe-server-process").inputs.environment.IU_DELETE_ON_DESTROY).toBeUndefined();
    });

    it("passes a version change through the upgrade gate first, with the server step's own commands and environment", () => {
        const gate = step("upgrade");
        const server = shell("inner-universe-server-process");
        expect(gate.options.parent).toBe("inner-universe-server");
        expect(gate.inputs).toMatchObject({
            rootDir: path.join(".iu", "dev", "stdb"),
            backupDir: path.join(".iu", "backups", "dev"),
            version: server.inputs.environment.IU_SERVER_VERSION,
            serverUrl: `http://${server.inputs.environment.IU_LISTEN}`,
            start: server.inputs.update,
            stop: server.inputs.delete,
        });
        expect(gate.inputs.environment).toEqual(server.inputs.environment);
    });

    it("runs the server on loopback with its whole root (data and keys) in the per-stack directory", () => {
        const server = shell("inner-universe-server-process");
        expect(server.inputs.environment).toMatchObject({
            IU_LISTEN: "127.0.0.1:3000",
            IU_ROOT_DIR: path.join(".iu", "dev", "stdb"),
            IU_SERVER_VERSION: "1.2.0",
            IU_IN_MEMORY: "0",
            IU_PID_FILE: path.join(".iu", "dev", "stdb.pid"),
            IU_LOG_FILE: path.join(".iu", "dev", "stdb.log"),
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
        const mint = step("mint");
        expect(mint.options.additionalSecretOutputs).toEqual(["token"]);
        // Bound to the server's signing keys (its root dir), not to its address.
        expect(mint.inputs.scope).toBe(`local:${path.join(".iu", "dev", "stdb")}`);
        expect(mint.inputs.serverUrl).toBe("http://127.0.0.1:3000");
        expect(mint.inputs.selfUrn).toBe(
            "urn:pulumi:dev::inner-universe::pulumi:pulumi:Stack$inner-universe:auth:DeployerIdentity$pulumi-nodejs:dynamic/spacetimedb:Identity::inner-universe-deployer-mint",
        );
        expect(mint.options.ignoreChanges).toEqual([]);
    });

    it("publishes with the token as a secret input, never an output", () => {
        const publish = step("publish");
        expect(publish.secretInputs).toEqual(["token"]);
        expect(publish.inputs.token).toBe(FAKE_TOKEN);
        expect(publish.inputs).toMatchObject({ serverUrl: "http://127.0.0.1:3000", database: "inner-universe", wasmSha256: WASM_SHA, deleteData: "never" });
        expect(path.isAbsolute(publish.inputs.wasmPath)).toBe(false);
        expect(publish.options.ignoreChanges).toEqual([]);
    });

    it("syncs server_config and feature_flags into the module after each publish", () => {
        const settings = step("settings");
        const synced = JSON.parse(settings.inputs.settingsJson);
        expect(Object.keys(synced).sort()).toEqual(["feature_flags", "server_config"]);
        expect(synced.server_config.max_connections).toBe(100);
        expect(settings.inputs.publishRevision).toBe(PUBLISH_REVISION);
        expect(settings.options.dependencies).toContain("inner-universe-publish-wasm");
        expect(settings.secretInputs).toEqual(["token"]);
    });

    it("checks readiness through the server and through TLS once settings are in", () => {
        const ready = step("ready");
        expect(ready.inputs).toMatchObject({ serverUrl: "http://127.0.0.1:3000", publicUrl: "https://127.0.0.1:8443", database: "inner-universe" });
        expect(ready.inputs.publicCaCert).toMatch(/caddy\/pki\/authorities\/local\/root\.crt$/);
        expect(path.isAbsolute(ready.inputs.publicCaCert)).toBe(false);
        expect(ready.inputs.revision).toContain("+settings@");
        expect(ready.secretInputs).toEqual(["token"]);
    });

    it("puts no absolute path and no plain token into the SpacetimeDB steps' inputs", () => {
        for (const which of Object.keys(STEPS) as (keyof typeof STEPS)[]) {
            const r = step(which);
            const { token: _t, ...plain } = r.inputs;
            const text = JSON.stringify(plain);
            expect(text, r.name).not.toContain(ROOT);
            expect(text, r.name).not.toContain(FAKE_TOKEN);
        }
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
