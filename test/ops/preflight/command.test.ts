import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../../ops/ports";
import type { CheckResult } from "../../../ops/preflight/checks";
import { PROJECT_ROOT_FOR_TESTS as ROOT } from "../../support/paths";

/**
 * `npm run ops -- preflight` as a person runs it, against stack files written into a temp work dir:
 * a broken environment must fail with a named reason per check, a good one must pass (this
 * builds the module for real, sharing the checkout's cargo target dir).
 */

let dir: string;
beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "iu-preflight-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function stackFile(stack: string, config: Record<string, unknown>): void {
    const lines = Object.entries(config).map(([k, v]) => `  inner-universe:${k}: ${JSON.stringify(v)}`);
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), `config:\n${lines.join("\n")}\n`);
}

interface Run {
    code: number | null;
    stdout: string;
    stderr: string;
}

function preflight(args: string[]): Promise<Run> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "ops", "main.ts"), "preflight", ...args], { cwd: ROOT });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
}

async function results(stack: string): Promise<{ run: Run; byId: Record<string, CheckResult> }> {
    const run = await preflight(["--stack", stack, "--work-dir", dir, "--json"]);
    const parsed = JSON.parse(run.stdout) as { results: CheckResult[] };
    return { run, byId: Object.fromEntries(parsed.results.map((r) => [r.id, r])) };
}

describe("preflight on a broken environment", () => {
    let listener: net.Server;
    let busyPort: number;
    beforeAll(async () => {
        listener = net.createServer();
        await new Promise<void>((r) => listener.listen(0, "127.0.0.1", r));
        busyPort = (listener.address() as net.AddressInfo).port;
    });
    afterAll(() => new Promise((r) => listener.close(r)));

    it("fails every broken check with its reason and a fix, and exits 1", async () => {
        const notADir = path.join(dir, "a-file");
        fs.writeFileSync(notADir, "");
        const notWasm = path.join(dir, "module.wasm");
        fs.writeFileSync(notWasm, "this is not wasm");
        stackFile("broken", {
            runtime: "local",
            module: { build: false, wasm_path: notWasm },
            spacetimedb: { port: busyPort, root_dir: path.join(notADir, "stdb") },
            tls: { port: await freePort() },
            local: { server_binary: "/nonexistent/bin/spacetimedb-standalone", state_dir: dir },
            server: { auth_required: false },
        });
        const { run, byId } = await results("broken");
        expect(run.code, run.stderr).toBe(1);
        expect(byId.config).toMatchObject({ status: "pass" });
        expect(byId.module).toMatchObject({ status: "fail", detail: `${notWasm} is not a WebAssembly module (no \\0asm header)` });
        expect(byId.server).toMatchObject({ status: "fail", detail: "/nonexistent/bin/spacetimedb-standalone not found" });
        expect(byId["data-dir"]).toMatchObject({ status: "fail", detail: expect.stringContaining(`${notADir} is not a directory`) });
        expect(byId.ports).toMatchObject({ status: "fail", detail: `127.0.0.1:${busyPort} (spacetimedb.port) is in use` });
        expect(byId.auth).toMatchObject({ status: "fail", detail: "server.auth_required is false and no deployer token is configured" });
        for (const id of ["module", "server", "data-dir", "ports", "auth"]) expect(byId[id]!.fix, id).toBeTruthy();
        // Not applicable to a local stack: reported as passing with a note.
        expect(byId.backups!.detail).toMatch(/^not applicable/);
        expect(byId.monitoring!.detail).toMatch(/^not applicable/);
    });

    it("an invalid config fails by key path and blocks the checks that need it", async () => {
        stackFile("invalid", { runtime: "local", spacetimedb: { port: 70000 }, tls: { prot: 8443 } });
        const { run, byId } = await results("invalid");
        expect(run.code).toBe(1);
        expect(byId.config!.status).toBe("fail");
        expect(byId.config!.detail).toContain("inner-universe:spacetimedb.port: expected 1–65535, got 70000");
        expect(byId.config!.detail).toContain('inner-universe:tls: unknown key "prot"');
        for (const id of ["module", "server", "data-dir", "ports", "auth", "backups", "monitoring"]) expect(byId[id]!.status, id).toBe("blocked");
    });

    it("a stack without a stack file fails the config check", async () => {
        const { run, byId } = await results("nosuchstack");
        expect(run.code).toBe(1);
        expect(byId.config!.detail).toMatch(/Pulumi\.nosuchstack\.yaml does not exist/);
    });

    it("a deployer token configured as a secret satisfies auth without decrypting it", async () => {
        fs.writeFileSync(
            path.join(dir, "Pulumi.tokened.yaml"),
            `config:\n  inner-universe:server: {"auth_required": false}\n  inner-universe:deployer_token:\n    secure: v1:AAAAAAAAAAAAAAAA:BBBBBBBBBBBBBBBBBBBB\n  inner-universe:local: {"server_binary": "/nonexistent"}\n  inner-universe:module: {"build": false, "wasm_path": "/nonexistent.wasm"}\n`,
        );
        const { byId } = await results("tokened");
        expect(byId.auth).toMatchObject({ status: "pass", detail: expect.stringMatching(/deployer token supplied as a secret/) });
    });

    it("without --stack it is a usage error", async () => {
        const run = await preflight([]);
        expect(run.code).toBe(2);
        expect(run.stderr).toMatch(/--stack is required/);
        expect(run.stderr).toMatch(/usage: npm run ops -- preflight --stack NAME/);
    });
});

describe("preflight on a good environment", () => {
    it("passes every check (real module build, real server binary, free ports) and exits 0", { timeout: 20 * 60_000 }, async () => {
        stackFile("good", {
            runtime: "local",
            spacetimedb: { port: await freePort() },
            tls: { port: await freePort() },
            local: { state_dir: path.join(dir, "state") },
        });
        const run = await preflight(["--stack", "good", "--work-dir", dir]);
        expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
        const lines = run.stdout.trim().split("\n");
        expect(lines[0]).toBe("preflight for stack good");
        expect(lines.slice(1, 9).map((l) => l.slice(0, 4))).toEqual(Array(8).fill("PASS"));
        expect(run.stdout).toMatch(/Rust module compiles to WebAssembly +\/.*inner_universe_module\.wasm \(\d+ bytes, sha256 [0-9a-f]{12}…\)/);
        expect(run.stdout).toMatch(/tool version 1\.2\.0;/);
        expect(lines.at(-1)).toBe("all checks passed");
    });
});
