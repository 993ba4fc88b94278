/**
 * Benchmark (not a test): how much the program costs over the work it cannot avoid.
 *   npm run bench [-- --rounds N] [-- --against <git rev>]      (npm run ops -- bench …)
 * Everything runs through the Pulumi CLI as a user types it (`pulumi up -s dev --yes
 * --policy-pack …`), in a checkout of this project with its own backend and ports. Floors, measured
 * in the same run: a no-op `pulumi up` of an empty Node project (same CLI, language host, ts-node
 * and policy pack: the engine's fixed cost) and, for a module edit, a raw incremental cargo build
 * plus one raw HTTP publish. No-op runs are interleaved with the floor's, N rounds, medians: one
 * run on this 2-core machine varies by ±15%. `--against` adds a checkout of another commit (e.g.
 * the one before a change) whose no-op runs in the same rounds: "no slower than before" as a number.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cargoInvocation, wasmPath } from "../../infra/lib/wasmBuild";
import { isolatedDevConfig, makeCheckout, makeCheckoutAt } from "../checkout";
import { type Command, EXIT, wholeNumber } from "../cli";
import { PROJECT_ROOT } from "../env";
import { freePort, SHARED_WASM_TARGET } from "../ports";
import { changed, lastChanges, pulumi, pulumiOk, stackOutputs } from "../pulumi";

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

/** A module edit that reaches the wasm (a new reducer: an accepted migration, so a real publish), unique per call. */
function addReducer(lib: string, tag: string): void {
    const name = `bench_${tag}_${process.hrtime.bigint().toString(36)}`;
    fs.appendFileSync(lib, `\n#[spacetimedb::reducer]\npub fn ${name}(_ctx: &spacetimedb::ReducerContext) {}\n`);
}

const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return (s[Math.floor((s.length - 1) / 2)]! + s[Math.ceil((s.length - 1) / 2)]!) / 2;
};
const spread = (xs: number[]) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;

interface Project {
    name: string;
    cwd: string;
    stack: string;
    env: Record<string, string>;
    pack: string[];
    /** The dev stack's server port. */
    port: number;
}

export const benchCommand: Command = {
    path: ["bench"],
    summary: "the benchmark (not a test): fresh, no-op and module-edit `pulumi up` against their floors, measured in one run",
    examples: ["npm run bench -- --rounds 7", "npm run ops -- bench --rounds 5 --against HEAD~3"],
    stack: "none",
    flags: {
        rounds: { type: "string", value: "N", help: "interleaved no-op rounds (medians)", default: "5" },
        against: { type: "string", value: "REV", help: "also time a checkout of another commit in the same rounds" },
    },
    run: async (ctx) => {
        const rounds = wholeNumber(ctx.flags, "rounds", 1) ?? 5;
        const against = typeof ctx.flags.against === "string" ? ctx.flags.against : undefined;
        ctx.progress(`bench: ${rounds} rounds; a fresh up, ${rounds} interleaved no-ops and a module edit (several minutes)…`);
        await bench(rounds, against);
        return EXIT.ok;
    },
};

async function bench(rounds: number, againstRev: string | undefined): Promise<void> {
    const values = { against: againstRev };
    if (values.against) execFileSync("git", ["rev-parse", "--verify", `${values.against}^{commit}`], { cwd: PROJECT_ROOT, stdio: "ignore" });

    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "iu-bench-"));
    const project = async (name: string, make: (dir: string, devConfig: Record<string, unknown>) => string, stack = "dev"): Promise<Project> => {
        const backend = path.join(tmp, `backend-${name}`);
        fs.mkdirSync(backend);
        const port = await freePort();
        const dir = make(path.join(tmp, name), isolatedDevConfig({ stateDir: path.join(tmp, `state-${name}`), serverPort: port, tlsPort: await freePort() }));
        return {
            name,
            cwd: dir,
            stack,
            port,
            env: { PULUMI_BACKEND_URL: `file://${backend}`, PULUMI_CONFIG_PASSPHRASE: "bench" },
            pack: ["--policy-pack", path.join(dir, "policy", "pack")],
        };
    };
    const empty = await project("empty", (dir) => emptyProject(dir), "empty");
    empty.pack = ["--policy-pack", path.join(PROJECT_ROOT, "policy", "pack")];
    const ours = await project("checkout", (dir, devConfig) => makeCheckout(dir, { devConfig }));
    const against = values.against ? await project("against", (dir, devConfig) => makeCheckoutAt(values.against!, dir, { devConfig })) : undefined;
    const up = (p: Project) => pulumiOk(["up", "-s", p.stack, "--yes", ...p.pack], { cwd: p.cwd, env: p.env });
    const changes = (p: Project) => lastChanges(p.stack, { cwd: p.cwd, env: p.env });
    try {
        for (const p of [empty, ours, ...(against ? [against] : [])]) await pulumiOk(["stack", "init", p.stack], { cwd: p.cwd, env: p.env });
        await up(empty);
        const [fresh] = await timed(() => up(ours));
        const freshChanges = await changes(ours);
        if (against) await up(against);

        // No-op: interleaved with the floor (and the other commit), so load on the machine hits all alike.
        const noop: Record<string, number[]> = { empty: [], checkout: [], against: [] };
        let noopChanged: string[] = [];
        for (let i = 0; i < rounds; i++) {
            for (const p of [empty, ours, ...(against ? [against] : [])]) {
                noop[p.name]!.push((await timed(() => up(p)))[0]);
                if (p === ours) noopChanged = [...noopChanged, ...changed(await changes(ours))];
            }
        }

        // Module edit: an untimed warm-up edit first, so the program's build and the raw build below are
        // both incremental in this checkout (the remap flags name its path; the first build here compiles
        // the dependencies).
        const lib = path.join(ours.cwd, "module", "src", "lib.rs");
        addReducer(lib, "warmup");
        await up(ours);
        addReducer(lib, "edit");
        const [edit] = await timed(() => up(ours));
        const editChanges = await changes(ours);

        // Floor for the edit: the same kind of change, built and published by hand. The build is the
        // program's cargo command itself (infra/lib/wasmBuild.ts cargoInvocation), nothing around it.
        addReducer(lib, "raw");
        fs.mkdirSync(SHARED_WASM_TARGET, { recursive: true });
        const targetDir = fs.realpathSync(SHARED_WASM_TARGET);
        const cargo = cargoInvocation({ moduleDir: fs.realpathSync(path.join(ours.cwd, "module")), targetDir, env: process.env });
        const [rawBuild] = await timed(() => execFileSync(cargo.command, cargo.args, { cwd: cargo.cwd, env: cargo.env, stdio: ["ignore", "ignore", "pipe"] }));
        const wasm = wasmPath(targetDir);
        const token = (await stackOutputs("dev", { cwd: ours.cwd, env: ours.env, showSecrets: true })).deployerToken as string;
        const [rawPublish] = await timed(async () => {
            const res = await fetch(`http://127.0.0.1:${ours.port}/v1/database/inner-universe`, {
                method: "PUT",
                headers: { Authorization: `Bearer ${token}` },
                body: fs.readFileSync(wasm),
            });
            if (!res.ok) throw new Error(`raw publish: PUT /v1/database/inner-universe answered ${res.status}: ${await res.text()}`);
        });
        const floorNoop = median(noop.empty!);
        const floorEdit = rawBuild + rawPublish;

        const rows: [string, number, number, string][] = [
            ["fresh up", fresh, floorNoop + floorEdit, summary(freshChanges)],
            [
                `no-op up (median of ${rounds}, ${spread(noop.checkout!)} s)`,
                median(noop.checkout!),
                floorNoop,
                noopChanged.length ? `CHANGED ${noopChanged.join(", ")}` : "0 changes",
            ],
            ...(against
                ? [
                      [`no-op up at ${values.against} (median of ${rounds}, ${spread(noop.against!)} s)`, median(noop.against!), floorNoop, "the other commit"] as [
                          string,
                          number,
                          number,
                          string,
                      ],
                  ]
                : []),
            ["module-edit up (a new reducer)", edit, floorNoop + floorEdit, summary(editChanges)],
        ];
        console.log(
            `\nfloors: empty-project no-op up ${floorNoop.toFixed(2)}s (median of ${rounds}, ${spread(noop.empty!)} s); raw incremental build ${rawBuild.toFixed(2)}s + raw publish ${rawPublish.toFixed(2)}s`,
        );
        console.log("\n| run (pulumi up through the CLI) | seconds | floor | ratio | changes |\n| --- | --- | --- | --- | --- |");
        for (const [name, t, floor, ch] of rows) console.log(`| ${name} | ${t.toFixed(2)} | ${floor.toFixed(2)} | ${(t / floor).toFixed(2)}x | ${ch} |`);
        if (against)
            console.log(
                `\nno-op up against ${values.against}: ${((median(noop.checkout!) / median(noop.against!) - 1) * 100).toFixed(1)}% (medians of ${rounds} interleaved rounds)`,
            );
        console.log(`\nno-op up: ${noopChanged.length > 0 ? "CHANGED resources (regression)" : "0 changes"}`);
    } finally {
        for (const p of [ours, ...(against ? [against] : [])]) await pulumi(["destroy", "-s", "dev", "--yes"], { cwd: p.cwd, env: p.env });
        await pulumi(["destroy", "-s", "empty", "--yes"], { cwd: empty.cwd, env: empty.env });
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}
