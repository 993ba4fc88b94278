/**
 * Benchmark (not a test): how much the program costs over the work it cannot avoid.
 *   npx tsx scripts/bench.ts
 * Prints fresh `up`, no-op `up` and module-edit `up` against their floors: an empty-stack
 * `pulumi preview` (engine + inline program overhead) and a raw incremental cargo build plus
 * one raw HTTP publish (the module edit's unavoidable work). Runs in a throw-away workspace.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { PROJECT_ROOT } from "./lib/engine";
import { copyModule, freePort, SHARED_WASM_TARGET, tempStack, tempWorkspace } from "./lib/workspace";

async function timed<T>(fn: () => Promise<T> | T): Promise<[number, T]> {
    const t = process.hrtime.bigint();
    const v = await fn();
    return [Number(process.hrtime.bigint() - t) / 1e9, v];
}

function changes(res: { summary: { resourceChanges?: Record<string, number> } }): string {
    return Object.entries(res.summary.resourceChanges ?? {})
        .map(([k, v]) => `${k} ${v}`)
        .join(", ");
}

async function main() {
    const ws = tempWorkspace("bench");
    const moduleDir = copyModule(path.join(ws.dir, "module"));
    const port = await freePort();
    let stack: Stack | undefined;
    try {
        const empty = await tempStack(ws, "bench-empty", {}, async () => ({}));
        await empty.up();
        const [floorPreview] = await timed(() => empty.preview());

        stack = await tempStack(ws, "bench", {
            spacetimedb: { port },
            tls: { port: await freePort() },
            local: { state_dir: ws.stateDir },
            module: { dir: moduleDir, target_dir: SHARED_WASM_TARGET },
            protect: { delete_data_on_destroy: true },
        });
        const s = stack;
        const [fresh, freshRes] = await timed(() => s.up());
        const [noop, noopRes] = await timed(() => s.up());

        const lib = path.join(moduleDir, "src", "lib.rs");
        fs.appendFileSync(lib, "\n// bench edit 1\n");
        const [edit, editRes] = await timed(() => s.up());

        // Floor for the edit: the same kind of change, built and published by hand.
        fs.appendFileSync(lib, "// bench edit 2\n");
        const [rawBuild, line] = await timed(() =>
            execFileSync("bash", [path.join(PROJECT_ROOT, "scripts", "build-module.sh"), "--target-dir", SHARED_WASM_TARGET], {
                env: { ...process.env, IU_MODULE_DIR: moduleDir },
                encoding: "utf8",
                stdio: ["ignore", "pipe", "ignore"],
            }),
        );
        const wasm = JSON.parse(line.trim().split("\n").pop()!).wasm as string;
        const token = (await s.outputs()).deployerToken!.value as string;
        const [rawPublish] = await timed(() =>
            execFileSync("curl", ["-fsS", "-X", "PUT", "-H", `Authorization: Bearer ${token}`, "--data-binary", `@${wasm}`, `http://127.0.0.1:${port}/v1/database/inner-universe`], { stdio: "ignore" }),
        );
        const floorEdit = rawBuild + rawPublish;

        const rows: [string, number, number, string][] = [
            ["fresh up", fresh, floorPreview + floorEdit, changes(freshRes)],
            ["no-op up", noop, floorPreview, changes(noopRes)],
            ["module-edit up", edit, floorPreview + floorEdit, changes(editRes)],
        ];
        console.log(`\nfloors: empty-stack preview ${floorPreview.toFixed(2)}s; raw incremental build ${rawBuild.toFixed(2)}s + raw publish ${rawPublish.toFixed(2)}s`);
        console.log("\n| run | seconds | floor | ratio | changes |\n| --- | --- | --- | --- | --- |");
        for (const [name, t, floor, ch] of rows) console.log(`| ${name} | ${t.toFixed(2)} | ${floor.toFixed(2)} | ${(t / floor).toFixed(2)}x | ${ch} |`);
        const noopChanged = Object.entries(noopRes.summary.resourceChanges ?? {}).some(([k, v]) => k !== "same" && v > 0);
        console.log(`\nno-op up: ${noopChanged ? "CHANGED resources (regression)" : "0 changes"}`);
        await empty.destroy();
    } finally {
        await stack?.destroy().catch(() => undefined);
        ws.cleanup();
    }
}

main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
});
