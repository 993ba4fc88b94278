import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../../infra/config";
import { assertDataUnprotected, ephemeralConfig, namespacedValues, protectedResources } from "../../../ops/ephemeral/config";
import { targetFromConfig } from "../../../ops/ephemeral/run";
import { PROJECT_ROOT_FOR_TESTS as ROOT } from "../../support/paths";
import { stackFileConfig } from "../../support/stackFiles";

const PORTS = { spacetimedb: 41000, tls: 41001 };

describe("ephemeralConfig", () => {
    it("turns Pulumi.dev.yaml into a valid, disposable local stack on fresh ports", () => {
        const config = ephemeralConfig(stackFileConfig("dev"), PORTS, "/tmp/iu-x/state");
        const cfg = parseStackConfig(config, { stack: "eph-pr-1-tp3m80-x7k2", projectRoot: ROOT });
        expect(cfg.runtime).toBe("local");
        expect(cfg.spacetimedb.port).toBe(41000);
        expect(cfg.tls.port).toBe(41001);
        expect(cfg.protect).toEqual({ data: false, delete_data_on_destroy: true });
        expect(cfg.stackDir).toBe("/tmp/iu-x/state/eph-pr-1-tp3m80-x7k2");
        expect(cfg.spacetimedb.root_dir).toBe("/tmp/iu-x/state/eph-pr-1-tp3m80-x7k2/stdb");
        expect(cfg.environment).toBe("eph-pr-1-tp3m80-x7k2");
    });

    it.each([
        [
            "an explicit root_dir (it could be a long-lived stack's data)",
            { spacetimedb: { root_dir: "/srv/stdb", port: 1 } },
            (c: any) => expect(c.spacetimedb).toEqual({ port: 41000 }),
        ],
        ["protect.data true", { protect: { data: true } }, (c: any) => expect(c.protect).toEqual({ data: false, delete_data_on_destroy: true })],
        ["the base's state_dir", { local: { state_dir: ".iu", caddy_binary: "caddy" } }, (c: any) => expect(c.local).toEqual({ state_dir: "/s", caddy_binary: "caddy" })],
        ["the base's environment name", { environment: "dev" }, (c: any) => expect(c.environment).toBeUndefined()],
        ["a secure deployer token", { deployer_token: "x" }, (c: any) => expect(c.deployer_token).toBeUndefined()],
        ["config stored as JSON text", { spacetimedb: '{"database":"db","port":3000}' }, (c: any) => expect(c.spacetimedb).toEqual({ database: "db", port: 41000 })],
    ])("replaces %s", (_what, base, check) => {
        check(ephemeralConfig({ runtime: "local", ...base }, PORTS, "/s"));
    });

    it("keeps everything else of the base (database name, flags, server settings)", () => {
        const c = ephemeralConfig({ runtime: "local", spacetimedb: { database: "atlas-db", in_memory: true }, server: { auth_required: false } }, PORTS, "/s");
        expect(c.spacetimedb).toEqual({ database: "atlas-db", in_memory: true, port: 41000 });
        expect(c.server).toEqual({ auth_required: false });
    });

    it.each(["aws", "docker"])("refuses a base stack of runtime %s", (runtime) => {
        expect(() => ephemeralConfig({ runtime }, PORTS, "/s")).toThrow(/local runtime/);
    });

    it("refuses equal ports", () => {
        expect(() => ephemeralConfig({}, { spacetimedb: 5, tls: 5 }, "/s")).toThrow(/must differ/);
    });
});

describe("assertDataUnprotected", () => {
    it.each([
        [{}, true],
        [{ protect: { data: false } }, true],
        [{ protect: '{"data":false,"delete_data_on_destroy":true}' }, true],
        [{ protect: { delete_data_on_destroy: true } }, true],
        [{ protect: { data: true } }, false],
        [{ protect: '{"data":true}' }, false],
        [{ protect: { data: "true" } }, false],
        [{ protect: { data: "yes" } }, false],
        [{ protect: "{not json" }, false],
        [{ protect: "true" }, false],
        [{ protect: null }, false],
    ])("%j → disposable: %s", (values, disposable) => {
        const call = () => assertDataUnprotected("eph-x-1-aaaa", values as Record<string, unknown>);
        if (disposable) expect(call).not.toThrow();
        else expect(call).toThrow(/refusing to touch stack eph-x-1-aaaa/);
    });
});

describe("protectedResources", () => {
    it("lists the URNs marked protect", () => {
        expect(
            protectedResources({
                resources: [{ urn: "a", protect: true }, { urn: "b", protect: false }, { urn: "c" }],
            }),
        ).toEqual(["a"]);
        expect(protectedResources(undefined)).toEqual([]);
    });
});

describe("namespacedValues", () => {
    it("keeps inner-universe keys only, unwrapped", () => {
        expect(
            namespacedValues({ "inner-universe:runtime": { value: "local" }, "aws:region": { value: "x" }, "inner-universe:deployer_token": { value: "t", secret: true } }),
        ).toEqual({
            runtime: "local",
            deployer_token: "t",
        });
    });
});

describe("targetFromConfig (leftovers of a stack made by another run)", () => {
    it("derives state dir and ports from the stack's config", () => {
        const t = targetFromConfig("eph-a-1-aaaa", { local: '{"state_dir":"/tmp/s"}', spacetimedb: { port: 4100 }, tls: '{"port":4101}' }, "/w", "/repo");
        expect(t).toMatchObject({ stackDir: "/tmp/s/eph-a-1-aaaa", ports: [4100, 4101], stackFile: "/w/Pulumi.eph-a-1-aaaa.yaml", pids: [] });
    });

    it("without config (another machine made it) checks only the backend and the work dir", () => {
        const t = targetFromConfig("eph-a-1-aaaa", {}, "/w", "/repo");
        expect(t.ports).toEqual([]);
        expect(t.stackDir.startsWith("/w/")).toBe(true);
    });
});
