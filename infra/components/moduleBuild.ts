import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { hashTree, sha256File } from "../lib/sourceHash";

export interface ModuleBuildArgs {
    /** Where the program reads sources from (never reaches state). */
    projectRoot: string;
    /** The Rust crate, relative to the project root (or absolute). */
    moduleDir: string;
    /** Where content-addressed artifacts are kept, relative to the project root (shared by every stack of this checkout). */
    artifactDir: string;
    /** Cargo target dir (shared across stacks: dependencies and std compile once). */
    targetDir: string;
    /** false: publish `prebuiltWasm` as is. */
    build: boolean;
    prebuiltWasm?: string;
    /** How an artifact is produced when none exists for the sources (tests swap in a fake). */
    builder?: ModuleBuilder;
}

/** What a build is asked for: every path relative to `projectRoot` unless absolute. */
export interface BuildRequest {
    projectRoot: string;
    moduleDir: string;
    targetDir: string;
    /** Where the artifact must end up (project-relative; its name is the source hash). */
    artifact: string;
    sourceHash: string;
}

export interface Artifact {
    /** Project-relative path of the wasm. */
    wasm: string;
    sha256: string;
}

export type ModuleBuilder = (req: BuildRequest) => Artifact;

/**
 * The module, built when its sources change and not otherwise: the artifact is named by a hash
 * of the crate and the build script.
 *
 * The build runs while the program runs, in `preview` as well as `up` (like a container image
 * build), so the wasm's hash is known before anything is published: a module change shows as a
 * Database update with its migration plan (infra/spacetimedb/database-impl.ts `check`) in the
 * preview a pull request gets. A run whose artifact exists reads one file and builds nothing.
 */
export class ModuleBuild extends pulumi.ComponentResource {
    readonly wasmPath: pulumi.Output<string>;
    readonly sha256: pulumi.Output<string>;
    readonly sourceHash: string;

    constructor(name: string, args: ModuleBuildArgs, opts?: pulumi.ComponentResourceOptions) {
        super("inner-universe:module:Build", name, {}, opts);
        if (!args.build) {
            const wasm = args.prebuiltWasm ?? "";
            const file = path.resolve(args.projectRoot, wasm);
            if (!fs.existsSync(file)) throw new pulumi.ResourceError(`inner-universe:module.wasm_path: ${file} does not exist; build it or set module.build: true`, this);
            this.sourceHash = sha256File(file);
            this.wasmPath = pulumi.output(wasm);
            this.sha256 = pulumi.output(this.sourceHash);
        } else {
            this.sourceHash = hashTree(path.resolve(args.projectRoot, args.moduleDir), [path.join(args.projectRoot, "scripts", "build-module.sh")]);
            const req: BuildRequest = {
                projectRoot: args.projectRoot,
                moduleDir: args.moduleDir,
                targetDir: args.targetDir,
                artifact: path.join(args.artifactDir, `${this.sourceHash}.wasm`),
                sourceHash: this.sourceHash,
            };
            let built: Artifact;
            try {
                built = (args.builder ?? buildWithCargo)(req);
            } catch (e) {
                throw new pulumi.ResourceError(`module build failed (inner-universe:module.dir = ${args.moduleDir}): ${(e as Error).message}`, this);
            }
            this.wasmPath = pulumi.output(built.wasm);
            this.sha256 = pulumi.output(built.sha256);
        }
        this.registerOutputs({ wasmPath: this.wasmPath, sha256: this.sha256 });
    }
}

/**
 * The real builder: the checkout's artifact if it exists; else the machine's artifact cache
 * (builds are reproducible — scripts/build-module.sh remaps every path — so the same sources and
 * toolchain give the same bytes in any checkout); else `scripts/build-artifact.sh`, whose result
 * is then cached for the next checkout.
 */
export function buildWithCargo(req: BuildRequest): Artifact {
    const abs = path.resolve(req.projectRoot, req.artifact);
    if (fs.statSync(abs, { throwIfNoEntry: false })?.size) return { wasm: req.artifact, sha256: sha256File(abs) };
    const cached = path.join(artifactCacheDir(), `${req.sourceHash}-${toolchainKey()}.wasm`);
    if (fs.existsSync(cached)) {
        copyAtomically(cached, abs);
    } else {
        pulumi.log.info(`building the module (sources ${req.sourceHash.slice(0, 12)} have no artifact yet)`);
        let stdout: string;
        try {
            stdout = execFileSync("bash", [path.join(req.projectRoot, "scripts", "build-artifact.sh")], {
                cwd: req.projectRoot,
                env: { ...process.env, IU_MODULE_DIR: req.moduleDir, IU_ARTIFACT: req.artifact, IU_TARGET_DIR: req.targetDir },
                encoding: "utf8",
                stdio: ["ignore", "pipe", "pipe"],
                maxBuffer: 64 * 1024 * 1024,
            });
        } catch (e) {
            const stderr = String((e as { stderr?: unknown }).stderr ?? "")
                .trim()
                .split("\n")
                .slice(-30)
                .join("\n");
            throw new Error(`scripts/build-artifact.sh failed:\n${stderr}`);
        }
        parseBuildOutput(stdout);
        copyAtomically(abs, cached);
    }
    return { wasm: req.artifact, sha256: sha256File(abs) };
}

/** Outside every checkout; `IU_ARTIFACT_CACHE` moves it. */
export function artifactCacheDir(): string {
    return process.env.IU_ARTIFACT_CACHE || path.join(os.homedir(), ".cache", "inner-universe", "artifacts");
}

/** The compiler is part of what a cached artifact was built from. */
function toolchainKey(): string {
    const version = execFileSync("/usr/bin/rustc", ["--version"], { encoding: "utf8" }).trim();
    return createHash("sha256").update(version).digest("hex").slice(0, 12);
}

function copyAtomically(from: string, to: string): void {
    fs.mkdirSync(path.dirname(to), { recursive: true });
    const tmp = `${to}.${process.pid}.tmp`;
    fs.copyFileSync(from, tmp);
    fs.renameSync(tmp, to);
}

export function parseBuildOutput(stdout: string): { wasm: string; sha256: string; bytes: number } {
    const last = stdout.trim().split("\n").pop() ?? "";
    const parsed = JSON.parse(last) as { wasm?: unknown; sha256?: unknown; bytes?: unknown };
    if (typeof parsed.wasm !== "string" || typeof parsed.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(parsed.sha256)) {
        throw new Error(`module build printed no artifact line: ${last}`);
    }
    return { wasm: parsed.wasm, sha256: parsed.sha256, bytes: Number(parsed.bytes) };
}
