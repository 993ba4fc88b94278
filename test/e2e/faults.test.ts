import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callOk, type Dump, fullDump, tokenAccepted } from "../../ops/backup/sql";
import { cloneCheckout, isolatedDevConfig, makeCheckout, setStackConfig } from "../../ops/checkout";
import { toolEnv } from "../../ops/env";
import { alive, freePort } from "../../ops/ports";
import { type CliResult, changed, lastChanges, pulumi, run, stackOutputs } from "../../ops/pulumi";
import { faults, lostRows } from "../support/faultCounters";

/**
 * Deploys that go wrong, on the user's path (`bash scripts/dev.sh`, real CLI, real server): two
 * at once on one stack from two checkouts sharing a backend, and a deploy whose CLI is killed with
 * SIGKILL in each phase (module build, server start, publish, readiness). After each, the next
 * `bash scripts/dev.sh` converges: one server on the root, every row, the same token.
 */
const STACK = "dev";
let tmp: string;
let a: string;
let b: string;
let env: Record<string, string>;
let stateDir: string;
let adminUrl: string;
let token: string;
let database: string;
let rows: Dump;

const echo = (s: string) => process.stderr.write(s);
const dev = (cwd: string, ...args: string[]): Promise<CliResult> => run("bash", ["scripts/dev.sh", ...args], { cwd, env, echo });
const pidOf = (name: "stdb" | "caddy") => Number(fs.readFileSync(path.join(stateDir, STACK, `${name}.pid`), "utf8").trim());

/** Every process whose command line names this test's state dir: the servers and proxies of this stack. */
function stackProcesses(): string[] {
    const r = spawnSync("bash", ["-c", `ps -eo pid=,args= | grep -F -- ${JSON.stringify(stateDir)} | grep -v -e grep -e 'bash -c' || true`], { encoding: "utf8" });
    return r.stdout.trim().split("\n").filter(Boolean);
}

/** When to pull the plug: given what the deploy printed so far and its process group. */
type Moment = (output: string, pgid: number) => boolean;

/** The engine has started changing this resource (its progress line). */
const during =
    (resource: string): Moment =>
    (output) =>
        new RegExp(`${resource} +updating`).test(output);
/** The module build's cargo is running in checkout A (the program runs it in module/, in a process group of its own). */
const compiling: Moment = () =>
    spawnSync("pgrep", ["-x", "cargo"], { encoding: "utf8" })
        .stdout.split("\n")
        .filter(Boolean)
        .some((pid) => {
            try {
                return fs.readlinkSync(`/proc/${pid}/cwd`).startsWith(a);
            } catch {
                return false;
            }
        });

/** @pulumi helper processes of a checkout whose parent is init: what a killed CLI leaves. */
function orphans(checkout: string): string[] {
    const r = spawnSync("bash", ["-c", "ps -eo pid=,ppid=,args= | awk '$2 == 1' | grep -e run-policy-pack -e dynamic-provider -e pulumi-language || true"], { encoding: "utf8" });
    return r.stdout
        .split("\n")
        .filter(Boolean)
        .filter((l) => {
            try {
                return fs.readlinkSync(`/proc/${l.trim().split(/\s+/)[0]}/cwd`).startsWith(checkout);
            } catch {
                return false;
            }
        });
}

/** `bash scripts/dev.sh up`, the pulumi CLI SIGKILLed at `moment`. */
async function killDeployAt(cwd: string, moment: Moment): Promise<{ output: string; killed: boolean }> {
    const child: ChildProcess = spawn("bash", ["scripts/dev.sh", "up"], { cwd, env: { ...process.env, ...toolEnv(env) }, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let output = "";
    child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    let done = false;
    const closed = new Promise<void>((r) => child.on("close", () => r()));
    void closed.then(() => (done = true));
    let killed = false;
    while (!done && !killed) {
        if (moment(output, child.pid!)) {
            // The CLI, not its shell: what a crashed laptop or a cancelled CI job leaves behind.
            spawnSync("pkill", ["-KILL", "-g", String(child.pid), "-x", "pulumi"]);
            killed = true;
            faults.injected++;
        }
        await new Promise((r) => setTimeout(r, 25));
    }
    await closed;
    return { output, killed };
}

/**
 * A change to the module that changes its wasm (a log line), so the next up builds and publishes.
 * Never seen before (the time in it): the wasm target dir is shared, and a variant an earlier run
 * compiled would build in a blink.
 */
function editModule(cwd: string): void {
    const f = path.join(cwd, "module", "src", "reducers", "lifecycle.rs");
    const text = fs.readFileSync(f, "utf8");
    fs.writeFileSync(f, text.replace(/Initializing Inner Universe module( \(fault drill \d+\))?/, `Initializing Inner Universe module (fault drill ${Date.now()})`));
}

beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "iu-faults-"));
    stateDir = path.join(tmp, "state");
    const iso = isolatedDevConfig({ stateDir, serverPort: await freePort(), tlsPort: await freePort() });
    const origin = makeCheckout(path.join(tmp, "origin"), { devConfig: { ...iso, feature_flags: { enable_metrics: false } } });
    a = cloneCheckout(origin, path.join(tmp, "a"));
    b = cloneCheckout(origin, path.join(tmp, "b"));
    fs.mkdirSync(path.join(tmp, "backend"));
    fs.writeFileSync(path.join(tmp, "passphrase"), "e2e-faults-passphrase", { mode: 0o600 });
    env = { PULUMI_BACKEND_URL: `file://${path.join(tmp, "backend")}`, PULUMI_CONFIG_PASSPHRASE_FILE: path.join(tmp, "passphrase") };
    const up = await dev(a, "up");
    expect(up.code, up.stderr).toBe(0);
    const outputs = await stackOutputs(STACK, { cwd: a, env, showSecrets: true });
    token = outputs.deployerToken as string;
    database = (outputs.atlas as { database: { name: string } }).database.name;
    adminUrl = (outputs.backup as { adminUrl: string }).adminUrl;
    for (const n of ["Ann", "Bob"]) await callOk(adminUrl, database, token, "create_entity", ["person", n, "{}"]);
    rows = await fullDump(adminUrl, database, token);
}, 600_000);

afterAll(async () => {
    try {
        if (a) await pulumi(["destroy", "-s", STACK, "--yes"], { cwd: a, env, echo });
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
        process.stdout.write(`[faults] ${JSON.stringify(faults)}\n`);
    }
});

async function converged(cwd: string, o: { staleLock?: boolean } = {}): Promise<void> {
    const again = await dev(cwd, "up");
    expect(again.code, again.stdout + again.stderr).toBe(0);
    // No helper of the killed CLI is left running in this checkout.
    expect(orphans(cwd), orphans(cwd).join("\n")).toEqual([]);
    if (o.staleLock) expect(again.stderr).toMatch(/cleared a stale lock of stack dev: \S+\.json was taken by pid \d+ on \S+ at \S+, which is no longer running/);
    const servers = stackProcesses().filter((l) => l.includes("spacetimedb-standalone"));
    expect(servers, servers.join("\n")).toHaveLength(1);
    expect(alive(pidOf("stdb"))).toBe(true);
    expect(await tokenAccepted(adminUrl, token)).toBe(true);
    const lost = lostRows(rows, await fullDump(adminUrl, database, token));
    faults.writesChecked += Object.values(rows).reduce((n, t) => n + t.rows.length, 0);
    faults.writesLost += lost.length;
    expect(lost).toEqual([]);
    const settled = await dev(cwd, "up");
    expect(settled.code).toBe(0);
    expect(changed(await lastChanges(STACK, { cwd, env }))).toEqual([]);
}

describe("two deploys of one stack at once", () => {
    it("the second is refused naming the lock and how to clear a stale one; state and server untouched", async () => {
        const server = pidOf("stdb");
        // A change that takes a while (the server restarts on another log level) keeps A's lock held.
        setStackConfig(a, STACK, { spacetimedb: { log_level: "warn" } });
        const first = dev(a, "up");
        const locks = path.join(tmp, "backend", ".pulumi", "locks");
        for (let i = 0; i < 600 && !(fs.existsSync(locks) && fs.readdirSync(locks, { recursive: true }).some((f) => String(f).endsWith(".json"))); i++) {
            await new Promise((r) => setTimeout(r, 50));
        }
        const second = await dev(b, "up");
        faults.injected++;
        expect(second.code).not.toBe(0);
        const said = second.stdout + second.stderr;
        expect(said).toMatch(/locked/);
        expect(said).toContain("pulumi cancel");
        faults.refused++;
        const done = await first;
        expect(done.code, done.stderr).toBe(0);
        expect(pidOf("stdb")).not.toBe(server);
        expect(lostRows(rows, await fullDump(adminUrl, database, token))).toEqual([]);
        await converged(b);
    });
});

describe("a deploy whose CLI is killed (SIGKILL) halfway", () => {
    const phases: [string, () => void, Moment][] = [
        ["the module build", () => editModule(a), compiling],
        ["the server start", () => setStackConfig(a, STACK, { spacetimedb: { log_level: "debug" } }), during("inner-universe-server-process")],
        ["the publish", () => editModule(a), during("inner-universe-publish-wasm")],
        ["the readiness wait", () => editModule(a), during("inner-universe-ready-probe")],
    ];
    for (const [phase, change, moment] of phases) {
        it(`killed during ${phase}: the next \`bash scripts/dev.sh\` clears the stale lock and converges, one server, every row`, async () => {
            change();
            const r = await killDeployAt(a, moment);
            expect(r.killed, r.output.slice(-3000)).toBe(true);
            await converged(a, { staleLock: true });
        });
    }
});
