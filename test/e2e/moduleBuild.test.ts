import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SHARED_WASM_TARGET } from "../../scripts/lib/workspace";
import { copyModule } from "../support/module";
import { PROJECT_ROOT_FOR_TESTS as ROOT } from "../support/paths";

// Node's global WebAssembly; its types live in lib.dom, which this project does not load.
declare const WebAssembly: {
    validate(bytes: Uint8Array): boolean;
    compile(bytes: Uint8Array): Promise<object>;
    Module: {
        exports(module: object): { name: string; kind: string }[];
        imports(module: object): { module: string; name: string; kind: string }[];
    };
};

/** The wasm build route of these machines (Debian rustc-web, -Zbuild-std), for real. */
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "iu-wasm-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function build(moduleDir: string, targetDir: string): { wasm: string; sha256: string; bytes: number } {
    const out = execFileSync("bash", [path.join(ROOT, "scripts", "build-module.sh"), "--target-dir", targetDir], {
        env: { ...process.env, IU_MODULE_DIR: moduleDir },
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        timeout: 20 * 60_000,
    });
    const lines = out.trim().split("\n");
    expect(lines, "the build prints exactly one line on stdout").toHaveLength(1);
    return JSON.parse(lines[0]!);
}

describe("module build (scripts/build-module.sh)", () => {
    let first: { wasm: string; sha256: string; bytes: number };

    it("produces a valid wasm module with SpacetimeDB's entry points and only its host ABI", async () => {
        first = build(path.join(ROOT, "module"), SHARED_WASM_TARGET);
        const bytes = fs.readFileSync(first.wasm);
        expect(first.bytes).toBe(bytes.length);
        expect(bytes.subarray(0, 4)).toEqual(Buffer.from([0x00, 0x61, 0x73, 0x6d]));
        expect(WebAssembly.validate(bytes)).toBe(true);
        const mod = await WebAssembly.compile(bytes);
        const exports = WebAssembly.Module.exports(mod).map((e) => e.name);
        expect(exports).toEqual(expect.arrayContaining(["__describe_module__", "__call_reducer__", "memory"]));
        expect(exports.filter((e) => e.startsWith("__preinit__20_register_describer_"))).toEqual(
            expect.arrayContaining(["__preinit__20_register_describer_init", "__preinit__20_register_describer_set_config", "__preinit__20_register_describer_config"]),
        );
        // The 1.2 host offers spacetime_10.0 only: a newer import would fail to load there.
        const modules = new Set(WebAssembly.Module.imports(mod).map((i) => i.module));
        expect([...modules]).toEqual(["spacetime_10.0"]);
    });

    it("is reproducible: another checkout path and a clean target dir give the same sha256", () => {
        const elsewhere = copyModule(path.join(scratch, "checkout", "module"));
        const second = build(elsewhere, path.join(scratch, "target"));
        expect(second.sha256).toBe(first.sha256);
        expect(second.wasm).not.toBe(first.wasm);
    });
});
