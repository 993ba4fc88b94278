import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { artifactCacheDir } from "../facts";
import { hashTree, sha256File } from "../lib/sourceHash";
import { assertToolchain, buildWasm, DEBIAN_RUSTC } from "../lib/wasmBuild";

/** The build code: with the crate, what determines the wasm's bytes (part of the source hash). */
const WASM_BUILD_CODE = path.join("infra", "lib", "wasmBuild.ts");

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
 * of the crate and the build code (infra/lib/wasmBuild.ts).
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
            this.sourceHash = hashTree(path.resolve(args.projectRoot, args.moduleDir), [path.join(args.projectRoot, WASM_BUILD_CODE)]);
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
 * The real builder, one artifact check: the checkout's artifact if it exists; else the machine's
 * artifact cache (builds are reproducible — infra/lib/wasmBuild.ts remaps every path — so the
 * same sources and toolchain give the same bytes in any checkout); else a cargo build, whose wasm
 * goes into the cache and from there into the checkout.
 */
export function buildWithCargo(req: BuildRequest): Artifact {
    const abs = path.resolve(req.projectRoot, req.artifact);
    if (!nonEmpty(abs)) {
        assertToolchain();
        const cached = cachedArtifact(req.sourceHash);
        if (!nonEmpty(cached)) {
            pulumi.log.info(`building the module (sources ${req.sourceHash.slice(0, 12)} have no artifact yet)`);
            const built = buildWasm({
                moduleDir: path.resolve(req.projectRoot, req.moduleDir),
                targetDir: path.resolve(req.projectRoot, req.targetDir),
                log: (line) => pulumi.log.info(line),
            });
            copyAtomically(built.wasm, cached, built.sha256);
        }
        copyAtomically(cached, abs);
    }
    return { wasm: req.artifact, sha256: sha256File(abs) };
}

/** The machine's artifact for these sources: the compiler is part of what it was built from. */
export function cachedArtifact(sourceHash: string): string {
    const version = execFileSync(DEBIAN_RUSTC, ["--version"], { encoding: "utf8" }).trim();
    return path.join(artifactCacheDir(), `${sourceHash}-${createHash("sha256").update(version).digest("hex").slice(0, 12)}.wasm`);
}

function nonEmpty(file: string): boolean {
    return Boolean(fs.statSync(file, { throwIfNoEntry: false })?.size);
}

/** Readers see the whole file or none; `sha256`: the bytes the copy must hold (the target dir's wasm may be rewritten by the next build). */
function copyAtomically(from: string, to: string, sha256?: string): void {
    fs.mkdirSync(path.dirname(to), { recursive: true });
    const tmp = `${to}.${process.pid}.tmp`;
    fs.copyFileSync(from, tmp);
    if (sha256 && sha256File(tmp) !== sha256) {
        fs.rmSync(tmp, { force: true });
        throw new Error(`${from} changed while it was copied (another build in the same target dir?): build again`);
    }
    fs.renameSync(tmp, to);
}

/** Reads the one JSON line `npm run ops -- module build` ends with. */
export function parseBuildOutput(stdout: string): { wasm: string; sha256: string; bytes: number } {
    const last = stdout.trim().split("\n").pop() ?? "";
    const parsed = JSON.parse(last) as { wasm?: unknown; sha256?: unknown; bytes?: unknown };
    if (typeof parsed.wasm !== "string" || typeof parsed.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(parsed.sha256)) {
        throw new Error(`module build printed no artifact line: ${last}`);
    }
    return { wasm: parsed.wasm, sha256: parsed.sha256, bytes: Number(parsed.bytes) };
}
