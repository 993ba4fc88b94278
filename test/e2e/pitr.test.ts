import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { logInfo } from "../../ops/backup/clogArchive";
import { runStep } from "../../ops/backup/local";
import { loadIndex } from "../../ops/backup/pitr";
import { callOk, type Dump, diffDumps, fullDump, tokenAccepted } from "../../ops/backup/sql";
import { isolatedDevConfig, makeCheckout } from "../../ops/checkout";
import { toolsFile } from "../../ops/env";
import { alive, freePort } from "../../ops/ports";
import { type CliResult, changed, lastChanges, pulumi, pulumiOk, run } from "../../ops/pulumi";
import { readStack, type StackFacts, serverControl } from "../../ops/stack";

/**
 * Point-in-time recovery of a dev stack on a real SpacetimeDB 1.2 server: the archiver beside the
 * server (scripts/archive-ctl.sh, toolchain/clog-archive), `npm run ops -- backup restore
 * --to-offset/--to-time`, and what a kill -9 leaves out of the archive. Steps share the stack, in order.
 */
const DEV = "dev";
let tmp: string;
let checkout: string;
let stateDir: string;
let env: Record<string, string>;
let dev: StackFacts;
let bin: string;

const echo = (s: string) => process.stderr.write(s);
const cli = (args: string[]) => pulumiOk(args, { cwd: checkout, env, echo });
const up = () => cli(["up", "-s", DEV, "--yes", "--policy-pack", path.join(checkout, "policy", "pack")]);
const ops = (...args: string[]): Promise<CliResult> => run("npx", ["tsx", "ops/main.ts", ...args], { cwd: checkout, env, echo });
const dump = () => fullDump(dev.target.adminUrl, dev.target.database, dev.token);
const c = (r: string, a: unknown[]) => callOk(dev.target.adminUrl, dev.target.database, dev.token, r, a);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const replicasDir = () => path.join(path.resolve(checkout, dev.target.rootDir!), "data", "replicas");
const replica = () => fs.readdirSync(replicasDir()).find((d) => fs.existsSync(path.join(replicasDir(), d, "clog")))!;
const liveClog = () => path.join(replicasDir(), replica(), "clog");
const archiveDir = () => path.join(stateDir, "archive", DEV, replica());
const liveEnd = () => logInfo(liveClog()).end;
const archivedEnd = () => logInfo(archiveDir()).end;
const archiverPid = () => Number(fs.readFileSync(path.join(stateDir, "archive", `${DEV}.pid`), "utf8").trim());
const serverPid = () => Number(fs.readFileSync(path.join(stateDir, DEV, "stdb.pid"), "utf8").trim());

async function caughtUp(ms = 10_000): Promise<number> {
    const deadline = Date.now() + ms;
    for (;;) {
        const end = liveEnd();
        if (archivedEnd() === end) return end;
        if (Date.now() > deadline) throw new Error(`archive at ${archivedEnd()}, live log at ${end} after ${ms} ms`);
        await sleep(50);
    }
}

async function killed(pid: number): Promise<void> {
    process.kill(pid, "SIGKILL");
    while (alive(pid)) await sleep(20);
}

/** A point: the live log's last offset once the archive holds it, the rows then, and a moment after it was archived. */
interface Point {
    offset: number;
    dump: Dump;
    at: string;
}
async function point(): Promise<Point> {
    const d = await dump();
    const end = await caughtUp();
    await sleep(20);
    return { offset: end - 1, dump: d, at: new Date().toISOString() };
}

beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "iu-pitr-"));
    stateDir = path.join(tmp, "state");
    bin = process.env.CLOG_ARCHIVE_BIN ?? toolsFile().CLOG_ARCHIVE_BIN ?? "";
    if (!fs.existsSync(bin)) throw new Error(`clog-archive is not built (${bin || "no CLOG_ARCHIVE_BIN"}): run \`bash toolchain/setup-tools.sh dev\``);
    // The engine's PATH from a manifest of our own naming the archiver (the shared one is rewritten by every setup run).
    const tools = toolsFile();
    fs.writeFileSync(path.join(tmp, "tools.json"), JSON.stringify({ ...tools, CLOG_ARCHIVE_BIN: bin, PATH_PREFIX: `${path.dirname(bin)}:${tools.PATH_PREFIX}` }));
    checkout = makeCheckout(path.join(tmp, "checkout"), {
        devConfig: { ...isolatedDevConfig({ stateDir, serverPort: await freePort(), tlsPort: await freePort() }), feature_flags: { enable_metrics: false } },
    });
    fs.mkdirSync(path.join(tmp, "backend"));
    fs.writeFileSync(path.join(tmp, "passphrase"), "e2e-pitr-passphrase", { mode: 0o600 });
    env = {
        PULUMI_BACKEND_URL: `file://${path.join(tmp, "backend")}`,
        PULUMI_CONFIG_PASSPHRASE_FILE: path.join(tmp, "passphrase"),
        IU_TOOLS_ENV: path.join(tmp, "tools.json"),
        CLOG_ARCHIVE_BIN: bin,
    };
    process.env.CLOG_ARCHIVE_BIN = bin;
    process.env.IU_TOOLS_ENV = env.IU_TOOLS_ENV;
    // The steps this test runs itself (runStep) find the archiver as the engine's do.
    process.env.PATH = `${path.dirname(bin)}:${process.env.PATH}`;
    await cli(["stack", "init", DEV]);
    await up();
    dev = await readStack(DEV, { cwd: checkout, env });
    await c("admin_operation", ["set_metrics_interval", '{"seconds":86400}']);
});

afterAll(async () => {
    try {
        await pulumi(["destroy", "-s", DEV, "--yes"], { cwd: checkout, env, echo });
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
});

const points: Point[] = [];

describe("the archive beside the local server", () => {
    it("runs with the server, private, outside the root, and holds every commit of the live log", async () => {
        expect(fs.statSync(path.join(stateDir, "archive", DEV)).mode & 0o777).toBe(0o700);
        expect(alive(archiverPid())).toBe(true);
        await c("create_entity", ["person", "Ann", '{"n":1}']);
        const end = await caughtUp();
        expect(end).toBeGreaterThan(0);
        const verified = await run(bin, ["verify", "--archive", archiveDir()], { cwd: checkout, echo });
        expect(verified.code, verified.stderr).toBe(0);
        expect(JSON.parse(verified.stdout).end).toBe(end);
        // status reports the lag: nothing behind now.
        const st = JSON.parse((await ops("status", "--stack", DEV, "--json")).stdout) as {
            archive: { running: boolean; replicas: { commitsBehind: number; secondsBehind: number }[] };
        };
        expect(st.archive.running).toBe(true);
        expect(st.archive.replicas).toEqual([expect.objectContaining({ commitsBehind: 0, secondsBehind: 0 })]);
    });

    it("rows with known offsets and times, a base backup early, more rows after", async () => {
        await c("create_entity", ["person", "Bob", '{"n":2}']);
        const r = await ops("backup", "create", "--stack", DEV);
        expect(r.code, r.stderr).toBe(0);
        for (const [i, n] of ["Cy", "Dee", "Eve", "Fay", "Gus", "Hal"].entries()) {
            await c("create_entity", ["person", n, `{"n":${i + 3}}`]);
            await c("set_config", [`pitr_${i}`, n]);
            points.push(await point());
        }
        expect(new Set(points.map((p) => p.offset)).size).toBe(points.length);
    });

    it("the archiver killed and restarted while rows are written: no gap, no duplicate", async () => {
        await killed(archiverPid());
        await c("set_config", ["pitr_while_down", "x"]);
        await c("create_entity", ["person", "Ivy", "{}"]);
        const st = await ops("status", "--stack", DEV, "--json");
        expect(st.code).toBe(1);
        const report = JSON.parse(st.stdout) as { problems: string[]; archive: { replicas: { commitsBehind: number }[] } };
        expect(report.problems.join("\n")).toContain("the commitlog archiver is not running");
        expect(report.archive.replicas[0]!.commitsBehind).toBeGreaterThan(0);
        const control = await serverControl(DEV, { cwd: checkout, env });
        runStep(dev, control, control.start);
        const end = await caughtUp();
        const mins = loadIndex(archiveDir()).map((e) => e.min);
        expect(mins).toEqual([...Array(end).keys()]);
        const verified = await run(bin, ["verify", "--archive", archiveDir()], { cwd: checkout, echo });
        expect(verified.code, verified.stderr).toBe(0);
    });
});

describe("point-in-time restore", () => {
    it("--to-time in the middle: exactly the rows up to then, the token works, the next up changes nothing", async () => {
        const mid = points[3]!;
        const started = Date.now();
        const r = await ops("backup", "restore", "--stack", DEV, "--to-time", mid.at, "--json");
        expect(r.code, r.stderr).toBe(0);
        const out = JSON.parse(r.stdout) as { offset: number; liveEnd: number; previousRoot: string };
        process.stderr.write(`restore --to-time took ${Date.now() - started} ms\n`);
        expect(out.offset).toBe(mid.offset);
        expect(fs.existsSync(out.previousRoot)).toBe(true);
        const after = await dump();
        expect(diffDumps(mid.dump, after)).toEqual([]);
        expect(after).toEqual(mid.dump);
        expect(await tokenAccepted(dev.target.adminUrl, dev.token)).toBe(true);
        await up();
        expect(changed(await lastChanges(DEV, { cwd: checkout, env }))).toEqual([]);
    });

    it("--to-offset an earlier point (from the new archive the restore seeded)", async () => {
        const early = points[1]!;
        const r = await ops("backup", "restore", "--stack", DEV, "--to-offset", String(early.offset), "--json");
        expect(r.code, r.stderr).toBe(0);
        expect(diffDumps(early.dump, await dump())).toEqual([]);
    });
});

describe("kill -9 of the server while writes run", () => {
    it("the archive holds every commit acknowledged more than the lag before the kill", async () => {
        let worst = 0;
        for (let round = 0; round < 3; round++) {
            await caughtUp();
            const acks: { at: number; end: number }[] = [];
            let stop = false;
            const writer = (async () => {
                for (let i = 0; !stop; i++) {
                    try {
                        await c("set_config", [`kill_${round}_${i}`, String(i)]);
                    } catch {
                        return;
                    }
                    acks.push({ at: Date.now(), end: liveEnd() });
                }
            })();
            await sleep(1500 + round * 400);
            const archiver = archiverPid();
            const server = serverPid();
            // Both at once: what the archive holds at this moment is what a lost host would leave.
            process.kill(server, "SIGKILL");
            process.kill(archiver, "SIGKILL");
            const kill = Date.now();
            stop = true;
            await writer;
            while (alive(server) || alive(archiver)) await sleep(20);
            const held = archivedEnd();
            const missing = acks.filter((a) => a.end > held);
            const lag = missing.length ? kill - Math.min(...missing.map((a) => a.at)) : 0;
            worst = Math.max(worst, lag);
            process.stderr.write(`kill round ${round}: ${acks.length} writes acknowledged, ${missing.length} not yet archived, lag ${lag} ms\n`);
            expect(acks.length).toBeGreaterThan(5);
            expect(lag).toBeLessThan(1000);
            const control = await serverControl(DEV, { cwd: checkout, env });
            runStep(dev, control, control.start);
        }
        process.stderr.write(`worst archive lag at a kill -9: ${worst} ms\n`);
        await caughtUp();
        const verified = await run(bin, ["verify", "--archive", archiveDir()], { cwd: checkout, echo });
        expect(verified.code, verified.stderr).toBe(0);
    });
});

describe("a corrupt archive", () => {
    it("one byte corrupted in an archived segment: verify and a restore past it refuse naming the file; a restore before it works", async () => {
        await c("set_config", ["pitr_tail_1", "a"]);
        await c("set_config", ["pitr_tail_2", "b"]);
        const end = await caughtUp();
        const seg = fs
            .readdirSync(archiveDir())
            .filter((f) => f.endsWith(".stdb.log"))
            .sort()
            .at(-1)!;
        const file = path.join(archiveDir(), seg);
        const bytes = fs.readFileSync(file);
        bytes[bytes.length - 12] ^= 0x20;
        fs.writeFileSync(file, bytes);
        const v = await run(bin, ["verify", "--archive", archiveDir()], { cwd: checkout, echo });
        expect(v.code).toBe(1);
        expect(v.stderr).toContain(file);
        const refused = await ops("backup", "restore", "--stack", DEV, "--to-offset", String(end - 1));
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain(file);
        const ok = await ops("backup", "restore", "--stack", DEV, "--to-offset", String(points[1]!.offset));
        expect(ok.code, ok.stderr).toBe(0);
        expect(diffDumps(points[1]!.dump, await dump())).toEqual([]);
    });
});
