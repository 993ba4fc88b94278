import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/**
 * The module's wasm build, reproducibly, without `rustup target add`: Debian bookworm-security
 * rustc-web/cargo-web 1.96 building std from source (`-Zbuild-std`, std source from rust-web-src)
 * for wasm32-unknown-unknown. RUSTC_BOOTSTRAP=1 is set only in the environment of that one cargo
 * command. This file is part of the module's source hash (infra/components/moduleBuild.ts): a
 * change here is a change of the bytes it may produce.
 *
 * By hand: `npx tsx infra/lib/wasmBuild.ts [--target-dir DIR] [MODULE_DIR]` prints
 * {"wasm","sha256","bytes"} (defaults: this checkout's module/ and its target/).
 */

export const WASM_TARGET = "wasm32-unknown-unknown";
/** The crate's name in module/Cargo.toml: the wasm is `<target>/wasm32-unknown-unknown/release/<crate>.wasm`. */
const CRATE = "inner_universe_module";
export const DEBIAN_RUSTC = "/usr/bin/rustc";
const DEBIAN_CARGO = "/usr/bin/cargo";
const STD_SRC = "/usr/lib/rustlib/src/rust";
const FIX = "run: bash toolchain/setup-tools.sh";

/** Inherited variables that would change what cargo builds, with what, or where: never passed on. */
export const UNSET_VARIABLES = [
    "RUSTFLAGS",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_BUILD_RUSTC_WRAPPER",
    "RUSTUP_TOOLCHAIN",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET",
] as const;

/** What the build needs on the machine, each with the Debian package that provides it. toolchain/setup-tools.sh installs them; a build only checks. */
const TOOLCHAIN: { path: string; kind: "executable" | "directory"; what: string; pkg: string }[] = [
    { path: DEBIAN_RUSTC, kind: "executable", what: "rustc", pkg: "rustc-web" },
    { path: DEBIAN_CARGO, kind: "executable", what: "cargo", pkg: "cargo-web" },
    { path: path.join(STD_SRC, "library"), kind: "directory", what: "std source", pkg: "rust-web-src" },
    { path: "/usr/bin/rust-lld", kind: "executable", what: "the wasm linker", pkg: "rust-web-llvm, lld-22" },
];

export interface Probe {
    executable(file: string): boolean;
    directory(dir: string): boolean;
}

const machine: Probe = {
    executable: (file) => {
        try {
            fs.accessSync(file, fs.constants.X_OK);
            return fs.statSync(file).isFile();
        } catch {
            return false;
        }
    },
    directory: (dir) => fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory() ?? false,
};

/** One line per missing piece, naming its Debian package and the fix; empty when the toolchain is complete. */
export function toolchainProblems(probe: Probe = machine): string[] {
    return TOOLCHAIN.filter((t) => !(t.kind === "executable" ? probe.executable(t.path) : probe.directory(t.path))).map(
        (t) => `${t.what} not found at ${t.path} (Debian ${t.pkg}); ${FIX}`,
    );
}

/** A build that did not produce the wasm: `exitCode` is cargo's (1 when cargo never ran), `stderrTail` its last lines. */
export class WasmBuildError extends Error {
    constructor(
        message: string,
        readonly exitCode: number,
        readonly stderrTail: string,
    ) {
        super(message);
        this.name = "WasmBuildError";
    }
}

export function assertToolchain(probe: Probe = machine): void {
    const problems = toolchainProblems(probe);
    if (problems.length) throw new WasmBuildError(problems.join("\n"), 1, problems.join("; "));
}

export interface CargoInvocation {
    command: string;
    args: string[];
    /** The whole environment of the command (not a patch over process.env). */
    env: Record<string, string>;
    cwd: string;
}

/**
 * The cargo command of the build, as data. `moduleDir` and `targetDir` are absolute and
 * symlink-free (buildWasm resolves them); `env` is the environment to start from.
 *
 * Paths that could leak into the artifact (panic locations, file!()) are remapped to fixed
 * prefixes, so the wasm does not depend on where the checkout, the cargo home or the target dir
 * live. rustc applies the last matching remap, so the more specific target dir (often inside the
 * module dir) comes last.
 */
export function cargoInvocation({ moduleDir, targetDir, env }: { moduleDir: string; targetDir: string; env: NodeJS.ProcessEnv }): CargoInvocation {
    const cargoHome = env.CARGO_HOME || path.join(env.HOME || os.homedir(), ".cargo");
    const rustflags = [
        `--remap-path-prefix=${cargoHome}=/cargo`,
        `--remap-path-prefix=${STD_SRC}=/rustc/src`,
        `--remap-path-prefix=${moduleDir}=/build/module`,
        `--remap-path-prefix=${targetDir}=/build/target`,
        "-Cdebuginfo=0",
        "-Cstrip=symbols",
    ];
    const inherited = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && !(UNSET_VARIABLES as readonly string[]).includes(e[0])));
    return {
        command: DEBIAN_CARGO,
        args: ["build", "--release", "--locked", "--target", WASM_TARGET, "-Zbuild-std=std,panic_abort", "--target-dir", targetDir],
        env: {
            ...inherited,
            RUSTC: DEBIAN_RUSTC,
            RUSTC_BOOTSTRAP: "1",
            CARGO_ENCODED_RUSTFLAGS: rustflags.join("\x1f"),
            CARGO_INCREMENTAL: "0",
            SOURCE_DATE_EPOCH: "0",
        },
        cwd: moduleDir,
    };
}

/** Where cargo leaves the wasm of an invocation's target dir. */
export function wasmPath(targetDir: string): string {
    return path.join(targetDir, WASM_TARGET, "release", `${CRATE}.wasm`);
}

export interface BuiltWasm {
    /** Absolute path of the wasm in the target dir (the next build overwrites it: copy it to keep it). */
    wasm: string;
    sha256: string;
    bytes: number;
}

const TAIL_LINES = 30;

/**
 * Builds the crate at `moduleDir` into `targetDir` (created if missing). Checks the toolchain and
 * installs nothing. Cargo's output is kept, not shown: a failure's message ends with its last lines.
 */
export function buildWasm({
    moduleDir,
    targetDir,
    log = () => {},
    timeoutMs,
}: {
    moduleDir: string;
    targetDir: string;
    log?: (line: string) => void;
    /** cargo is killed after this long (default: no limit). */
    timeoutMs?: number;
}): BuiltWasm {
    if (!fs.existsSync(path.join(moduleDir, "Cargo.toml"))) throw new WasmBuildError(`no Cargo.toml in module dir '${moduleDir}'`, 1, "");
    assertToolchain();
    const version = (file: string) => execFileSync(file, ["--version"], { encoding: "utf8" }).trim();
    log(`wasm build: ${version(DEBIAN_RUSTC)}, ${version(DEBIAN_CARGO)}`);
    fs.mkdirSync(targetDir, { recursive: true });
    const dirs = { moduleDir: fs.realpathSync(moduleDir), targetDir: fs.realpathSync(targetDir) };
    const inv = cargoInvocation({ ...dirs, env: process.env });

    const start = Date.now();
    const r = spawnSync(inv.command, inv.args, {
        cwd: inv.cwd,
        env: inv.env,
        stdio: ["ignore", "pipe", "pipe"],
        encoding: "utf8",
        maxBuffer: 256 * 1024 * 1024,
        ...(timeoutMs ? { timeout: timeoutMs } : {}),
    });
    const tail = `${r.stdout ?? ""}${r.stderr ?? ""}`
        .split("\n")
        .filter((l) => l.trim())
        .slice(-TAIL_LINES)
        .join("\n");
    if ((r.error as NodeJS.ErrnoException | undefined)?.code === "ETIMEDOUT") throw new WasmBuildError(`cargo build of ${moduleDir} took over ${timeoutMs} ms:\n${tail}`, 1, tail);
    if (r.error) throw new WasmBuildError(`cannot run ${inv.command}: ${r.error.message}`, 1, r.error.message);
    if (r.status !== 0) {
        const how = r.status === null ? `killed by ${r.signal}` : `exit ${r.status}`;
        throw new WasmBuildError(`cargo build of ${moduleDir} failed (${how}):\n${tail}`, r.status ?? 1, tail);
    }
    log(`wasm build: cargo build took ${((Date.now() - start) / 1000).toFixed(1)}s`);

    const wasm = wasmPath(dirs.targetDir);
    if (!fs.existsSync(wasm)) throw new WasmBuildError(`cargo build finished but ${wasm} is missing`, 1, tail);
    const bytes = fs.readFileSync(wasm);
    return { wasm, sha256: createHash("sha256").update(bytes).digest("hex"), bytes: bytes.length };
}
