/**
 * Benchmark (not a test): how much the program costs over the work it cannot avoid.
 *   npm run bench
 * Everything runs through the Pulumi CLI as a user types it (`pulumi up -s dev --yes
 * --policy-pack …`), in a checkout of this project with its own backend and ports. Floors, measured
 * in the same run: a no-op `pulumi up` of an empty Node project (same CLI, language host, ts-node
 * and policy pack: the engine's fixed cost) and, for a module edit, a raw incremental cargo build
 * plus one raw HTTP publish.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isolatedDevConfig, makeCheckout } from "./lib/checkout";
import { changed, lastChanges, pulumi, pulumiOk, stackOutputs } from "./lib/cli";
import { PROJECT_ROOT } from "./lib/engine";
import { freePort, SHARED_WASM_TARGET } from "./lib/workspace";

async function timed<T>(fn: () => Promise<T> | T): Promise<[number, T]> {
    const t = process.hrtime.bigint();
    const v = await fn();
    return [Number(process.hrtime.bigint() - t) / 1e9, v];
}

/** A Node Pulumi project with an empty program, set up like ours (TypeScript, package.json main). */
function emptyProject(dir: string): string {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: bench-empty\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n");
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "bench-empty", main: "index.ts" }));
    fs.writeFileSync(path.join(dir, "index.ts"), "export const nothing = 0;\n");
    fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ extends: path.join(PROJECT_ROOT, "tsconfig.json"), include: ["index.ts"] }));
    fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(dir, "node_modules"));
    return dir;
}

const summary = (c: Record<string, number>) =>
    Object.entries(c)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ");

async function main() {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "iu-bench-"));
    fs.mkdirSync(path.join(tmp, "backend"));
    const env = { PULUMI_BACKEND_URL: `file://${path.join(tmp, "backend")}`, PULUMI_CONFIG_PASSPHRASE: "bench" };
    const port = await freePort();
    const checkout = makeCheckout(path.join(tmp, "checkout"), {
        devConfig: isolatedDevConfig({ stateDir: path.join(tmp, "state"), serverPort: port, tlsPort: await freePort() }),
    });
    const empty = emptyProject(path.join(tmp, "empty"));
    const pack = ["--policy-pack", path.join(PROJECT_ROOT, "policy", "pack")];
    const upIn = (cwd: string, stack: string) => () => pulumiOk(["up", "-s", stack, "--yes", ...pack], { cwd, env });
    try {
        await pulumiOk(["stack", "init", "empty"], { cwd: empty, env });
        await upIn(empty, "empty")();
        const [floorNoop] = await timed(upIn(empty, "empty"));

        await pulumiOk(["stack", "init", "dev"], { cwd: checkout, env });
        const [fresh] = await timed(upIn(checkout, "dev"));
        const freshChanges = await lastChanges("dev", { cwd: checkout, env });
        const [noop] = await timed(upIn(checkout, "dev"));
        const noopChanges = await lastChanges("dev", { cwd: checkout, env });

        const lib = path.join(checkout, "module", "src", "lib.rs");
        fs.appendFileSync(lib, "\n// bench edit 1\n");
        const [edit] = await timed(upIn(checkout, "dev"));
        const editChanges = await lastChanges("dev", { cwd: checkout, env });

        // Floor for the edit: the same kind of change, built and published by hand.
        fs.appendFileSync(lib, "// bench edit 2\n");
        const [rawBuild, line] = await timed(() =>
            execFileSync("bash", [path.join(checkout, "scripts", "build-module.sh"), "--target-dir", SHARED_WASM_TARGET], {
                cwd: checkout,
                env: { ...process.env, IU_MODULE_DIR: path.join(checkout, "module") },
                encoding: "utf8",
                stdio: ["ignore", "pipe", "ignore"],
            }),
        );
        const wasm = JSON.parse(line.trim().split("\n").pop()!).wasm as string;
        const token = (await stackOutputs("dev", { cwd: checkout, env, showSecrets: true })).deployerToken as string;
        const [rawPublish] = await timed(() =>
            execFileSync(
                "curl",
                ["-fsS", "-X", "PUT", "-H", `Authorization: Bearer ${token}`, "--data-binary", `@${wasm}`, `http://127.0.0.1:${port}/v1/database/inner-universe`],
                { stdio: "ignore" },
            ),
        );
        const floorEdit = rawBuild + rawPublish;

        const rows: [string, number, number, string][] = [
            ["fresh up", fresh, floorNoop + floorEdit, summary(freshChanges)],
            ["no-op up", noop, floorNoop, summary(noopChanges)],
            ["module-edit up", edit, floorNoop + floorEdit, summary(editChanges)],
        ];
        console.log(`\nfloors: empty-project no-op up ${floorNoop.toFixed(2)}s; raw incremental build ${rawBuild.toFixed(2)}s + raw publish ${rawPublish.toFixed(2)}s`);
        console.log("\n| run (pulumi up through the CLI) | seconds | floor | ratio | changes |\n| --- | --- | --- | --- | --- |");
        for (const [name, t, floor, ch] of rows) console.log(`| ${name} | ${t.toFixed(2)} | ${floor.toFixed(2)} | ${(t / floor).toFixed(2)}x | ${ch} |`);
        console.log(`\nno-op up: ${changed(noopChanges).length > 0 ? "CHANGED resources (regression)" : "0 changes"}`);
    } finally {
        await pulumi(["destroy", "-s", "dev", "--yes"], { cwd: checkout, env });
        await pulumi(["destroy", "-s", "empty", "--yes"], { cwd: empty, env });
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}

main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
});
