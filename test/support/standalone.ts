import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { cacheRoot, SERVER_VERSION, standaloneStartArgs } from "../../infra/facts";

/**
 * A real spacetimedb-standalone (SERVER_VERSION) that no stack runs, for the tests that need a server of
 * their own (the providers against real HTTP, the metrics the agent scrapes, runtime remote).
 * The binary is the one toolchain/setup-tools.sh installs; without it the test fails with the fix.
 */
export function standaloneBinary(): string {
    const dirs = [...(process.env.PATH ?? "").split(path.delimiter), path.join(cacheRoot(), `spacetimedb-standalone-${SERVER_VERSION}`, "bin")];
    const found = dirs.map((d) => path.join(d, "spacetimedb-standalone")).find((f) => fs.existsSync(f));
    if (!found) throw new Error(`spacetimedb-standalone ${SERVER_VERSION} not found on PATH or in the tool cache: run \`bash toolchain/setup-tools.sh\``);
    return found;
}

export interface Standalone {
    url: string;
    child: ChildProcess;
    /** Stops the process (SIGKILL unless told: 1.2 installs no handler, any signal is abrupt) and waits for its exit. */
    stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts the server on `root` (data and JWT keys, as server-ctl.sh lays them out) and waits for /v1/ping. */
export async function startStandalone(root: string, port: number, opts: { logFile?: string; readyTimeoutMs?: number } = {}): Promise<Standalone> {
    fs.mkdirSync(path.join(root, "config"), { recursive: true });
    const logFile = opts.logFile ?? path.join(root, "server.log");
    const url = `http://127.0.0.1:${port}`;
    const args = [...standaloneStartArgs(root), "--listen-addr", `127.0.0.1:${port}`];
    const child = spawn(standaloneBinary(), args, { stdio: ["ignore", "ignore", fs.openSync(logFile, "a")], env: { ...process.env, SPACETIMEDB_DISABLE_DISK_LOGGING: "1" } });
    const stop = async (signal: NodeJS.Signals = "SIGKILL") => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        await new Promise<void>((resolve) => {
            child.once("exit", () => resolve());
            child.kill(signal);
        });
    };
    const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
    while (Date.now() < deadline) {
        const up = await fetch(`${url}/v1/ping`, { signal: AbortSignal.timeout(500) }).then(
            (r) => r.status === 200,
            () => false,
        );
        if (up) return { url, child, stop };
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 200));
    }
    await stop();
    throw new Error(`spacetimedb-standalone did not start on ${url}: ${fs.readFileSync(logFile, "utf8")}`);
}
