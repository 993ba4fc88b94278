/**
 * The design seed's deployment checklist as a command:
 *   npm run preflight -- --stack dev [--work-dir DIR] [--json]
 * Reads Pulumi.<stack>.yaml (through the Automation API's stack settings: nothing decrypted, no
 * backend needed), gathers facts — builds the module, asks the server binary for its version,
 * probes the data dir and the ports — and prints one PASS/FAIL line per check with a fix.
 * Exit 1 when any check fails; 2 on bad usage.
 */
import { execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { parseArgs } from "node:util";
import type { StackConfig } from "../infra/config";
import { PROJECT_ROOT, toolEnv } from "./lib/engine";
import { readStackFile } from "./lib/ephemeral-engine";
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
} from "./lib/preflight-checks";

async function main(argv: string[]): Promise<number> {
    const { values } = parseArgs({ args: argv, options: { stack: { type: "string" }, "work-dir": { type: "string" }, json: { type: "boolean", default: false } } });
    const stack = values.stack;
    if (!stack) {
        console.error("usage: npm run preflight -- --stack NAME [--work-dir DIR] [--json]");
        return 2;
    }
    const workDir = path.resolve(values["work-dir"] ?? PROJECT_ROOT);
    const json = values.json!;
    const env = safeToolEnv();

    const file = await readStackFile(workDir, stack).catch((e: Error) => ({ missing: `cannot read Pulumi.${stack}.yaml through the Automation API: ${e.message}` }));
    const { result: config, cfg } = checkConfig(file, { stack, projectRoot: PROJECT_ROOT });
    const results: CheckResult[] = [config];
    if (!cfg) {
        results.push(...(["module", "server", "data-dir", "ports", "auth", "backups", "monitoring"] as const).map(blocked));
    } else {
        if (!json) process.stderr.write("preflight: building the module (first build takes minutes)…\n");
        results.push(
            checkModule(await moduleFact(cfg, env)),
            checkServer(cfg, await serverFact(cfg, env)),
            checkDataDir(dataDirFact(cfg)),
            checkPorts(cfg, await portFacts(cfg)),
            checkAuth(cfg, "secureKeys" in file ? file.secureKeys : []),
            checkBackups(cfg),
            checkMonitoring(cfg),
        );
    }
    process.stdout.write(json ? `${JSON.stringify({ stack, results: ordered(results) }, null, 2)}\n` : `${render(stack, results)}\n`);
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

function moduleFact(cfg: StackConfig, env: NodeJS.ProcessEnv): Promise<ModuleFact> {
    if (!cfg.module.build) {
        const wasm = path.resolve(cfg.projectRoot, cfg.module.wasm_path ?? "");
        const exists = fs.existsSync(wasm) && fs.statSync(wasm).isFile();
        const magicOk = exists && readHead(wasm, 4).equals(Buffer.from([0x00, 0x61, 0x73, 0x6d]));
        return Promise.resolve({ kind: "prebuilt", path: wasm, exists, magicOk });
    }
    return new Promise((resolve) => {
        const child = spawn("bash", [path.join(PROJECT_ROOT, "scripts", "build-module.sh"), "--target-dir", cfg.module.target_dir], {
            env: { ...env, IU_MODULE_DIR: cfg.module.dir },
            cwd: cfg.projectRoot,
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
        child.on("error", (e) => resolve({ kind: "built", exitCode: 127, stdout, stderrTail: e.message }));
        child.on("close", (code) => resolve({ kind: "built", exitCode: code ?? 1, stdout, stderrTail: stderr }));
    });
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
    if (cfg.runtime === "docker") return { kind: "elsewhere", where: cfg.spacetimedb.in_memory ? "in memory (container)" : `docker volume inner-universe-${cfg.stack}-stdb` };
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

main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
        console.error(`preflight: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        process.exit(1);
    },
);
