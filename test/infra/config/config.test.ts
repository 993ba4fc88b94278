import { describe, expect, it } from "vitest";
import { ConfigError, parseStackConfig } from "../../../infra/config";
import { stackFileConfig } from "../../support/stackFiles";

const ctx = { stack: "dev", projectRoot: "/repo" };
const parse = (raw: Record<string, unknown>) => parseStackConfig(raw, ctx);

function problemsOf(raw: Record<string, unknown>): string[] {
    try {
        parse(raw);
    } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).problems;
    }
    throw new Error("config was accepted");
}

describe("valid stack files load", () => {
    it("dev: local runtime, loopback, internal TLS, defaults filled", () => {
        const cfg = parse(stackFileConfig("dev"));
        expect(cfg.runtime).toBe("local");
        expect(cfg.spacetimedb).toMatchObject({ address: "127.0.0.1", port: 3000, version: "1.2.0", database: "inner-universe" });
        // Project-relative, as the config wrote it: state must not name the checkout.
        expect(cfg.spacetimedb.root_dir).toBe(".iu/dev/stdb");
        expect(cfg.spacetimedb.publish.delete_data).toBe("never");
        expect(cfg.tls).toMatchObject({ enabled: true, mode: "internal", port: 8443, expose_call: false, expose_sql: false });
        expect(cfg.server).toEqual({ max_connections: 100, timeout_ms: 30000, cache_size_mb: 512, auth_required: true });
        expect(cfg.feature_flags.enable_distribution).toBe(false);
        expect(cfg.environment).toBe("dev");
        expect(cfg.stackDir).toBe(".iu/dev");
    });

    it("test: docker runtime with a local image and a busybox health check", () => {
        const cfg = parseStackConfig(stackFileConfig("test"), { stack: "test", projectRoot: "/repo" });
        expect(cfg.runtime).toBe("docker");
        expect(cfg.container.pull).toBe(false);
        expect(cfg.spacetimedb.root_dir).toBe("/stdb");
        expect(cfg.container.healthcheck.test[0]).toBe("CMD");
    });

    it("takes structured values as Pulumi passes them (JSON text)", () => {
        const cfg = parse({ runtime: "local", spacetimedb: JSON.stringify({ port: 4000 }), server: '{"auth_required": false}' });
        expect(cfg.spacetimedb.port).toBe(4000);
        expect(cfg.server.auth_required).toBe(false);
    });

    it("ignores the secret deployer token (it is read as a Pulumi secret, never parsed here)", () => {
        expect(parse({ deployer_token: "whatever" }).runtime).toBe("local");
    });
});

// Each row: raw config, the key path the error must name, and a fragment of the message.
const invalid: [string, Record<string, unknown>, string, string][] = [
    ["port above range", { spacetimedb: { port: 70000 } }, "inner-universe:spacetimedb.port", "expected 1–65535, got 70000"],
    ["port not a number", { spacetimedb: { port: "abc" } }, "inner-universe:spacetimedb.port", 'got "abc"'],
    ["port fractional", { spacetimedb: { port: 80.5 } }, "inner-universe:spacetimedb.port", "whole number"],
    ["unknown runtime", { runtime: "kubernetes" }, "inner-universe:runtime", "expected one of local | docker | aws"],
    ["unknown top-level key", { spacetimdb: { port: 1 } }, "inner-universe", 'unknown key "spacetimdb"'],
    ["unknown nested key", { server: { max_conections: 5 } }, "inner-universe:server", 'unknown key "max_conections"'],
    ["bad version", { spacetimedb: { version: "latest" } }, "inner-universe:spacetimedb.version", "a version like 1.2.0"],
    ["unverified version", { spacetimedb: { version: "1.3.0" } }, "inner-universe:spacetimedb.version", "1.3.0 is not a server version this project has verified (1.1.1, 1.2.0)"],
    ["bad database name", { spacetimedb: { database: "Inner_Universe" } }, "inner-universe:spacetimedb.database", "lower-case"],
    ["bad listen address", { spacetimedb: { address: "my laptop" } }, "inner-universe:spacetimedb.address", "IP address"],
    ["bad log level", { spacetimedb: { log_level: "verbose" } }, "inner-universe:spacetimedb.log_level", "error | warn | info"],
    ["max_connections zero", { server: { max_connections: 0 } }, "inner-universe:server.max_connections", "expected 1–100000, got 0"],
    ["timeout too small", { server: { timeout_ms: 5 } }, "inner-universe:server.timeout_ms", "expected 100–600000, got 5"],
    ["cache too small", { server: { cache_size_mb: 1 } }, "inner-universe:server.cache_size_mb", "expected 64–1048576"],
    ["auth flag as string", { server: { auth_required: "yes" } }, "inner-universe:server.auth_required", "expected true or false"],
    ["feature flag as number", { feature_flags: { enable_audit_log: 1 } }, "inner-universe:feature_flags.enable_audit_log", "true or false"],
    ["unknown delete-data policy", { spacetimedb: { publish: { delete_data: "sometimes" } } }, "inner-universe:spacetimedb.publish.delete_data", "never | on_conflict | always"],
    [
        "destructive publish on protected data",
        { protect: { data: true }, spacetimedb: { publish: { delete_data: "always" } } },
        "inner-universe:spacetimedb.publish.delete_data",
        'must be "never"',
    ],
    ["protected data deleted on destroy", { protect: { data: true, delete_data_on_destroy: true } }, "inner-universe:protect.delete_data_on_destroy", "cannot be true"],
    ["protected data in memory", { protect: { data: true }, spacetimedb: { in_memory: true } }, "inner-universe:spacetimedb.in_memory", "cannot live in memory"],
    ["acme without domain", { tls: { mode: "acme", email: "ops@example.com" } }, "inner-universe:tls.domain", "required when tls.mode is acme"],
    ["acme without email", { tls: { mode: "acme", domain: "db.example.com" } }, "inner-universe:tls.email", "required for tls.mode acme"],
    ["bad domain", { tls: { mode: "acme", domain: "not a domain", email: "a@b.co" } }, "inner-universe:tls.domain", "a DNS name"],
    ["alb outside aws", { tls: { mode: "alb", domain: "db.example.com" } }, "inner-universe:tls.mode", "alb needs runtime aws"],
    ["aws without section", { runtime: "aws", tls: { mode: "acme", domain: "db.example.com", email: "a@b.co" } }, "inner-universe:aws", "required when runtime is aws"],
    ["aws section on local", { aws: { region: "eu-west-1" } }, "inner-universe:aws", "only allowed when runtime is aws"],
    ["tls port equals server port", { spacetimedb: { port: 8443 } }, "inner-universe:tls.port", "must differ from spacetimedb.port"],
    ["public listen behind TLS", { spacetimedb: { address: "0.0.0.0" } }, "inner-universe:spacetimedb.address", "must be loopback"],
    ["prebuilt without path", { module: { build: false } }, "inner-universe:module.wasm_path", "required when module.build is false"],
    ["bad image reference", { runtime: "docker", container: { image: "Not An Image" } }, "inner-universe:container.image", "image reference"],
    ["bad restart policy", { runtime: "docker", container: { restart: "sometimes" } }, "inner-universe:container.restart", "unless-stopped"],
    ["bad environment name", { environment: "Prod Env" }, "inner-universe:environment", "short lower-case name"],
    ["ready timeout zero", { spacetimedb: { ready_timeout_s: 0 } }, "inner-universe:spacetimedb.ready_timeout_s", "expected 1–3600"],
];

describe("invalid configs fail with the key path, the problem and an example", () => {
    it.each(invalid)("%s", (_label, raw, key, fragment) => {
        const problems = problemsOf(raw);
        const line = problems.find((p) => p.startsWith(`${key}:`));
        expect(line, `no problem names ${key}: ${problems.join(" | ")}`).toBeDefined();
        expect(line).toContain(fragment);
    });

    it("has at least 20 rows", () => expect(invalid.length).toBeGreaterThanOrEqual(20));

    it("lists every problem at once, each with an example value", () => {
        const problems = problemsOf({ spacetimedb: { port: 70000, log_level: "loud" }, server: { timeout_ms: 1 } });
        expect(problems).toHaveLength(3);
        expect(problems).toContain("inner-universe:spacetimedb.port: expected 1–65535, got 70000 (example: 3000)");
        expect(problems.find((p) => p.includes("log_level"))).toContain('(example: "info")');
    });

    it("an unverified server version names the opt-in key; with it, the version goes through", () => {
        expect(problemsOf({ spacetimedb: { version: "1.1.0" } })[0]).toContain("set spacetimedb.accept_unverified_version: true to run it anyway");
        expect(parse({ spacetimedb: { version: "1.1.0", accept_unverified_version: true } }).spacetimedb.version).toBe("1.1.0");
        // runtime remote: the server is not ours to run; its version is the server's.
        expect(parse({ runtime: "remote", remote: { url: "https://maincloud.example.com" }, tls: { enabled: false }, spacetimedb: { version: "1.3.0" } }).spacetimedb.version).toBe(
            "1.3.0",
        );
    });

    it("says nothing was created", () => {
        expect(() => parse({ spacetimedb: { port: -1 } })).toThrow(/nothing was created/);
    });
});
