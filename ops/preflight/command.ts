/**
 * The design seed's deployment checklist as a command (`npm run ops -- preflight --stack dev`).
 * Reads Pulumi.<stack>.yaml (through the Automation API's stack settings: nothing decrypted, no
 * backend needed), gathers facts — builds the module, asks the server binary for its version,
 * probes the data dir and the ports — and prints one PASS/FAIL line per check with a fix.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import type { StackConfig } from "../../infra/config";
import { containerVolumeName } from "../../infra/facts";
import { buildWasm, WasmBuildError } from "../../infra/lib/wasmBuild";
import type { Command, Context } from "../cli";
import { PROJECT_ROOT, toolEnv } from "../env";
import { readStackFile } from "../ephemeral/engine";
import {
    blocked,
    type CheckResult,
    checkAuth,
    checkBackups,
    checkConfig,
    checkDataDir,
    checkModule,
    checkMonitoring,
    checkPorts,
    checkServer,
    type DataDirFact,
    exitCodeOf,
    type ModuleFact,
    ordered,
    type PortFact,
    pidFiles,
    portsToCheck,
    render,
    type ServerFact,
} from "./checks";

export const preflightCommand: Command = {
    path: ["preflight"],
    summary: "the deployment checklist: config, module, server, data dir, ports, auth, backups, monitoring — each pass/fail with a fix",
    details: "Reads Pulumi.<stack>.yaml without decrypting anything; builds the module. Exit 1 when any check fails.",
    examples: ["npm run ops -- preflight --stack dev", "npm run ops -- preflight --stack prod --json"],
    stack: "required",
    json: true,
    flags: { "work-dir": { type: "string", value: "DIR", help: "the project directory whose Pulumi.<stack>.yaml is read (default: this checkout)" } },
    run: (ctx) => preflight(ctx.stack, path.resolve(typeof ctx.flags["work-dir"] === "string" ? ctx.flags["work-dir"] : PROJECT_ROOT), ctx),
};

async function preflight(stack: string, workDir: string, ctx: Context): Promise<number> {
    const env = safeToolEnv();

    const file = await readStackFile(workDir, stack).catch((e: Error) => ({ missing: `cannot read Pulumi.${stack}.yaml through the Automation API: ${e.message}` }));
    const { result: config, cfg } = checkConfig(file, { stack, projectRoot: PROJECT_ROOT });
    const results: CheckResult[] = [config];
    if (!cfg) {
        results.push(...(["module", "server", "data-dir", "ports", "auth", "backups", "monitoring"] as const).map(blocked));
    } else {
        ctx.progress("preflight: building the module (first build takes minutes)…");
        results.push(
            checkModule(moduleFact(cfg)),
            checkServer(cfg, await serverFact(cfg, env)),
            checkDataDir(dataDirFact(cfg)),
            checkPorts(cfg, await portFacts(cfg)),
            checkAuth(cfg, "secureKeys" in file ? file.secureKeys : []),
            checkBackups(cfg),
            checkMonitoring(cfg),
        );
    }
    ctx.print({ stack, results: ordered(results) }, render(stack, results));
    return exitCodeOf(results);
}

/** The pinned tools when they are installed; preflight must still report (not crash) when they are not. */
function safeToolEnv(): NodeJS.ProcessEnv {
    try {
        return { ...process.env, ...toolEnv() };
    } catch {
        return process.env;
    }
}

function moduleFact(cfg: StackConfig): ModuleFact {
    if (!cfg.module.build) {
        const wasm = path.resolve(cfg.projectRoot, cfg.module.wasm_path ?? "");
        const exists = fs.existsSync(wasm) && fs.statSync(wasm).isFile();
        const magicOk = exists && readHead(wasm, 4).equals(Buffer.from([0x00, 0x61, 0x73, 0x6d]));
        return { kind: "prebuilt", path: wasm, exists, magicOk };
    }
    try {
        const built = buildWasm({ moduleDir: path.resolve(cfg.projectRoot, cfg.module.dir), targetDir: path.resolve(cfg.projectRoot, cfg.module.target_dir) });
        return { kind: "built", exitCode: 0, stdout: `${JSON.stringify(built)}\n`, stderrTail: "" };
    } catch (e) {
        const failed = e instanceof WasmBuildError ? e : new WasmBuildError((e as Error).message, 1, (e as Error).message);
        return { kind: "built", exitCode: failed.exitCode, stdout: "", stderrTail: failed.stderrTail || failed.message };
    }
}

function readHead(file: string, n: number): Buffer {
    const fd = fs.openSync(file, "r");
    try {
        const buf = Buffer.alloc(n);
        const read = fs.readSync(fd, buf, 0, n, 0);
        return buf.subarray(0, read);
    } finally {
        fs.closeSync(fd);
    }
}

async function serverFact(cfg: StackConfig, env: NodeJS.ProcessEnv): Promise<ServerFact> {
    if (cfg.runtime === "aws") return { kind: "remote" };
    if (cfg.runtime === "docker") {
        const present = cfg.container.pull ? undefined : await succeeds("docker", ["image", "inspect", cfg.container.image], env);
        return { kind: "image", image: cfg.container.image, pull: cfg.container.pull, ...(present === undefined ? {} : { presentLocally: present }) };
    }
    const binary = cfg.local.server_binary ?? "spacetimedb-standalone";
    const resolved = which(binary, env.PATH ?? "");
    if (!resolved) return { kind: "binary", binary };
    return new Promise((resolve) => {
        execFile(resolved, ["--version"], { env, timeout: 15_000 }, (err, stdout, stderr) => {
            if (err) resolve({ kind: "binary", binary, resolved, error: (stderr || err.message).trim() });
            else resolve({ kind: "binary", binary, resolved, versionOutput: `${stdout}${stderr}`.trim() });
        });
    });
}

function which(binary: string, pathVar: string): string | undefined {
    const candidates = binary.includes("/")
        ? [path.resolve(binary)]
        : pathVar
              .split(":")
              .filter(Boolean)
              .map((d) => path.join(d, binary));
    return candidates.find((c) => {
        try {
            fs.accessSync(c, fs.constants.X_OK);
            return fs.statSync(c).isFile();
        } catch {
            return false;
        }
    });
}

function succeeds(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<boolean> {
    return new Promise((resolve) => execFile(cmd, args, { env, timeout: 15_000 }, (err) => resolve(!err)));
}

/** The server root, or the nearest existing ancestor it would be created under, must take a file. */
function dataDirFact(cfg: StackConfig): DataDirFact {
    if (cfg.runtime === "aws") return { kind: "elsewhere", where: `the data volume mounted at ${cfg.spacetimedb.root_dir} on the instance` };
    if (cfg.runtime === "docker") return { kind: "elsewhere", where: cfg.spacetimedb.in_memory ? "in memory (container)" : `docker volume ${containerVolumeName(cfg.stack)}` };
    const dir = cfg.spacetimedb.root_dir;
    let probed = dir;
    while (!fs.existsSync(probed) && path.dirname(probed) !== probed) probed = path.dirname(probed);
    try {
        if (!fs.statSync(probed).isDirectory()) return { kind: "local", dir, probed, writable: false, error: `${probed} is not a directory` };
        const probe = path.join(probed, `.iu-preflight-${process.pid}`);
        fs.writeFileSync(probe, "");
        fs.rmSync(probe);
        return { kind: "local", dir, probed, writable: true };
    } catch (e) {
        return { kind: "local", dir, probed, writable: false, error: (e as NodeJS.ErrnoException).code ?? (e as Error).message };
    }
}

async function portFacts(cfg: StackConfig): Promise<PortFact[]> {
    const pids = pidFiles(cfg);
    const facts: PortFact[] = [];
    for (const p of portsToCheck(cfg)) {
        const error = await bindError(p.address, p.port);
        const own = error === "EADDRINUSE" ? ownProcess(p.role === "tls" ? pids.tls : pids.spacetimedb, p.role === "tls" ? "caddy" : "spacetimedb") : undefined;
        facts.push({ ...p, free: error === undefined, ...(own ? { ownPid: own } : {}), ...(error && error !== "EADDRINUSE" ? { error } : {}) });
    }
    return facts;
}

function bindError(address: string, port: number): Promise<string | undefined> {
    return new Promise((resolve) => {
        const srv = net.createServer();
        srv.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
        srv.listen({ host: address, port, exclusive: true }, () => srv.close(() => resolve(undefined)));
    });
}

/** The stack's own server/proxy holding the port is fine: `up` keeps or restarts it. */
function ownProcess(pidFile: string, name: string): number | undefined {
    try {
        const pid = Number(fs.readFileSync(pidFile, "utf8").trim());
        const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
        return cmd.includes(name) ? pid : undefined;
    } catch {
        return undefined;
    }
}
