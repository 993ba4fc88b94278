import * as path from "node:path";
import { buildWasm } from "../../infra/lib/wasmBuild";
import type { Command } from "../cli";
import { PROJECT_ROOT } from "../env";

/** The program's own module build, by hand: the same cargo invocation `pulumi up` runs, the same bytes. */
export const moduleCommand: Command = {
    path: ["module", "build"],
    summary: "build the Rust module to wasm32 exactly as `pulumi up` does (reproducible bytes), and print {wasm, sha256, bytes}",
    examples: ["npm run ops -- module build", "npm run ops -- module build --dir /tmp/module-variant --target-dir .iu/wasm-target"],
    stack: "none",
    json: true,
    flags: {
        dir: { type: "string", value: "DIR", help: "the crate (default: module/)" },
        "target-dir": { type: "string", value: "DIR", help: "cargo's target dir (default: .iu/wasm-target, shared with the stacks of this checkout)" },
    },
    run: async (ctx) => {
        const moduleDir = path.resolve(typeof ctx.flags.dir === "string" ? ctx.flags.dir : path.join(PROJECT_ROOT, "module"));
        const targetDir = path.resolve(typeof ctx.flags["target-dir"] === "string" ? ctx.flags["target-dir"] : path.join(PROJECT_ROOT, ".iu", "wasm-target"));
        ctx.progress(`module build: ${moduleDir} → ${targetDir} (a first build compiles std and the dependencies: minutes)…`);
        const built = buildWasm({ moduleDir, targetDir, log: ctx.progress });
        ctx.print(built, JSON.stringify(built));
        return 0;
    },
};
