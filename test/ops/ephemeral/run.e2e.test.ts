import { execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { daemonFiles, stackLayout } from "../../../infra/lib/localLayout";
import { pulumiCommand } from "../../../ops/automation";
import { PROJECT_ROOT, toolEnv } from "../../../ops/env";
import { listStacks, readStackFile, realDeps } from "../../../ops/ephemeral/engine";
import { backendFiles, portListening, readPid } from "../../../ops/ephemeral/leaks";
import { labelPrefix } from "../../../ops/ephemeral/naming";
import { type DownReport, type RunReport, runEphemeral } from "../../../ops/ephemeral/run";
import { defaultSmoke } from "../../../ops/ephemeral/smoke";
import { parseAtlas } from "../../../readers/ts/atlas-reader";

/**
 * The ephemeral runner against the real engine, the real server and Caddy, in a private file
 * backend. Every "nothing is left" claim of the runner's own leak check is checked again here,
 * independently, from what the test saw while the stack was up.
 */

const PY_SRC = path.join(PROJECT_ROOT, "readers", "python", "src");
let backendDir: string;
let backendUrl: string;

beforeAll(() => {
    backendDir = fs.mkdtempSync(path.join(os.tmpdir(), "iu-eph-e2e-backend-"));
    backendUrl = `file://${backendDir}`;
});
afterAll(() => fs.rmSync(backendDir, { recursive: true, force: true }));

interface Seen {
    stack: string;
    stackDir: string;
    pids: Array<{ pid: number; name: string }>;
    ports: number[];
}

function alive(pid: number, name: string): boolean {
    try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(name);
    } catch {
        return false;
    }
}

/** What the runner's leak check claims, checked without it. */
async function expectGone(seen: Seen, root: string): Promise<void> {
    for (const { pid, name } of seen.pids) expect(alive(pid, name), `${name} pid ${pid}`).toBe(false);
    for (const port of seen.ports) expect(await portListening(port), `port ${port}`).toBe(false);
    expect(fs.existsSync(seen.stackDir), seen.stackDir).toBe(false);
    expect(fs.existsSync(root), root).toBe(false);
    expect(await listStacks(backendUrl, PROJECT_ROOT)).not.toContain(seen.stack);
    expect(backendFiles(backendUrl, seen.stack)).toEqual([]);
}

function runningPids(stackDir: string): Array<{ pid: number; name: string }> {
    return [
        { file: daemonFiles(stackLayout(stackDir).rootDir).pid, name: "spacetimedb" },
        { file: daemonFiles(stackLayout(stackDir).proxyDir).pid, name: "caddy" },
    ].flatMap(({ file, name }) => {
        const pid = readPid(file);
        return pid !== undefined && alive(pid, name) ? [{ pid, name }] : [];
    });
}

describe("ephemeral runner with the real engine", () => {
    it("tears down completely after a deliberately failing smoke test; the readers accept the live stack output", { timeout: 15 * 60_000 }, async () => {
        const base = await readStackFile(PROJECT_ROOT, "dev");
        if ("missing" in base) throw new Error(base.missing);
        let seen: Seen | undefined;
        let stackOutput = "";
        let pyFromStack: { status: number | null; stdout: string; stderr: string } | undefined;

        const report = await runEphemeral(
            {
                label: "e2e",
                backendUrl,
                baseConfig: base.values,
                signal: new AbortController().signal,
                log: () => undefined,
                smokeEnv: toolEnv({ PULUMI_BACKEND_URL: backendUrl }),
                smoke: async (ctx) => {
                    // The real smoke test passes first: the failure below is the only one.
                    await defaultSmoke(ctx);
                    const atlas = ctx.atlas as { http: { url: string } };
                    const server = readPid(path.join(ctx.stackDir, "stdb.pid"))!;
                    const listen = /--listen-addr \S+:(\d+)/.exec(fs.readFileSync(`/proc/${server}/cmdline`, "utf8").replace(/\0/g, " "))!;
                    seen = { stack: ctx.stack, stackDir: ctx.stackDir, pids: runningPids(ctx.stackDir), ports: [Number(listen[1]), Number(new URL(atlas.http.url).port)] };
                    const env = { ...process.env, ...ctx.env };
                    stackOutput = execFileSync("pulumi", ["stack", "output", "--json", "--stack", ctx.stack], { cwd: ctx.workDir, env, encoding: "utf8" });
                    const py = spawnSync("python3", ["-m", "inner_universe_atlas", "--stack", ctx.stack, "--cwd", ctx.workDir], {
                        env: { ...env, PYTHONPATH: PY_SRC },
                        encoding: "utf8",
                    });
                    pyFromStack = { status: py.status, stdout: py.stdout, stderr: py.stderr };
                    throw new Error("deliberate smoke failure");
                },
            },
            realDeps(),
        );

        expect(report).toMatchObject({ ok: false, phase: "smoke", error: "deliberate smoke failure", interrupted: false });
        expect(report.teardown).toMatchObject({ destroyed: true, removed: true, steps: ["destroy", "remove", "purge-backend", "leak-check"] });
        expect(report.teardown.leaks.leaks).toEqual([]);
        expect(seen!.pids.map((p) => p.name).sort()).toEqual(["caddy", "spacetimedb"]);
        await expectGone(seen!, path.dirname(path.dirname(seen!.stackDir)));

        // Atlas readers on the real `pulumi stack output --json` of a stack built from Pulumi.dev.yaml.
        const tsAtlas = parseAtlas(stackOutput);
        expect(tsAtlas).toEqual(report.atlas);
        expect(tsAtlas).toMatchObject({ schemaVersion: 1, runtime: "local", tls: { enabled: true }, database: { name: "inner-universe" } });
        const py = spawnSync("python3", ["-m", "inner_universe_atlas", "-"], { input: stackOutput, env: { ...process.env, PYTHONPATH: PY_SRC }, encoding: "utf8" });
        expect(py.status, py.stderr).toBe(0);
        expect(JSON.parse(py.stdout)).toEqual(report.atlas);
        expect(pyFromStack!.status, pyFromStack!.stderr).toBe(0);
        expect(JSON.parse(pyFromStack!.stdout)).toEqual(report.atlas);
    });

    it("SIGTERM during `up` cancels the update, tears down, leaves nothing and exits 143", { timeout: 15 * 60_000 }, async () => {
        const reportFile = path.join(backendDir, "sigterm-report.json");
        const child = spawn(
            process.execPath,
            ["--import", "tsx", path.join(PROJECT_ROOT, "ops", "main.ts"), "ephemeral", "run", "--label", "sigterm", "--backend", backendUrl, "--report", reportFile],
            {
                cwd: PROJECT_ROOT,
                stdio: ["ignore", "ignore", "pipe"],
            },
        );
        let stderr = "";
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));

        // Wait until the update has started the server, then interrupt it.
        let seen: Seen | undefined;
        const deadline = Date.now() + 5 * 60_000;
        while (!seen && Date.now() < deadline) {
            const m = /creating (\S+) \(ports (\d+)\/(\d+), state (\S+)\)/.exec(stderr);
            if (m) {
                const stackDir = path.join(m[4]!, m[1]!);
                const pids = runningPids(stackDir);
                if (pids.some((p) => p.name === "spacetimedb")) seen = { stack: m[1]!, stackDir, pids, ports: [Number(m[2]), Number(m[3])] };
            }
            await new Promise((r) => setTimeout(r, 100));
        }
        expect(seen, stderr).toBeDefined();
        child.kill("SIGTERM");
        const code = await exited;

        expect(code, stderr).toBe(143);
        expect(stderr).toContain("SIGTERM: cancelling the update, then tearing down");
        const report = JSON.parse(fs.readFileSync(reportFile, "utf8")) as RunReport;
        expect(report).toMatchObject({ stack: seen!.stack, ok: false, interrupted: true, phase: "up" });
        expect(report.error).toMatch(/update cancel+ed|interrupted/);
        expect(report.teardown).toMatchObject({ destroyed: true, removed: true });
        expect(report.teardown.leaks.leaks).toEqual([]);
        // Anything started after we looked (the proxy) is covered by the runner's own check above.
        await expectGone(seen!, path.dirname(path.dirname(seen!.stackDir)));
    });
});

describe("ephemeral down (a pull request's leftovers on close)", () => {
    const emptyProgram = async () => ({});
    const protectedProgram = async () => {
        new pulumi.ComponentResource("test:index:Data", "data", {}, { protect: true });
        return {};
    };

    async function leftover(stack: string, program: () => Promise<Record<string, unknown>>): Promise<string> {
        // Test setup only: a leftover of a given shape, made by an inline program in a scratch dir.
        const work = fs.mkdtempSync(path.join(os.tmpdir(), "iu-eph-e2e-left-"));
        const s = await LocalWorkspace.createOrSelectStack(
            { stackName: stack, projectName: "inner-universe", program },
            { workDir: work, envVars: toolEnv({ PULUMI_BACKEND_URL: backendUrl }), pulumiCommand: await pulumiCommand() },
        );
        await s.up();
        fs.rmSync(work, { recursive: true, force: true });
        return stack;
    }

    function down(args: string[]): Promise<{ code: number | null; stderr: string; reports: DownReport[] }> {
        const reportFile = path.join(backendDir, `down-${Date.now()}.json`);
        return new Promise((resolve) => {
            const child = spawn(
                process.execPath,
                ["--import", "tsx", path.join(PROJECT_ROOT, "ops", "main.ts"), "ephemeral", "down", ...args, "--backend", backendUrl, "--report", reportFile],
                { cwd: PROJECT_ROOT },
            );
            let stderr = "";
            child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
            child.on("close", (code) => resolve({ code, stderr, reports: fs.existsSync(reportFile) ? (JSON.parse(fs.readFileSync(reportFile, "utf8")) as DownReport[]) : [] }));
        });
    }

    async function stacks(): Promise<string[]> {
        return listStacks(backendUrl, PROJECT_ROOT);
    }

    it("destroys and removes every stack of the label, and only those", { timeout: 10 * 60_000 }, async () => {
        const mine = [await leftover("eph-pr-7-a-aaaa", emptyProgram), await leftover("eph-pr-7-b-bbbb", emptyProgram)];
        const other = await leftover("eph-pr-77-a-cccc", emptyProgram);
        expect(labelPrefix("pr-7")).toBe("eph-pr-7-");

        const r = await down(["--label", "pr-7"]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.reports.map((x) => [x.stack, x.ok])).toEqual(mine.map((s) => [s, true]));
        const left = await stacks();
        for (const s of mine) {
            expect(left).not.toContain(s);
            expect(backendFiles(backendUrl, s)).toEqual([]);
        }
        expect(left).toContain(other);
        expect((await down(["--stack", other])).code).toBe(0);
    });

    it("refuses a stack that is not ephemeral by name, and one holding protected resources", { timeout: 10 * 60_000 }, async () => {
        await leftover("dev", emptyProgram);
        const guarded = await leftover("eph-pr-8-a-dddd", protectedProgram);

        const byName = await down(["--stack", "dev"]);
        expect(byName.code).toBe(1);
        expect(byName.reports[0]!.error).toBe("refusing to touch stack dev: its name is not an ephemeral stack name");

        const byState = await down(["--stack", guarded]);
        expect(byState.code).toBe(1);
        expect(byState.reports[0]!.error).toMatch(
            /refusing to touch stack eph-pr-8-a-dddd: it holds protected resources: urn:pulumi:eph-pr-8-a-dddd::inner-universe::test:index:Data::data/,
        );
        expect(byState.reports[0]!.teardown!.steps).not.toContain("destroy");
        expect(await stacks()).toEqual(expect.arrayContaining(["dev", guarded]));
    });
});
