import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { LocalShell } from "../providers/shell";
import { hashTree, sha256File } from "../lib/sourceHash";
import { script } from "./scripts";

export interface ModuleBuildArgs {
    /** Where the program reads sources from (never reaches state). */
    projectRoot: string;
    /** The Rust crate, relative to the project root (or absolute). */
    moduleDir: string;
    /** Where content-addressed artifacts are kept (shared by every stack of this checkout). */
    artifactDir: string;
    /** Cargo target dir (shared across stacks: dependencies and std compile once). */
    targetDir: string;
    /** false: publish `prebuiltWasm` as is. */
    build: boolean;
    prebuiltWasm?: string;
}

/**
 * Compiles the module to wasm32 when, and only when, its sources change: the trigger is a hash of
 * the crate and the build script, and the artifact path is derived from that hash.
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
            const artifact = path.join(args.artifactDir, `${this.sourceHash}.wasm`);
            const step = new LocalShell(
                `${name}-wasm`,
                {
                    create: script("build-artifact.sh"),
                    check: `test -s ${JSON.stringify(artifact)}`,
                    environment: {
                        IU_MODULE_DIR: args.moduleDir,
                        IU_ARTIFACT: artifact,
                        IU_TARGET_DIR: args.targetDir,
                    },
                    triggers: [this.sourceHash],
                    timeoutSeconds: 3600,
                },
                { parent: this },
            );
            const built = step.stdout.apply(parseBuildOutput);
            this.wasmPath = built.wasm;
            this.sha256 = built.sha256;
        }
        this.registerOutputs({ wasmPath: this.wasmPath, sha256: this.sha256 });
    }
}

export function parseBuildOutput(stdout: string): { wasm: string; sha256: string; bytes: number } {
    const last = stdout.trim().split("\n").pop() ?? "";
    const parsed = JSON.parse(last) as { wasm?: unknown; sha256?: unknown; bytes?: unknown };
    if (typeof parsed.wasm !== "string" || typeof parsed.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(parsed.sha256)) {
        throw new Error(`module build printed no artifact line: ${last}`);
    }
    return { wasm: parsed.wasm, sha256: parsed.sha256, bytes: Number(parsed.bytes) };
}
