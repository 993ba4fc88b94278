import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { PROJECT_ROOT } from "./env";
import { SHARED_WASM_TARGET } from "./ports";

/**
 * A checkout of this project somewhere else, as a colleague or a CI runner has one: a git repo
 * holding the files git tracks (and new files it does not ignore) of this working tree, committed,
 * with node_modules linked in (installing it again would only cost time). The e2e suite and the
 * benchmark run the CLI in such checkouts so they never touch this one's stacks, ports or files.
 */
export function makeCheckout(dest: string, opts: { devConfig?: Record<string, unknown> } = {}): string {
    const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard", "-z"], { cwd: PROJECT_ROOT, encoding: "utf8" })
        .split("\0")
        .filter((f) => f && fs.existsSync(path.join(PROJECT_ROOT, f)));
    for (const f of files) {
        fs.mkdirSync(path.dirname(path.join(dest, f)), { recursive: true });
        fs.copyFileSync(path.join(PROJECT_ROOT, f), path.join(dest, f));
        fs.chmodSync(path.join(dest, f), fs.statSync(path.join(PROJECT_ROOT, f)).mode);
    }
    return commitCheckout(dest, "checkout", opts);
}

/** A checkout of another commit of this repository (the benchmark's `--against`): its tracked files at `rev`. */
export function makeCheckoutAt(rev: string, dest: string, opts: { devConfig?: Record<string, unknown> } = {}): string {
    fs.mkdirSync(dest, { recursive: true });
    execFileSync("bash", ["-c", 'git -C "$1" archive "$2" | tar -x -C "$3"', "checkout", PROJECT_ROOT, rev, dest]);
    return commitCheckout(dest, rev, opts);
}

function commitCheckout(dest: string, message: string, opts: { devConfig?: Record<string, unknown> }): string {
    if (opts.devConfig) setStackConfig(dest, "dev", opts.devConfig);
    const git = (...args: string[]) => execFileSync("git", args, { cwd: dest, stdio: "ignore" });
    git("init", "-q", "-b", "main");
    git("add", "-A");
    git("-c", "user.name=e2e", "-c", "user.email=e2e@localhost", "commit", "-q", "-m", message);
    linkNodeModules(dest);
    return dest;
}

/** `git clone` of a checkout, with node_modules linked: another machine's copy of the same commit. */
export function cloneCheckout(origin: string, dest: string): string {
    execFileSync("git", ["clone", "-q", origin, dest], { stdio: "ignore" });
    linkNodeModules(dest);
    return dest;
}

function linkNodeModules(dir: string): void {
    // The CLI and the providers resolve @pulumi/pulumi from the project directory.
    fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(dir, "node_modules"));
}

/**
 * Pulumi.dev.yaml values that make a checkout's dev stack its own: its ports, a state dir outside
 * every checkout, the shared wasm target dir (dependencies compile once), data deleted on destroy.
 */
export function isolatedDevConfig(opts: { stateDir: string; serverPort: number; tlsPort: number }): Record<string, unknown> {
    return {
        spacetimedb: { port: opts.serverPort, ready_timeout_s: 120 },
        tls: { port: opts.tlsPort },
        local: { state_dir: opts.stateDir },
        module: { target_dir: SHARED_WASM_TARGET },
        protect: { data: false, delete_data_on_destroy: true },
    };
}

/** Merges `inner-universe:*` values into Pulumi.<stack>.yaml of a checkout (as `pulumi config set --path` would). */
export function setStackConfig(dir: string, stack: string, values: Record<string, unknown>): void {
    const file = path.join(dir, `Pulumi.${stack}.yaml`);
    const doc = fs.existsSync(file) ? (YAML.parse(fs.readFileSync(file, "utf8")) ?? {}) : {};
    doc.config ??= {};
    for (const [key, value] of Object.entries(values)) {
        const k = `inner-universe:${key}`;
        const old = doc.config[k];
        doc.config[k] = isObject(old) && isObject(value) ? deepMerge(old, value) : value;
    }
    fs.writeFileSync(file, YAML.stringify(doc));
}

/** Whether a checkout's work tree differs from its last commit (`git status --porcelain`). */
export function gitDirty(dir: string): string {
    return execFileSync("git", ["status", "--porcelain"], { cwd: dir, encoding: "utf8" }).trim();
}

function isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
    const out = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = isObject(out[k]) && isObject(v) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
    return out;
}
