import { describe, expect, it } from "vitest";
import { parseStackConfig, type StackConfig } from "../../../infra/config";
import {
    blocked,
    type CheckResult,
    checkAuth,
    checkBackups,
    checkConfig,
    checkDataDir,
    checkModule,
    checkMonitoring,
    checkPorts,
    checkServer,
    exitCodeOf,
    pidFiles,
    portsToCheck,
    render,
    splitStackSettingsConfig,
    versionMentioned,
} from "../../../ops/preflight/checks";
import { PROJECT_ROOT_FOR_TESTS as ROOT } from "../../support/paths";
import { stackFileConfig } from "../../support/stackFiles";

const ctx = (stack = "dev") => ({ stack, projectRoot: ROOT });
const local = (over: Record<string, unknown> = {}): StackConfig => parseStackConfig({ runtime: "local", ...over }, ctx());
const prod = (): StackConfig => parseStackConfig(stackFileConfig("prod"), ctx("prod"));
const SHA = "b".repeat(64);

describe("config", () => {
    it("the committed dev and prod stack files pass", () => {
        for (const stack of ["dev", "prod"]) {
            const { result, cfg } = checkConfig({ values: stackFileConfig(stack), secureKeys: [] }, ctx(stack));
            expect(result.status, result.detail).toBe("pass");
            expect(cfg?.stack).toBe(stack);
        }
    });

    it("an invalid value fails naming the key and a valid example", () => {
        const { result, cfg } = checkConfig({ values: { spacetimedb: { port: 70000 } }, secureKeys: [] }, ctx());
        expect(cfg).toBeUndefined();
        expect(result.status).toBe("fail");
        expect(result.detail).toMatch(/inner-universe:spacetimedb\.port: expected 1–65535, got 70000 \(example: 3000\)/);
        expect(result.fix).toMatch(/Pulumi\.dev\.yaml/);
    });

    it("a missing stack file fails with how to create one", () => {
        const { result } = checkConfig({ missing: "/x/Pulumi.qa.yaml does not exist" }, ctx("qa"));
        expect(result).toMatchObject({ status: "fail", detail: "/x/Pulumi.qa.yaml does not exist" });
        expect(result.fix).toMatch(/Pulumi\.qa\.yaml/);
    });

    it("secure values are set aside by key, never parsed as config", () => {
        expect(
            splitStackSettingsConfig({
                "inner-universe:runtime": "local",
                "inner-universe:deployer_token": { secure: "v1:abc" },
                "inner-universe:tls": { port: 1 },
                "aws:region": "eu-west-1",
            }),
        ).toEqual({ values: { runtime: "local", tls: { port: 1 } }, secureKeys: ["deployer_token"] });
        expect(splitStackSettingsConfig(undefined)).toEqual({ values: {}, secureKeys: [] });
    });

    it("dependent checks are blocked, not passed, when the config is invalid", () => {
        expect(blocked("ports")).toMatchObject({ status: "blocked", detail: expect.stringMatching(/configuration is invalid/) });
        expect(exitCodeOf([blocked("ports")])).toBe(1);
    });
});

describe("module", () => {
    const line = JSON.stringify({ wasm: "/a/m.wasm", sha256: SHA, bytes: 10 });
    it.each<[string, Parameters<typeof checkModule>[0], "pass" | "fail", RegExp]>([
        ["a build ending in the artifact line", { kind: "built", exitCode: 0, stdout: `noise\n${line}\n`, stderrTail: "" }, "pass", /m\.wasm \(10 bytes, sha256 bbbbbbbbbbbb…\)/],
        [
            "a compiler error",
            { kind: "built", exitCode: 101, stdout: "", stderrTail: "error[E0425]: cannot find value `x`\nerror: could not compile" },
            "fail",
            /exited 101: error: could not compile/,
        ],
        ["a build without the artifact line", { kind: "built", exitCode: 0, stdout: "done\n", stderrTail: "" }, "fail", /printed no artifact line|Unexpected token|not valid JSON/],
        ["a prebuilt wasm", { kind: "prebuilt", path: "/a/m.wasm", exists: true, magicOk: true }, "pass", /prebuilt/],
        ["a missing prebuilt wasm", { kind: "prebuilt", path: "/a/m.wasm", exists: false, magicOk: false }, "fail", /does not exist/],
        ["a file that is not wasm", { kind: "prebuilt", path: "/a/m.wasm", exists: true, magicOk: false }, "fail", /not a WebAssembly module/],
    ])("%s", (_what, fact, status, detail) => {
        const r = checkModule(fact);
        expect(r.status).toBe(status);
        expect(r.detail).toMatch(detail);
        if (status === "fail") expect(r.fix).toBeTruthy();
    });
});

describe("server binary", () => {
    it.each([
        ["spacetimedb spacetimedb tool version 1.2.0; spacetimedb-lib version 1.2.0;", "1.2.0", true],
        ["spacetimedb tool version 1.2.1;", "1.2.0", false],
        ["spacetimedb tool version 11.2.0;", "1.2.0", false],
        ["spacetimedb tool version 1.2.01;", "1.2.0", false],
        ["version 1.2.0", "1.2.0", true],
        ["v1.2.0", "1.2.0", true],
        ["clockworklabs/spacetime:v1.2.0", "1.2.0", true],
        ["inner-universe/spacetimedb:1.2.0-local", "1.2.0", true],
        ["1.2.0.1", "1.2.0", false],
        ["1x2y0", "1.2.0", false],
    ])("versionMentioned(%j, %s) = %s", (output, version, ok) => {
        expect(versionMentioned(output, version)).toBe(ok);
    });

    const cfg = local();
    it.each<[string, Parameters<typeof checkServer>[1], "pass" | "fail", RegExp]>([
        [
            "the pinned version",
            { kind: "binary", binary: "spacetimedb-standalone", resolved: "/b/s", versionOutput: "spacetimedb tool version 1.2.0;" },
            "pass",
            /\/b\/s: spacetimedb tool version 1\.2\.0/,
        ],
        [
            "another version",
            { kind: "binary", binary: "spacetimedb-standalone", resolved: "/b/s", versionOutput: "spacetimedb tool version 1.3.0;" },
            "fail",
            /reports "spacetimedb tool version 1\.3\.0;", not 1\.2\.0/,
        ],
        ["no binary", { kind: "binary", binary: "/opt/none/spacetimedb-standalone" }, "fail", /\/opt\/none\/spacetimedb-standalone not found/],
        ["a binary that fails", { kind: "binary", binary: "s", resolved: "/b/s", error: "exec format error" }, "fail", /--version failed: exec format error/],
    ])("local: %s", (_what, fact, status, detail) => {
        const r = checkServer(cfg, fact);
        expect(r.status).toBe(status);
        expect(r.detail).toMatch(detail);
    });

    it.each<[Parameters<typeof checkServer>[1], "pass" | "fail", RegExp]>([
        [{ kind: "image", image: "inner-universe/spacetimedb:1.2.0-local", pull: false, presentLocally: true }, "pass", /present locally/],
        [{ kind: "image", image: "inner-universe/spacetimedb:1.2.0-local", pull: false, presentLocally: false }, "fail", /not present locally/],
        [{ kind: "image", image: "clockworklabs/spacetime:v1.3.0", pull: true }, "fail", /does not carry version 1\.2\.0/],
    ])("docker: %j", (fact, status, detail) => {
        const r = checkServer(parseStackConfig(stackFileConfig("test"), ctx("test")), fact);
        expect(r.status).toBe(status);
        expect(r.detail).toMatch(detail);
    });

    it("aws: not applicable here, as a pass with a note", () => {
        expect(checkServer(prod(), { kind: "remote" })).toMatchObject({ status: "pass", detail: expect.stringMatching(/^not applicable here/) });
    });
});

describe("data directory", () => {
    it.each<[Parameters<typeof checkDataDir>[0], "pass" | "fail", RegExp]>([
        [{ kind: "local", dir: "/d/stdb", probed: "/d/stdb", writable: true }, "pass", /\/d\/stdb is writable/],
        [{ kind: "local", dir: "/d/stdb", probed: "/d", writable: true }, "pass", /can be created \(under \/d\)/],
        [
            { kind: "local", dir: "/f/stdb", probed: "/f", writable: false, error: "/f is not a directory" },
            "fail",
            /cannot be created or written \(tried \/f: \/f is not a directory\)/,
        ],
        [{ kind: "local", dir: "/ro/stdb", probed: "/ro/stdb", writable: false, error: "EROFS" }, "fail", /EROFS/],
        [{ kind: "elsewhere", where: "docker volume v" }, "pass", /not applicable here: docker volume v/],
    ])("%j", (fact, status, detail) => {
        const r = checkDataDir(fact);
        expect(r.status).toBe(status);
        expect(r.detail).toMatch(detail);
    });
});

describe("ports", () => {
    it("local with TLS checks the server and the proxy port; docker only the host port; aws none", () => {
        expect(portsToCheck(local({ spacetimedb: { port: 3100 }, tls: { port: 8500 } }))).toEqual([
            { role: "spacetimedb", address: "127.0.0.1", port: 3100 },
            { role: "tls", address: "127.0.0.1", port: 8500 },
        ]);
        expect(portsToCheck(local({ tls: { enabled: false } }))).toHaveLength(1);
        expect(portsToCheck(parseStackConfig(stackFileConfig("test"), ctx("test")))).toEqual([{ role: "spacetimedb", address: "127.0.0.1", port: 3100 }]);
        expect(portsToCheck(prod())).toEqual([]);
    });

    const cfg = local();
    const free = { role: "spacetimedb" as const, address: "127.0.0.1", port: 3000, free: true };
    const tls = { role: "tls" as const, address: "127.0.0.1", port: 8443, free: true };
    it.each<[string, Parameters<typeof checkPorts>[1], "pass" | "fail", RegExp]>([
        ["both free", [free, tls], "pass", /127\.0\.0\.1:3000, 127\.0\.0\.1:8443 free/],
        ["the proxy port taken", [free, { ...tls, free: false }], "fail", /127\.0\.0\.1:8443 \(tls\.port\) is in use/],
        ["held by the stack's own server", [{ ...free, free: false, ownPid: 42 }, tls], "pass", /3000 held by this stack's own process 42/],
        ["an address that cannot be bound", [{ ...free, free: false, error: "EADDRNOTAVAIL" }, tls], "fail", /EADDRNOTAVAIL/],
    ])("%s", (_what, facts, status, detail) => {
        const r = checkPorts(cfg, facts);
        expect(r.status).toBe(status);
        expect(r.detail).toMatch(detail);
        if (status === "fail") expect(r.fix).toMatch(/inner-universe:(spacetimedb|tls)\.port/);
    });

    it("pid files are where the local runtime writes them", () => {
        const c = local({ local: { state_dir: "/s" } });
        expect(pidFiles(c)).toEqual({ spacetimedb: "/s/dev/stdb.pid", tls: "/s/dev/caddy.pid" });
    });
});

describe("auth", () => {
    it.each<[boolean, string[], "pass" | "fail"]>([
        [true, [], "pass"],
        [true, ["deployer_token"], "pass"],
        [false, ["deployer_token"], "pass"],
        [false, [], "fail"],
        [false, ["other_secret"], "fail"],
    ])("auth_required %s, secure keys %j → %s", (required, secureKeys, status) => {
        const r = checkAuth(local({ server: { auth_required: required } }), secureKeys);
        expect(r.status).toBe(status);
        if (status === "fail") expect(r.fix).toMatch(/auth_required: true|deployer_token/);
    });
});

describe("backups and monitoring", () => {
    it("local and docker: not applicable, as a pass with a note", () => {
        for (const r of [checkBackups(local()), checkMonitoring(local())]) {
            expect(r).toMatchObject({ status: "pass", detail: expect.stringMatching(/^not applicable \(runtime local/) });
        }
    });

    it("aws with aws.backups and aws.alarms passes (the committed prod stack)", () => {
        expect(checkBackups(prod()).status).toBe("pass");
        expect(checkMonitoring(prod()).status).toBe("pass");
    });

    it.each([
        ["backups", checkBackups],
        ["alarms", checkMonitoring],
    ] as const)("aws without aws.%s fails", (key, check) => {
        const cfg = prod();
        const aws = { ...(cfg.aws as Record<string, unknown>) };
        delete aws[key];
        const r = check({ ...cfg, aws } as StackConfig);
        expect(r).toMatchObject({ status: "fail", detail: `runtime aws without inner-universe:aws.${key}` });
    });
});

describe("report", () => {
    const results: CheckResult[] = [
        { id: "config", title: "Stack configuration valid", status: "pass", detail: "ok" },
        { id: "ports", title: "Network ports free", status: "fail", detail: "127.0.0.1:3000 (spacetimedb.port) is in use", fix: "stop it" },
        { id: "module", title: "Rust module compiles to WebAssembly", status: "pass", detail: "built" },
    ];

    it("prints one line per check in checklist order, fixes under failures, and a verdict", () => {
        const text = render("dev", results).split("\n");
        expect(text[0]).toBe("preflight for stack dev");
        expect(text[1]).toMatch(/^PASS {2}Rust module compiles/);
        expect(text[2]).toMatch(/^FAIL {2}Network ports free +127\.0\.0\.1:3000/);
        expect(text[3]).toMatch(/^ +fix: stop it$/);
        expect(text[4]).toMatch(/^PASS {2}Stack configuration valid/);
        expect(text.at(-1)).toBe("1 check failed");
    });

    it("exit code: 0 only when every check passed", () => {
        expect(exitCodeOf(results)).toBe(1);
        expect(exitCodeOf(results.filter((r) => r.status === "pass"))).toBe(0);
    });
});
