/**
 * The e2e SDK client's module bindings (./bindings) are SpacetimeDB's own generated code:
 * `spacetimedb-cli generate --lang typescript` (CLI 1.2.0 from crates.io, built by
 * toolchain/setup-tools.sh) run on the module's wasm (built by infra/lib/wasmBuild.ts).
 * They are committed so the client type-checks and runs without the CLI; the e2e test
 * test/e2e/clients/bindings.test.ts regenerates them and fails when the committed copy is stale.
 *
 *   npm run bindings:e2e     (= tsx test/e2e/clients/generate-bindings.ts) regenerates ./bindings
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildWasm } from "../../../infra/lib/wasmBuild";
import { cacheRoot } from "../../../ops/env";
import { SHARED_WASM_TARGET } from "../../../ops/ports";

const ROOT = path.resolve(__dirname, "..", "..", "..");
export const BINDINGS_DIR = path.join(__dirname, "bindings");

/** spacetimedb-cli from the tool manifest toolchain/setup-tools.sh writes. */
export function spacetimeCli(): string {
    const file = process.env.IU_TOOLS_ENV ?? path.join(cacheRoot(), "tools.json");
    const cli = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as { SPACETIMEDB_CLI?: string }).SPACETIMEDB_CLI : undefined;
    if (!cli || !fs.existsSync(cli)) {
        throw new Error(`spacetimedb-cli not found in the tool manifest ${file}: run \`bash toolchain/setup-tools.sh\` (it builds spacetimedb-cli 1.2.0 from crates.io)`);
    }
    return cli;
}

/** Builds the module (cached in the shared wasm target dir) and returns the wasm's path. */
export function buildModuleWasm(): string {
    return buildWasm({ moduleDir: path.join(ROOT, "module"), targetDir: SHARED_WASM_TARGET, timeoutMs: 20 * 60_000 }).wasm;
}

/**
 * Runs `spacetimedb-cli generate --lang typescript --bin-path WASM --out-dir OUT_DIR` with a
 * throw-away CLI root (generate needs no server or login; nothing is written to ~/.config).
 * Returns the generated files, relative path → contents.
 */
export function generateBindings(wasm: string, outDir: string, cli = spacetimeCli()): Map<string, string> {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "iu-stdb-cli-"));
    try {
        execFileSync(cli, ["--root-dir", home, "generate", "--lang", "typescript", "--bin-path", wasm, "--out-dir", outDir, "--yes"], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "pipe"],
            timeout: 5 * 60_000,
        });
    } finally {
        fs.rmSync(home, { recursive: true, force: true });
    }
    return readTree(outDir);
}

export function readTree(dir: string): Map<string, string> {
    const files = fs
        .readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
        .sort();
    return new Map(files.map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")]));
}

/** Replaces ./bindings with freshly generated code (files the generator no longer emits go too). */
function main(): void {
    const wasm = buildModuleWasm();
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "iu-bindings-"));
    try {
        const files = generateBindings(wasm, scratch);
        fs.rmSync(BINDINGS_DIR, { recursive: true, force: true });
        fs.cpSync(scratch, BINDINGS_DIR, { recursive: true });
        console.log(`wrote ${files.size} files to ${path.relative(ROOT, BINDINGS_DIR)} from ${wasm}`);
    } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}

if (require.main === module) main();
