import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { type BuildRequest, buildWithCargo, cachedArtifact, ModuleBuild } from "../../../infra/components/moduleBuild";
import { sha256File } from "../../../infra/lib/sourceHash";
import { buildWasm, cargoInvocation, type Probe, toolchainProblems, UNSET_VARIABLES, WasmBuildError, wasmPath } from "../../../infra/lib/wasmBuild";
import { installHarness } from "../../support/harness";

const MODULE = "/work/checkout/module";
const TARGET = "/work/checkout/module/target";
const ENV = { HOME: "/home/dev", PATH: "/usr/bin:/bin", CARGO_HOME: "/opt/cargo" };

const invoke = (env: NodeJS.ProcessEnv = ENV) => cargoInvocation({ moduleDir: MODULE, targetDir: TARGET, env });
const rustflags = (env?: NodeJS.ProcessEnv) => invoke(env).env.CARGO_ENCODED_RUSTFLAGS!.split("\x1f");

describe("cargoInvocation: the build's cargo command as data", () => {
    it("is Debian's cargo building std for wasm32 from source, locked, in release, into the target dir, from the crate dir", () => {
        const inv = invoke();
        expect(inv.command).toBe("/usr/bin/cargo");
        expect(inv.args).toEqual(["build", "--release", "--locked", "--target", "wasm32-unknown-unknown", "-Zbuild-std=std,panic_abort", "--target-dir", TARGET]);
        expect(inv.cwd).toBe(MODULE);
        expect(inv.env.RUSTC).toBe("/usr/bin/rustc");
    });

    it("remaps cargo home, std source, crate dir, then target dir (rustc applies the last match: the target dir inside the crate wins)", () => {
        expect(rustflags().filter((f) => f.startsWith("--remap-path-prefix="))).toEqual([
            "--remap-path-prefix=/opt/cargo=/cargo",
            "--remap-path-prefix=/usr/lib/rustlib/src/rust=/rustc/src",
            `--remap-path-prefix=${MODULE}=/build/module`,
            `--remap-path-prefix=${TARGET}=/build/target`,
        ]);
    });

    it.each([
        ["CARGO_HOME set", { HOME: "/home/dev", CARGO_HOME: "/opt/cargo" }, "/opt/cargo"],
        ["CARGO_HOME unset", { HOME: "/home/dev" }, "/home/dev/.cargo"],
        ["CARGO_HOME empty", { HOME: "/home/dev", CARGO_HOME: "" }, "/home/dev/.cargo"],
    ])("cargo home: %s → %s", (_what, env, home) => {
        expect(rustflags(env)[0]).toBe(`--remap-path-prefix=${home}=/cargo`);
    });

    it("passes the reproducibility flags: no debug info, stripped symbols, no incremental state, a fixed epoch", () => {
        expect(rustflags().slice(4)).toEqual(["-Cdebuginfo=0", "-Cstrip=symbols"]);
        expect(invoke().env).toMatchObject({ CARGO_INCREMENTAL: "0", SOURCE_DATE_EPOCH: "0" });
    });

    it("sets RUSTC_BOOTSTRAP=1 in that command's environment only", () => {
        const env = { ...ENV };
        const before = process.env.RUSTC_BOOTSTRAP;
        expect(invoke(env).env.RUSTC_BOOTSTRAP).toBe("1");
        expect(env).toEqual(ENV);
        expect(process.env.RUSTC_BOOTSTRAP).toBe(before);
    });

    it.each(UNSET_VARIABLES)("drops an inherited %s", (name) => {
        const inv = invoke({ ...ENV, [name]: "/somewhere/else" });
        expect(inv.env).not.toHaveProperty(name);
    });

    it("overrides what the invocation sets and keeps the rest of the environment", () => {
        const inv = invoke({ ...ENV, RUSTC: "/home/dev/.cargo/bin/rustc", CARGO_INCREMENTAL: "1", CARGO_ENCODED_RUSTFLAGS: "-Copt-level=0", LANG: "C.UTF-8" });
        expect(inv.env).toMatchObject({ RUSTC: "/usr/bin/rustc", CARGO_INCREMENTAL: "0", LANG: "C.UTF-8", PATH: "/usr/bin:/bin", HOME: "/home/dev" });
        expect(inv.env.CARGO_ENCODED_RUSTFLAGS).not.toContain("opt-level");
    });

    it("is a pure function of its input", () => {
        expect(invoke()).toEqual(invoke());
        expect(wasmPath(TARGET)).toBe(`${TARGET}/wasm32-unknown-unknown/release/inner_universe_module.wasm`);
    });
});

describe("toolchain check", () => {
    const probe = (missing: string[]): Probe => ({ executable: (f) => !missing.includes(f), directory: (d) => !missing.includes(d) });
    it("finds nothing missing on a complete machine", () => expect(toolchainProblems(probe([]))).toEqual([]));
    it.each([
        ["/usr/bin/rustc", "rustc-web"],
        ["/usr/bin/cargo", "cargo-web"],
        ["/usr/lib/rustlib/src/rust/library", "rust-web-src"],
        ["/usr/bin/rust-lld", "rust-web-llvm, lld-22"],
    ])("names a missing %s with its Debian package (%s) and the fix", (file, pkg) => {
        const problems = toolchainProblems(probe([file]));
        expect(problems).toHaveLength(1);
        expect(problems[0]).toContain(file);
        expect(problems[0]).toContain(`(Debian ${pkg})`);
        expect(problems[0]).toContain("run: bash toolchain/setup-tools.sh");
    });
    it("names every missing piece", () => expect(toolchainProblems(probe(["/usr/bin/rustc", "/usr/bin/cargo"]))).toHaveLength(2));
});

describe("buildWasm failures", () => {
    const dirs: string[] = [];
    const tmp = () => {
        const d = fs.mkdtempSync(path.join(os.tmpdir(), "iu-wasmbuild-"));
        dirs.push(d);
        return d;
    };
    afterEach(() => {
        for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
    });

    it("refuses a directory without a crate", () => {
        const d = tmp();
        expect(() => buildWasm({ moduleDir: d, targetDir: path.join(d, "target") })).toThrow(/no Cargo.toml in module dir/);
    });

    it("reports cargo's exit code and ends its message with cargo's last lines", () => {
        const d = tmp();
        fs.writeFileSync(path.join(d, "Cargo.toml"), "[package\nname = \n");
        let error: unknown;
        try {
            buildWasm({ moduleDir: d, targetDir: path.join(d, "target") });
        } catch (e) {
            error = e;
        }
        expect(error).toBeInstanceOf(WasmBuildError);
        const failed = error as WasmBuildError;
        expect(failed.exitCode).toBe(101);
        expect(failed.message).toMatch(/cargo build of .* failed \(exit 101\):\n/);
        expect(failed.stderrTail).toMatch(/^error: .*\n.*Cargo\.toml:1/m);
        expect(failed.message.endsWith(failed.stderrTail)).toBe(true);
    });
});

describe("buildWithCargo: one artifact check (checkout, then the machine's cache, then a build)", () => {
    const saved = process.env.IU_ARTIFACT_CACHE;
    const dirs: string[] = [];
    afterEach(() => {
        if (saved === undefined) delete process.env.IU_ARTIFACT_CACHE;
        else process.env.IU_ARTIFACT_CACHE = saved;
        for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
    });
    const setup = () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "iu-artifacts-"));
        dirs.push(root);
        process.env.IU_ARTIFACT_CACHE = path.join(root, "cache");
        // No crate: a build would fail, so each case shows the build was not needed.
        return { projectRoot: root, moduleDir: "nothing-here", targetDir: "target", artifact: path.join(".iu", "artifacts", "abc.wasm"), sourceHash: "abc" };
    };

    it("reads the checkout's artifact and builds nothing", () => {
        const req = setup();
        fs.mkdirSync(path.join(req.projectRoot, ".iu", "artifacts"), { recursive: true });
        fs.writeFileSync(path.join(req.projectRoot, req.artifact), "\0asm-checkout");
        expect(buildWithCargo(req)).toEqual({ wasm: req.artifact, sha256: sha256File(path.join(req.projectRoot, req.artifact)) });
        expect(fs.existsSync(process.env.IU_ARTIFACT_CACHE!)).toBe(false);
    });

    it("copies the machine's cached artifact (keyed by source hash and compiler) into the checkout", () => {
        const req = setup();
        const cache = process.env.IU_ARTIFACT_CACHE!;
        fs.mkdirSync(cache, { recursive: true });
        const cached = cachedArtifact(req.sourceHash);
        expect(path.dirname(cached)).toBe(cache);
        expect(path.basename(cached)).toMatch(/^abc-[0-9a-f]{12}\.wasm$/);
        fs.writeFileSync(cached, "\0asm-cached");
        const got = buildWithCargo(req);
        expect(fs.readFileSync(path.join(req.projectRoot, req.artifact), "utf8")).toBe("\0asm-cached");
        expect(got.sha256).toBe(sha256File(cached));
        expect(fs.readdirSync(path.join(req.projectRoot, ".iu", "artifacts"))).toEqual(["abc.wasm"]);
    });

    it("builds when neither exists (and fails here: there is no crate)", () => {
        const req = setup();
        expect(() => buildWithCargo(req)).toThrow(/no Cargo.toml in module dir/);
        expect(fs.existsSync(path.join(req.projectRoot, req.artifact))).toBe(false);
    });
});

describe("the source hash: what determines the wasm's bytes", () => {
    let harness: Awaited<ReturnType<typeof installHarness>>;
    beforeAll(async () => {
        harness = await installHarness("dev");
    });

    /** A project with a crate and the build code; returns the hash ModuleBuild asks its builder for. */
    const hashOf = async (edit: (root: string) => void = () => {}) => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "iu-srchash-"));
        try {
            fs.mkdirSync(path.join(root, "module", "src"), { recursive: true });
            fs.writeFileSync(path.join(root, "module", "Cargo.toml"), "[package]\n");
            fs.writeFileSync(path.join(root, "module", "src", "lib.rs"), "fn a() {}\n");
            fs.mkdirSync(path.join(root, "infra", "lib"), { recursive: true });
            fs.writeFileSync(path.join(root, "infra", "lib", "wasmBuild.ts"), "// build code\n");
            edit(root);
            const requests: BuildRequest[] = [];
            const builder = (req: BuildRequest) => {
                requests.push(req);
                return { wasm: req.artifact, sha256: "0".repeat(64) };
            };
            const args = { projectRoot: root, moduleDir: "module", artifactDir: ".iu/artifacts", targetDir: "target", build: true, builder };
            await harness.run(() => new ModuleBuild(`m-${path.basename(root)}`, args));
            return requests[0]!.sourceHash;
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    };

    it.each([
        ["nothing", false, () => {}],
        ["the crate", true, (root: string) => fs.appendFileSync(path.join(root, "module", "src", "lib.rs"), "//\n")],
        ["the build code (infra/lib/wasmBuild.ts)", true, (root: string) => fs.appendFileSync(path.join(root, "infra", "lib", "wasmBuild.ts"), "//\n")],
        ["a file outside both", false, (root: string) => fs.writeFileSync(path.join(root, "README.md"), "x")],
    ])("editing %s → hash changes: %s", async (_what, changes, edit) => {
        expect((await hashOf(edit)) !== (await hashOf())).toBe(changes);
    });
});
