import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type BuiltWasm, buildWasm } from "../../infra/lib/wasmBuild";
import { SHARED_WASM_TARGET } from "../../ops/ports";
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

describe("module build (infra/lib/wasmBuild.ts buildWasm)", () => {
    let first: BuiltWasm;

    it("produces a valid wasm module with SpacetimeDB's entry points and only its host ABI", async () => {
        first = buildWasm({ moduleDir: path.join(ROOT, "module"), targetDir: SHARED_WASM_TARGET, timeoutMs: 20 * 60_000 });
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
        const second = buildWasm({ moduleDir: elsewhere, targetDir: path.join(scratch, "target"), timeoutMs: 20 * 60_000 });
        expect(second.sha256).toBe(first.sha256);
        expect(second.wasm).not.toBe(first.wasm);
    });
});
